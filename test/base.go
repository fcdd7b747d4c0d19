//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// The base every later scenario builds on: the example template's base
// container, archived by its post-processor as base.tar.zst and shared
// between hosts through /shared.
var (
	baseOnce sync.Once
	baseErr  string
	baseDone atomic.Bool
)

// baseBuilt tells whether the shared base is there for scenarios to import.
func baseBuilt() bool { return baseDone.Load() }

// buildExampleBase runs the README's main command in h: make base, in a
// copy of the working copy. The host has no networkd to serve veth links
// (see README, Tests): BASE_VARS picks the host's network.
func (h *Host) buildExampleBase() (string, result) {
	dir := h.CopySource()
	r := h.runIn(dir, makeArgv(nil, "base", "BASE_VARS=-var network=host -var mirror="+DebianMirror())...)
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
			baseErr = "make base failed:\n" + lastLines(r.out, 40)
			return
		}
		h.Run("cp", dir+"/base.tar.zst", "/shared/base.tar.zst")
		baseDone.Store(true)
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
