//go:build e2e

package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const weirdName = `a b 'c' "d" $(touch pwned)`

func TestDebootstrapBase(t *testing.T) {
	Scenario(t, WithoutBase)
	h := BootHost(t)
	dir := h.Project("deboot", map[string]string{
		"template.pkr.hcl": `
variable "mirror" { type = string }
source "nspawn" "deboot" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}
build {
  sources = ["source.nspawn.deboot"]
  provisioner "shell" {
    inline = [
      "echo out-line from $(hostname)",
      "echo err-line >&2",
      "hostname > /root/hostname.txt",
    ]
  }
  provisioner "file" {
    source      = "a b 'c' \"d\" $(touch pwned)"
    destination = "/root/a b 'c' \"d\" $(touch pwned)"
  }
  provisioner "file" {
    source      = "tree"
    destination = "/srv/up1"
  }
  provisioner "file" {
    source      = "tree/"
    destination = "/srv/up2"
  }
  provisioner "file" {
    source      = "/etc/os-release"
    destination = "os-release.txt"
    direction   = "download"
  }
  provisioner "file" {
    source      = "/etc/apt/"
    destination = "aptdir/"
    direction   = "download"
  }
}`,
		weirdName: "weird content\n",
	})
	if err := os.MkdirAll(h.Path(dir+"/tree/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Path(dir+"/tree/sub/f"), []byte("tree file\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), ".")
	expectSuccess(t, r)
	m := func(p string) string { return h.machine("deboot", p) }

	t.Run("provisioner output reaches packer", func(t *testing.T) {
		for _, want := range []string{"deboot: out-line from deboot", "deboot: err-line"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})
	t.Run("hostname is the build name", func(t *testing.T) {
		fileContains(t, m("root/hostname.txt"), "deboot\n")
	})
	t.Run("file uploads, awkward name executes nothing", func(t *testing.T) {
		fileContains(t, m("root/"+weirdName), "weird content")
		for _, p := range []string{m("pwned"), m("root/pwned"), h.Path("pwned"), h.Path(dir + "/pwned")} {
			if exists(p) {
				t.Errorf("%s exists: a file name was run as a command", p)
			}
		}
	})
	t.Run("directory uploads follow the trailing-slash rule", func(t *testing.T) {
		fileContains(t, m("srv/up1/tree/sub/f"), "tree file")
		fileContains(t, m("srv/up2/sub/f"), "tree file")
	})
	t.Run("downloads", func(t *testing.T) {
		fileContains(t, h.Path(dir+"/os-release.txt"), "bookworm")
		if !exists(h.Path(dir + "/aptdir/sources.list")) {
			t.Errorf("directory download lacks sources.list")
		}
	})
	t.Run("machine-id emptied", func(t *testing.T) {
		if b, err := os.ReadFile(m("etc/machine-id")); err != nil || len(b) != 0 {
			t.Errorf("etc/machine-id: %q (%v); want empty", b, err)
		}
		if exists(m("var/lib/dbus/machine-id")) {
			t.Errorf("var/lib/dbus/machine-id still there")
		}
	})
	t.Run("no etc/hostname", func(t *testing.T) {
		if exists(m("etc/hostname")) {
			t.Errorf("etc/hostname exists")
		}
	})
	t.Run("dpkg safe again: no unsafe-io drop-in", func(t *testing.T) {
		if exists(m("etc/dpkg/dpkg.cfg.d/00nspawn-unsafe-io")) {
			t.Errorf("the drop-in for the install stayed in the image")
		}
	})
	t.Run("networkd and resolved enabled", func(t *testing.T) {
		if !exists(m("etc/systemd/system/multi-user.target.wants/systemd-networkd.service")) {
			t.Errorf("systemd-networkd not enabled")
		}
		resolved, _ := filepath.Glob(m("etc/systemd/system/*.wants/systemd-resolved.service"))
		if len(resolved) == 0 {
			t.Errorf("systemd-resolved not enabled")
		}
	})
	t.Run("apt without recommends, docs excluded", func(t *testing.T) {
		fileContains(t, m("etc/apt/apt.conf.d/90nspawn-no-recommends"), `APT::Install-Recommends "false";`)
		fileContains(t, m("etc/dpkg/dpkg.cfg.d/90nspawn-no-docs"), "path-exclude=/usr/share/doc/*")
		copyrights, others := 0, []string{}
		_ = filepath.WalkDir(m("usr/share/doc"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if filepath.Base(p) == "copyright" {
					copyrights++
				} else {
					others = append(others, p)
				}
			}
			return nil
		})
		if copyrights == 0 || len(others) > 0 {
			t.Errorf("usr/share/doc: %d copyright files (want some), other files %q (want none)", copyrights, others)
		}
	})
	h.noMachinesRunning()
}
