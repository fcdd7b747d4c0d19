//go:build e2e

package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// foreignTemplate builds, on this amd64 machine, what users build for
// their Raspberry Pis and ARM servers: bookworm arm64 with both
// bootstrappers (provisioned, one exported), bookworm armhf, copies of the
// arm64 one (an import of its export and a clone) whose architecture is
// read from the image, and a trixie arm64 one, which qemu-user cannot
// boot.
const foreignTemplate = `
variable "mirror" { type = string }
source "nspawn" "arm64-deb" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  arch    = "arm64"
  timeout = "90s"
  export  = ["arm64.tar.zst"]
}
source "nspawn" "arm64-mm" {
  network      = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  arch         = "arm64"
  bootstrapper = "mmdebstrap"
  timeout      = "90s"
}
source "nspawn" "armhf-deb" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  arch    = "armhf"
  timeout = "90s"
}
build {
  name    = "arm64"
  sources = ["source.nspawn.arm64-deb", "source.nspawn.arm64-mm"]
  provisioner "shell" {
    inline = ["echo machine=$(uname -m)", "apt-get install -y --no-install-recommends hello", "hello"]
  }
  provisioner "file" {
    source      = "upload.txt"
    destination = "/root/upload.txt"
  }
}
build {
  name    = "armhf"
  sources = ["source.nspawn.armhf-deb"]
  provisioner "shell" { inline = ["echo machine=$(uname -m)"] }
}
source "nspawn" "arm64-back" {
  import  = "arm64.tar.zst"
  network = "host"
  timeout = "90s"
}
source "nspawn" "arm64-clone" {
  clone   = "arm64-deb"
  network = "host"
  timeout = "90s"
}
build {
  name    = "copies"
  sources = ["source.nspawn.arm64-back", "source.nspawn.arm64-clone"]
  provisioner "shell" { inline = ["echo machine=$(uname -m) in $(hostname)", "hello"] }
}
source "nspawn" "trixie-arm64" {
  network = "host"
  suite   = "trixie"
  variant = "minbase"
  mirror  = var.mirror
  arch    = "arm64"
  timeout = "5m"
}
build {
  name    = "trixie"
  sources = ["source.nspawn.trixie-arm64"]
}
`

// Foreign architectures through qemu-user: the harness registers the
// interpreters on the machine (a fresh one has none) and removes them at
// the run's end.
func TestForeignArchitectures(t *testing.T) {
	// One scenario, one host: a second foreign host, stopping, would take
	// the machine's interpreter registrations with it.
	Scenario(t, Long, WithoutBase)
	h := BootHostOf(t, Debian12Foreign)
	// Three emulated bootstraps, which take turns on the host's package
	// cache, beside the other scenarios, can take more than the usual 20
	// minutes on a fresh machine's first run.
	h.runTimeout = 45 * time.Minute
	dir := h.Project("foreign", map[string]string{"foreign.pkr.hcl": foreignTemplate, "upload.txt": "uploaded from amd64\n"})
	mirror := "mirror=" + DebianMirror()

	t.Run("arm64 and armhf bases, provisioned, powered off over the bus", func(t *testing.T) {
		r := h.packer(dir, "build", "-var", mirror, "-only=arm64.*,armhf.*", ".")
		expectSuccess(t, r)
		for _, want := range []string{"arm64-deb: machine=aarch64", "arm64-mm: machine=aarch64", "armhf-deb: machine=armv7l",
			"arm64-deb: Hello, world!", "arm64-mm: Hello, world!",
			"Container arm64-deb is arm64: this amd64 host runs it through its qemu-user emulator."} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		for _, name := range []string{"arm64-deb", "arm64-mm", "armhf-deb"} {
			h.poweredOffCleanly(t, name, r.out)
		}
		for _, name := range []string{"arm64-deb", "arm64-mm"} {
			fileContains(t, h.machine(name, "root/upload.txt"), "uploaded from amd64")
			fileContains(t, h.machine(name, "var/lib/dpkg/status"), "Package: hello")
		}
		if !exists(h.Path(dir + "/arm64.tar.zst")) {
			t.Errorf("no arm64.tar.zst exported")
		}
	})
	t.Run("import of the export and clone, arch read from the image", func(t *testing.T) {
		r := h.packer(dir, "build", "-var", mirror, "-only=copies.*", ".")
		expectSuccess(t, r)
		for _, name := range []string{"arm64-back", "arm64-clone"} {
			if !strings.Contains(r.out, name+": machine=aarch64 in "+name) || !strings.Contains(r.out, name+": Hello, world!") {
				t.Errorf("%s did not run as aarch64 with hello installed:\n%s", name, lastLines(r.out, 30))
			}
			if !strings.Contains(r.out, "Container "+name+" is arm64") {
				t.Errorf("%s: the image's arch was not read", name)
			}
			h.poweredOffCleanly(t, name, r.out)
		}
	})
	t.Run("trixie arm64 fails at start with the cause", func(t *testing.T) {
		images := h.images()
		p := h.startPacker(dir, "build", "-var", mirror, "-only=trixie.*", ".")
		p.waitFor(t, "Starting container trixie-arm64", 20*time.Minute)
		// Debian's packer prints no times: the harness times the lines.
		started := time.Now()
		p.waitFor(t, "cannot start its services under this host's emulator", 5*time.Minute)
		if took := time.Since(started); took > time.Minute {
			t.Errorf("the failure came %s after the start; want it long before the 5m timeout", took.Round(time.Second))
		}
		failed := time.Now()
		select {
		case <-p.done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("packer still runs 2 minutes after the failure; output:\n%s", lastLines(p.out.String(), 30))
		}
		// The container is killed, not asked to halt: the halt signal
		// would reach it shifted, and nspawn would wait for it.
		if took := time.Since(failed); took > 30*time.Second {
			t.Errorf("the failed build took %s to clean up; want seconds", took.Round(time.Second))
		}
		expectFailure(t, result{out: p.out.String(), code: p.cmd.ProcessState.ExitCode()},
			"start trixie-arm64: the container's systemd cannot start its services under this host's emulator",
			"Failed to spawn executor", "Debian 13 trixie and later", "build bookworm or older for arm64",
			"its journal (journalctl -u systemd-nspawn@trixie-arm64) ends:")
		h.leftAsFound(images, "trixie-arm64")
	})
	h.noMachinesRunning()
}

// poweredOffCleanly checks that the build's output and the container's
// console show a clean poweroff: no terminate fallback, no emergency mode
// (what SIGRTMIN+4 means to an emulated systemd).
func (h *Host) poweredOffCleanly(t *testing.T, name, out string) {
	t.Helper()
	if !strings.Contains(out, "Container "+name+" is off.") {
		t.Errorf("%s: no clean poweroff in the output", name)
	}
	if regexp.MustCompile(`(?i)terminating container ` + regexp.QuoteMeta(name)).MatchString(out) {
		t.Errorf("%s: terminated, not powered off:\n%s", name, lastLines(out, 30))
	}
	console := h.Run("journalctl", "--no-pager", "--output=cat", "-u", "systemd-nspawn@"+name+".service")
	if strings.Contains(console, "emergency") || !strings.Contains(console, "Reached target poweroff.target") || !strings.Contains(console, "Powering off.") {
		t.Errorf("%s: its console shows no clean poweroff:\n%s", name, lastLines(console, 20))
	}
}
