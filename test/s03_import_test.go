//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// importSources are the local import forms, made from the base archive.
var importSources = map[string]string{
	"imp-tar": "/root/imp/base.tar",
	"imp-zst": "/root/imp/base.tar.zst",
	"imp-dir": "/root/imp/tree",
	"imp-raw": "/root/imp/base.raw",
}

func TestImportFormats(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	archive := h.baseArchive()
	h.Run("mkdir", "-p", "/root/imp/tree")
	h.Run("cp", archive, "/root/imp/base.tar.zst")
	h.Run("zstd", "-q", "-d", "/root/imp/base.tar.zst", "-o", "/root/imp/base.tar")
	h.Run("tar", "--numeric-owner", "-C", "/root/imp/tree", "-xf", "/root/imp/base.tar")
	h.Run("mkfs.ext4", "-q", "-d", "/root/imp/tree", "/root/imp/base.raw", "1500M")

	var tpl strings.Builder
	var names []string
	for name, src := range importSources {
		fmt.Fprintf(&tpl, "source \"nspawn\" %q {\n  import  = %q\n  network = \"host\"\n  timeout = \"90s\"\n}\n", name, src)
		names = append(names, fmt.Sprintf("%q", "source.nspawn."+name))
	}
	fmt.Fprintf(&tpl, `build {
  sources = [%s]
  provisioner "shell" {
    inline = ["echo imported as $(hostname) > /root/imported"]
  }
}
`, strings.Join(names, ", "))
	dir := h.Project("imports", map[string]string{"imports.pkr.hcl": tpl.String()})
	r := h.packer(dir, "build", ".")
	for name := range importSources {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(r.out, "Build 'nspawn."+name+"' finished") {
				t.Errorf("build of %s did not finish; output:\n%s", name, lastLines(r.out, 30))
			}
			if !h.hasImage(name) {
				t.Errorf("no image %s; images: %v", name, h.images())
			}
			if name != "imp-raw" {
				fileContains(t, h.machine(name, "root/imported"), "imported as "+name)
			}
		})
	}
	h.noMachinesRunning()
}

func TestCloneOfMissingContainer(t *testing.T) {
	Scenario(t, WithoutBase)
	h := BootHost(t)
	dir := h.Project("clone-missing", map[string]string{"t.pkr.hcl": `
source "nspawn" "orphan" {
  network = "host"
  clone = "no-such-base"
}
build { sources = ["source.nspawn.orphan"] }
`})
	r := h.packer(dir, "build", ".")
	expectFailure(t, r, `clone: machine "no-such-base" not found in /var/lib/machines; build it first or fix "clone"`)
	if h.hasImage("orphan") {
		t.Errorf("a failed clone left container orphan")
	}
	h.noMachinesRunning()
}
