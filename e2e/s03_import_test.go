//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// Every local import form, made from the base: a .tar, a .tar.zst, a
// directory tree and a raw ext4 image.
var importForms = []struct{ name, path string }{
	{"imp-tar", "/root/images/base.tar"},
	{"imp-zst", "/root/images/base.tar.zst"},
	{"imp-dir", "/root/images/tree"},
	{"imp-raw", "/root/images/base.raw"},
}

func TestImportFormats(t *testing.T) {
	scenario(t)
	baseImage(t)
	h := bootHost(t)
	h.MustRun("mkdir", "-p", "/root/images/tree")
	h.MustRun("cp", baseInHost, "/root/images/base.tar.zst")
	h.MustRun("zstd", "-q", "-d", "/root/images/base.tar.zst", "-o", "/root/images/base.tar")
	h.MustRun("tar", "--numeric-owner", "-C", "/root/images/tree", "-xpf", "/root/images/base.tar")
	h.MustRun("mkfs.ext4", "-q", "-d", "/root/images/tree", "/root/images/base.raw", "1G")

	var tpl, sources strings.Builder
	for _, f := range importForms {
		fmt.Fprintf(&tpl, "source \"nspawn\" %q {\n  import  = %q\n  timeout = \"90s\"\n}\n", f.name, f.path)
		fmt.Fprintf(&sources, "%q, ", "source.nspawn."+f.name)
	}
	fmt.Fprintf(&tpl, `
build {
  sources = [%s]
  provisioner "shell" {
    inline = ["echo imported as $(hostname) > /root/imported"]
  }
}
`, strings.TrimSuffix(sources.String(), ", "))
	dir := h.Project("imports", map[string]string{"imports.pkr.hcl": tpl.String()})
	r := h.Build(dir, ".")
	expectSuccess(t, r)
	for _, f := range importForms {
		t.Run(f.name, func(t *testing.T) {
			h := h.In(t)
			if !h.HasImage(f.name) {
				t.Fatalf("no container %s after importing %s; images: %v", f.name, f.path, h.Images())
			}
			if f.name == "imp-raw" {
				// A raw image stays an image file: read it with debugfs.
				out := h.MustRun("debugfs", "-R", "cat /root/imported", "/var/lib/machines/imp-raw.raw")
				if !strings.Contains(out, "imported as imp-raw") {
					t.Errorf("/root/imported in imp-raw.raw holds %q; want %q", out, "imported as imp-raw")
				}
				return
			}
			expectFile(t, h.MachinePath(f.name, "root/imported"), "imported as "+f.name)
		})
	}
	t.Run("nothing left running", func(t *testing.T) { expectNothingRunning(t, h) })
}

// Cloning a container that does not exist fails before anything is made,
// saying which option to fix.
func TestCloneOfMissingContainer(t *testing.T) {
	scenario(t)
	h := bootHost(t)
	dir := h.Project("clone-missing", map[string]string{"clone.pkr.hcl": `
source "nspawn" "orphan" {
  clone   = "no-such-base"
  timeout = "60s"
}
build { sources = ["source.nspawn.orphan"] }
`})
	r := h.Build(dir, ".")
	expectFailure(t, r, `clone: machine "no-such-base" not found`)
	if h.HasImage("orphan") {
		t.Errorf("the failed clone left container orphan")
	}
	expectNothingRunning(t, h)
}
