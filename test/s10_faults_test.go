//go:build e2e

package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// faultCancelLimit is the fault templates' timeout plus five seconds.
const faultCancelLimit = 10*time.Second + 5*time.Second

// The promise under faults: a build either makes its container or leaves
// the host as it found it, and never leaves a machine running.
func TestFaults(t *testing.T) {
	Scenario(t, Long)
	h := BootHost(t)
	archive := h.baseArchive()
	h.BaseContainer()

	// An image whose systemd never accepts commands: an early start-up
	// job that hangs, so basic.target, and the bus after it, never come.
	h.Run("machinectl", "clone", "base", "hangs-base")
	writeUnit(t, h.machine("hangs-base", ""), "hang.service", "sysinit.target",
		"[Unit]\nDescription=hangs early boot\nDefaultDependencies=no\nBefore=sysinit.target\n[Service]\nType=oneshot\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=sysinit.target\n")
	// An image that boots into emergency mode: an early unit fails and
	// asks for it, as a failed local mount does.
	h.Run("machinectl", "clone", "base", "emergency-base")
	writeUnit(t, h.machine("emergency-base", ""), "fail-early.service", "sysinit.target",
		"[Unit]\nDescription=fails early boot\nDefaultDependencies=no\nBefore=sysinit.target\nOnFailure=emergency.target\nOnFailureJobMode=replace-irreversibly\n[Service]\nType=oneshot\nExecStart=/bin/false\n")
	// An image without systemd.
	h.Run("machinectl", "clone", "base", "nosystemd-base")
	if err := os.Remove(h.machine("nosystemd-base", "usr/lib/systemd/systemd")); err != nil {
		t.Fatal(err)
	}

	dir := h.Project("faults", map[string]string{"faults.pkr.hcl": `
source "nspawn" "hangs" {
  network = "host"
  clone   = "hangs-base"
  timeout = "10s"
}
source "nspawn" "nosystemd" {
  network = "host"
  clone   = "nosystemd-base"
  timeout = "10s"
}
source "nspawn" "emergency" {
  clone   = "emergency-base"
  network = "host"
  timeout = "10s"
}
# The default network, a veth link, which this host cannot make.
source "nspawn" "veth" {
  clone   = "base"
  timeout = "10s"
}
source "nspawn" "stubborn" {
  network = "host"
  clone   = "base"
  timeout = "10s"
}
source "nspawn" "slow-import" {
  network = "host"
  import  = "` + archive + `"
  timeout = "10s"
}
source "nspawn" "long" {
  network = "host"
  clone   = "base"
  timeout = "10s"
}
build {
  sources = ["source.nspawn.hangs", "source.nspawn.nosystemd", "source.nspawn.slow-import", "source.nspawn.long"]
  provisioner "shell" { inline = ["echo provisioning now", "sleep 600"] }
}
build {
  name    = "boot"
  sources = ["source.nspawn.emergency", "source.nspawn.veth"]
  provisioner "shell" { inline = ["true"] }
}
build {
  name    = "stubborn"
  sources = ["source.nspawn.stubborn"]
  provisioner "shell" { inline = ["systemctl mask poweroff.target", "echo masked"] }
}
`})
	images := h.images()

	t.Run("boot never finishes", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=*.hangs", ".")
		// The journal's last lines show how far it got.
		expectFailure(t, r, "did not accept commands within timeout 10s", `raise "timeout"`,
			"its journal (journalctl -u systemd-nspawn@hangs) ends:")
		if r.took > 10*time.Second+30*time.Second {
			t.Errorf("took %s; want about the 10s timeout", r.took)
		}
		h.leftAsFound(images, "hangs")
	})
	t.Run("image without systemd", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=*.nosystemd", ".")
		expectFailure(t, r, "stopped while booting", "its journal (journalctl -u systemd-nspawn@nosystemd) ends:",
			"execv(/usr/lib/systemd/systemd, /lib/systemd/systemd, /sbin/init) failed: No such file or directory")
		h.leftAsFound(images, "nosystemd")
	})
	t.Run("boot into emergency mode", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=*.emergency", ".")
		expectFailure(t, r, "did not accept commands within timeout 10s", "You are in emergency mode")
		h.leftAsFound(images, "emergency")
	})
	// Real hosts make the link; this one lacks CAP_NET_ADMIN (README,
	// Tests): nspawn's own reason must reach the user.
	t.Run("veth link refused", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=*.veth", ".")
		expectFailure(t, r, "start veth: machinectl start failed", "Failed to add new veth interfaces")
		h.leftAsFound(images, "veth")
	})
	t.Run("container ignores poweroff", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=stubborn.*", ".")
		expectSuccess(t, r)
		if !strings.Contains(r.out, "did not stop within timeout 10s") || !strings.Contains(r.out, "terminating container stubborn") {
			t.Errorf("no terminate warning in:\n%s", lastLines(r.out, 15))
		}
		h.noMachinesRunning()
		h.Run("machinectl", "remove", "stubborn")
	})
	// Ctrl-C at each remaining step: import, clone, the boot wait, shutdown.
	for _, tc := range []struct{ name, only, waitFor string }{
		{"cancel during import", "*.slow-import", "Importing"},
		{"cancel during clone", "*.long", "Cloning base"},
		{"cancel during the boot wait", "*.hangs", "Starting container"},
		{"cancel during shutdown", "stubborn.*", "Powering off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.cancelBuild(t, dir, tc.waitFor, time.Minute, faultCancelLimit, "-only="+tc.only, ".")
			built := strings.TrimSuffix(strings.TrimPrefix(tc.only, "*."), ".*")
			h.leftAsFound(images, built)
		})
	}
	t.Run("second interrupt", func(t *testing.T) {
		p := h.startPacker(dir, "build", "-only=*.long", ".")
		p.waitFor(t, "provisioning now", time.Minute)
		p.interruptTwice(t, faultCancelLimit)
		h.leftAsFound(images, "long")
	})
	t.Run("machined restarted mid-build", func(t *testing.T) {
		p := h.startPacker(dir, "build", "-only=*.long", ".")
		p.waitFor(t, "provisioning now", time.Minute)
		h.Run("systemctl", "restart", "systemd-machined")
		time.Sleep(2 * time.Second)
		p.interrupt(t, faultCancelLimit)
		h.leftAsFound(images, "long")
	})
}

// leftAsFound checks that a failed or cancelled build left the host as it
// found it: the same images, nothing of name on disk, nothing running,
// none of the tools it runs still running.
func (h *Host) leftAsFound(images []string, name string) {
	h.t.Helper()
	if now := h.images(); strings.Join(now, " ") != strings.Join(images, " ") {
		h.t.Errorf("images changed: %v -> %v", images, now)
	}
	var leftovers []string
	for _, pattern := range []string{name, name + ".raw", ".#" + name + "*"} {
		found, _ := filepath.Glob(h.Path("/var/lib/machines/" + pattern))
		leftovers = append(leftovers, found...)
	}
	if len(leftovers) > 0 {
		h.t.Errorf("left on disk: %v", leftovers)
	}
	h.noMachinesRunning()
	h.noToolsRunning()
}

// noToolsRunning fails the test if a tool the plugin runs, or the plugin,
// is still running.
func (h *Host) noToolsRunning() {
	h.t.Helper()
	// The plugin's name is longer than the 15 characters pgrep -x sees.
	patterns := [][]string{{"-x", "debootstrap"}, {"-x", "systemd-run"}, {"-x", "machinectl"},
		{"-x", "zstd"}, {"-x", "packer"}, {"-f", "packer-(builder|plugin)-nspawn"}}
	for _, p := range patterns {
		// Zombies have exited; only a process that can still run counts.
		out, err := h.Cmd(h.t.Context(), "pgrep", "-a", "--runstates", "D,R,S,T,t", p[0], p[1]).Output()
		var exitErr *exec.ExitError
		switch {
		case err == nil:
			h.t.Errorf("%s still running: %s", p[1], strings.TrimSpace(string(out)))
		case !errors.As(err, &exitErr) || exitErr.ExitCode() != 1:
			h.t.Errorf("pgrep %s: %v", p[1], err)
		}
	}
}

// writeUnit installs the unit name in the image at root, wanted by target.
func writeUnit(t *testing.T, root, name, target, body string) {
	t.Helper()
	dir := filepath.Join(root, "etc/systemd/system")
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	wants := filepath.Join(dir, target+".wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../"+name, filepath.Join(wants, name)); err != nil {
		t.Fatal(err)
	}
}
