//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// The README's example as a user runs it: sudo make base (a base from
// debootstrap, archived as base.tar.zst), then a clone of it and an import
// of the archive.
func TestExampleTemplate(t *testing.T) {
	Scenario(t, MakesBase)
	h := BootHost(t)
	h.baseArchive()
	if !h.hasImage("base") {
		// The base was built in an earlier scenario's host: build it here too.
		if _, r := h.buildExampleBase(); r.code != 0 {
			t.Fatalf("make base failed:\n%s", lastLines(r.out, 40))
		}
	}
	dir := srcDir
	if !exists(h.machine("base", "usr/bin/less")) {
		t.Errorf("the base lacks less, which its shell provisioner installs with apt-get")
	}
	fileContains(t, h.machine("base", "root/built-from.pkr.hcl"), `source "nspawn" "base"`)
	if !exists(h.Path(dir + "/base.tar.zst")) {
		t.Fatalf("the export made no base.tar.zst")
	}
	checkSHA256(t, h.Path(dir+"/base.tar.zst"), h.Path(dir+"/base.tar.zst.sha256"))

	// Debian's packer finds the plugin make built beside the template.
	r := h.packer(dir, "build", "-var", "network=host", "-only=*.from-*", ".")
	expectSuccess(t, r)
	for _, name := range []string{"from-clone", "from-archive"} {
		if !h.hasImage(name) {
			t.Errorf("container %s missing; images: %v", name, h.images())
		}
		fileContains(t, h.machine(name, "etc/motd"), name+" made from base")
	}
	h.noMachinesRunning()
}

// checkSHA256 checks that the checksum post-processor's file holds file's
// SHA-256.
func checkSHA256(t *testing.T, file, sums string) {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	listed, err := os.ReadFile(sums)
	if err != nil {
		t.Fatalf("no checksum file: %v", err)
	}
	if !strings.Contains(string(listed), hex.EncodeToString(sum[:])) {
		t.Errorf("%s does not hold the SHA-256 of %s:\n%s", sums, file, listed)
	}
}
