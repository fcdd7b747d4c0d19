//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The base every later scenario builds on: the example template's base
// container, archived by its post-processor as base.tar.zst and shared
// between hosts through /shared.
var (
	baseOnce sync.Once
	baseErr  string
)

// exampleTemplate is the repository's example, read at run time so the
// test runs exactly what users run.
func exampleTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../nspawn.pkr.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildExampleBase runs the example's base build in h, as the README says.
func (h *Host) buildExampleBase() (string, result) {
	dir := h.Project("example", map[string]string{"nspawn.pkr.hcl": exampleTemplate(h.t)})
	// The host has no networkd to serve veth links (see README, Tests).
	r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), "-var", "network=host", "-only=*.base", ".")
	return dir, r
}

// baseArchive is the path of base.tar.zst inside any host, made on first
// use by building the example's base in h.
func (h *Host) baseArchive() string {
	h.t.Helper()
	baseOnce.Do(func() {
		if exists(filepath.Join(sharedDir, "base.tar.zst")) {
			os.Remove(filepath.Join(sharedDir, "base.tar.zst"))
		}
		dir, r := h.buildExampleBase()
		if r.code != 0 {
			baseErr = "building the example base failed:\n" + lastLines(r.out, 40)
			return
		}
		h.Run("cp", dir+"/base.tar.zst", "/shared/base.tar.zst")
	})
	if baseErr != "" {
		h.t.Fatal(baseErr)
	}
	return "/shared/base.tar.zst"
}

// BaseContainer makes sure the host has the "base" container.
func (h *Host) BaseContainer() {
	h.t.Helper()
	archive := h.baseArchive()
	if !h.hasImage("base") {
		h.Run("sh", "-c", "zstd -dc "+archive+" | machinectl import-tar - base")
	}
}
