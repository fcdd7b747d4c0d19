//go:build e2e

package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// awkwardName is a file name a shell would trip over; if anything pastes
// it into a shell line unquoted, the $(...) creates a file called pwned.
const awkwardName = `a b 'c' "d" $(touch pwned)`

const debootstrapTemplate = `
variable "mirror" { type = string }

source "nspawn" "deboot" {
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}

build {
  sources = ["source.nspawn.deboot"]

  provisioner "shell" {
    inline = [
      "echo stdout-line from $(hostname)",
      "echo stderr-line >&2",
      "hostname > /root/hostname.txt",
      "echo provisioned > /root/provisioned",
    ]
  }
  provisioner "file" {
    source      = "a b 'c' \"d\" $(touch pwned)"
    destination = "/root/a b 'c' \"d\" $(touch pwned)"
  }
  provisioner "file" {
    source      = "tree"
    destination = "/srv/no-slash"
  }
  provisioner "file" {
    source      = "tree/"
    destination = "/srv/slash"
  }
  provisioner "file" {
    source      = "/etc/os-release"
    destination = "downloaded-os-release"
    direction   = "download"
  }
  provisioner "file" {
    source      = "/srv/slash/"
    destination = "downloaded-dir/"
    direction   = "download"
  }
}
`

// A user debootstraps a minimal bookworm container, provisions it with
// shell and file provisioners, and gets an image ready for reuse.
func TestDebootstrapBase(t *testing.T) {
	scenario(t)
	mirror, err := debianMirror()
	if err != nil {
		t.Fatal(err)
	}
	h := bootHost(t)
	dir := h.Project("deboot", map[string]string{
		"deboot.pkr.hcl":    debootstrapTemplate,
		awkwardName:         "awkward content\n",
		"tree/top":          "top file\n",
		"tree/sub/deep":     "deep file\n",
		"tree/sub/with sp":  "spaced file\n",
		"tree/.hidden-file": "hidden file\n",
	})
	r := h.Build(dir, "-var", "mirror="+mirror, ".")
	expectSuccess(t, r)
	image := func(p string) string { return h.MachinePath("deboot", p) }
	project := func(p string) string { return h.Path(filepath.Join(dir, p)) }

	t.Run("provisioner stdout and stderr reach packer", func(t *testing.T) {
		expectOutputMatches(t, r, `deboot: stdout-line from deboot`)
		expectOutputMatches(t, r, `deboot: stderr-line`)
	})
	t.Run("provisioner files are in the image", func(t *testing.T) {
		expectFile(t, image("root/provisioned"), "provisioned\n")
	})
	t.Run("hostname is the build name", func(t *testing.T) {
		expectFile(t, image("root/hostname.txt"), "deboot\n")
	})
	t.Run("awkward file name uploads and runs nothing", func(t *testing.T) {
		expectFile(t, image("root/"+awkwardName), "awkward content")
		if found := filesNamed(h.Dir, "pwned"); len(found) > 0 {
			t.Errorf("a file name was run as a command: %q exist", found)
		}
	})
	t.Run("directory upload without trailing slash copies the directory", func(t *testing.T) {
		expectFile(t, image("srv/no-slash/tree/top"), "top file")
		expectFile(t, image("srv/no-slash/tree/sub/deep"), "deep file")
		expectFile(t, image("srv/no-slash/tree/sub/with sp"), "spaced file")
		expectFile(t, image("srv/no-slash/tree/.hidden-file"), "hidden file")
	})
	t.Run("directory upload with trailing slash copies the contents", func(t *testing.T) {
		expectFile(t, image("srv/slash/top"), "top file")
		expectFile(t, image("srv/slash/sub/deep"), "deep file")
		expectAbsent(t, image("srv/slash/tree"), "tree/ uploads what is in tree")
	})
	t.Run("file and directory download", func(t *testing.T) {
		expectFile(t, project("downloaded-os-release"), "bookworm")
		expectFile(t, project("downloaded-dir/sub/deep"), "deep file")
	})
	t.Run("machine-id emptied for clones", func(t *testing.T) {
		if b, err := os.ReadFile(image("etc/machine-id")); err != nil || len(b) != 0 {
			t.Errorf("etc/machine-id: %q (%v); want an empty file", b, err)
		}
		expectAbsent(t, image("var/lib/dbus/machine-id"), "every container gets its own machine-id")
	})
	t.Run("no etc/hostname", func(t *testing.T) {
		expectAbsent(t, image("etc/hostname"), "nspawn sets the hostname from the machine name")
	})
	t.Run("networkd and resolved enabled", func(t *testing.T) {
		for _, unit := range []string{"systemd-networkd.service", "systemd-resolved.service"} {
			if links, _ := filepath.Glob(image("etc/systemd/system/*.wants/" + unit)); len(links) == 0 {
				t.Errorf("%s is not enabled: no etc/systemd/system/*.wants/%s", unit, unit)
			}
		}
	})
	t.Run("apt without recommends", func(t *testing.T) {
		if !anyFileContains(image("etc/apt/apt.conf.d"), `APT::Install-Recommends "false"`) {
			t.Errorf(`no file in etc/apt/apt.conf.d says APT::Install-Recommends "false"`)
		}
	})
	t.Run("documentation excluded, copyright files kept", func(t *testing.T) {
		if !anyFileContains(image("etc/dpkg/dpkg.cfg.d"), "path-exclude=/usr/share/doc/") {
			t.Errorf("no file in etc/dpkg/dpkg.cfg.d has path-exclude=/usr/share/doc/")
		}
		copyrights := 0
		var others []string
		_ = filepath.WalkDir(image("usr/share/doc"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if d.Name() == "copyright" {
					copyrights++
				} else {
					others = append(others, strings.TrimPrefix(p, image("")))
				}
			}
			return nil
		})
		if copyrights == 0 || len(others) > 0 {
			t.Errorf("usr/share/doc holds %d copyright files (want some) and other files %q (want none)", copyrights, others)
		}
	})
	t.Run("nothing left running", func(t *testing.T) {
		expectNothingRunning(t, h)
	})
	if !t.Failed() {
		offerBase(t, h, "deboot")
	}
}
