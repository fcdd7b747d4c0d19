//go:build e2e

package e2e

import (
	"testing"
)

// The README's example as a user runs it: a base from debootstrap,
// archived as base.tar.zst, then a clone of it and an import of the archive.
func TestExampleTemplate(t *testing.T) {
	scenario(t)
	h := bootHost(t)
	h.baseArchive()
	if !h.hasImage("base") {
		// The base was built in an earlier scenario's host: build it here too.
		if _, r := h.buildExampleBase(); r.code != 0 {
			t.Fatalf("base build failed:\n%s", lastLines(r.out, 40))
		}
	}
	if !exists(h.machine("base", "usr/bin/less")) {
		t.Errorf("the base lacks less, which its shell provisioner installs with apt-get")
	}
	fileContains(t, h.machine("base", "root/built-from.pkr.hcl"), `source "nspawn" "base"`)
	if !exists(h.path("/root/example/base.tar.zst")) {
		t.Fatalf("the post-processor made no base.tar.zst")
	}

	r := h.packer("/root/example", "build", "-only=*.from-*", ".")
	expectSuccess(t, r)
	for _, name := range []string{"from-clone", "from-archive"} {
		if !h.hasImage(name) {
			t.Errorf("container %s missing; images: %v", name, h.images())
		}
		fileContains(t, h.machine(name, "etc/motd"), name+" made from base")
	}
	h.noMachinesRunning()
}
