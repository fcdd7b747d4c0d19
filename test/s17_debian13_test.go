//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// A Debian 13 user's host: trixie's systemd 257 with systemd-resolved, and
// bookworm's packer package installed with dpkg -i, as trixie has none.
func TestDebian13Host(t *testing.T) {
	Scenario(t, OnDebian13)
	h := BootHostOf(t, Debian13)
	if v := h.Run("systemctl", "--version"); !strings.Contains(v, "systemd 257") {
		t.Fatalf("not systemd 257: %s", lastLines(v, 1))
	}
	if v := h.Run("packer", "version"); !strings.Contains(v, "Packer v1.6.6") {
		t.Fatalf("not Debian's packer 1.6.6: %s", v)
	}
	archive := h.baseArchive()
	h.BaseContainer()
	dir := h.Project("d13", map[string]string{
		"d13.pkr.hcl": `
variable "mirror" {
  type    = string
  default = ""
}
source "nspawn" "d13-base" {
  suite   = "trixie"
  variant = "minbase"
  mirror  = var.mirror
  network = "host"
  timeout = "90s"
}
build {
  sources = ["source.nspawn.d13-base"]
  provisioner "shell" {
    inline = ["echo out-line from $(hostname)", "echo err-line >&2"]
  }
  provisioner "file" {
    source      = "a b 'c' \"d\" $(touch pwned)"
    destination = "/root/a b 'c' \"d\" $(touch pwned)"
  }
  provisioner "file" {
    source      = "/etc/os-release"
    destination = "os-release.txt"
    direction   = "download"
  }
}
source "nspawn" "d13-clone" {
  clone   = "base"
  network = "host"
  timeout = "60s"
}
source "nspawn" "d13-import" {
  import  = "` + archive + `"
  network = "host"
  timeout = "60s"
}
build {
  name    = "copies"
  sources = ["source.nspawn.d13-clone", "source.nspawn.d13-import"]
  provisioner "shell" { inline = ["echo made $(hostname) > /root/made"] }
}
source "nspawn" "d13-fails" {
  clone   = "base"
  network = "host"
  timeout = "60s"
}
build {
  name    = "failing"
  sources = ["source.nspawn.d13-fails"]
  provisioner "shell" { inline = ["echo about to fail", "exit 3"] }
}
`,
		weirdName: "weird content\n",
	})

	t.Run("debootstrap base with output, upload and download", func(t *testing.T) {
		r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), "-only=*.d13-base", ".")
		expectSuccess(t, r)
		for _, want := range []string{"d13-base: out-line from d13-base", "d13-base: err-line"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		fileContains(t, h.machine("d13-base", "root/"+weirdName), "weird content")
		fileContains(t, h.machine("d13-base", "etc/os-release"), "trixie")
		fileContains(t, h.Path(dir+"/os-release.txt"), "trixie")
		if exists(h.Path(dir+"/pwned")) || exists(h.machine("d13-base", "pwned")) {
			t.Errorf("a file name reached a shell")
		}
	})
	t.Run("clone and import of .tar.zst", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=copies.*", ".")
		expectSuccess(t, r)
		for _, name := range []string{"d13-clone", "d13-import"} {
			fileContains(t, h.machine(name, "root/made"), "made "+name)
		}
		// systemd 257 redirects machinectl's transfer verbs to importctl
		// with a warning; the plugin calls importctl itself.
		if strings.Contains(r.out, "importctl") && strings.Contains(r.out, "Redirecting") {
			t.Errorf("the import went through machinectl's redirect:\n%s", lastLines(r.out, 20))
		}
	})
	t.Run("existing container needs -force", func(t *testing.T) {
		marker := h.machine("d13-clone", "root/made")
		expectFailure(t, h.packer(dir, "build", "-only=*.d13-clone", "."), `container "d13-clone" already exists`, "-force")
		if err := os.WriteFile(marker, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		expectSuccess(t, h.packer(dir, "build", "-force", "-only=*.d13-clone", "."))
		fileContains(t, marker, "made d13-clone")
	})
	// importctl's transfer list tells the plugin when a cancelled import
	// is over, so its partial image can go.
	t.Run("cancel during import", func(t *testing.T) {
		images := h.images()
		h.cancelBuild(t, dir, "Importing", time.Minute, faultCancelLimit, "-only=*.d13-import", "-force", ".")
		h.leftAsFound(withoutImage(images, "d13-import"), "d13-import")
	})
	t.Run("failing provisioner cleans up", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=failing.*", ".")
		expectFailure(t, r, "about to fail", "exit status: 3")
		if h.hasImage("d13-fails") {
			t.Errorf("the failed build left its container")
		}
		if !h.hasImage("base") {
			t.Errorf("the failed build removed base, which it did not create")
		}
	})
	h.noMachinesRunning()
}

// withoutImage is images less name.
func withoutImage(images []string, name string) []string {
	var rest []string
	for _, i := range images {
		if i != name {
			rest = append(rest, i)
		}
	}
	return rest
}
