//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// The base image: one debootstrapped container, archived as base.tar.zst
// in shareDir, which every host sees at hostShareDir. The debootstrap
// scenario offers its container; if that scenario did not run or failed,
// the first scenario that needs the base builds one itself.
var base struct {
	sync.Mutex
	ready bool
	err   error
}

// baseInHost is the base archive's path inside every host.
var baseInHost = hostShareDir + "/base.tar.zst"

// baseTemplate builds a plain base when the debootstrap scenario did not
// leave one.
const baseTemplate = `
variable "mirror" { type = string }
source "nspawn" "base" {
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}
build { sources = ["source.nspawn.base"] }
`

// offerBase archives container machine of host h as the base, unless
// there is one.
func offerBase(t *testing.T, h *Host, machine string) {
	t.Helper()
	base.Lock()
	defer base.Unlock()
	if base.ready {
		return
	}
	if err := packTree(h.MachinePath(machine, ""), filepath.Join(shareDir, "base.tar.zst")); err != nil {
		t.Errorf("archiving %s as the base: %v", machine, err)
		return
	}
	base.ready, base.err = true, nil
}

// baseImage returns the base archive's path on this machine, building the
// base on first use in a host of its own.
func baseImage(t *testing.T) string {
	t.Helper()
	base.Lock()
	if !base.ready && base.err == nil {
		base.err = buildBase(t)
		base.ready = base.err == nil
	}
	err := base.err
	base.Unlock()
	if err != nil {
		t.Fatalf("no base image: %v", err)
	}
	return filepath.Join(shareDir, "base.tar.zst")
}

func buildBase(t *testing.T) error {
	mirror, err := debianMirror()
	if err != nil {
		return err
	}
	h := bootHost(t)
	defer h.Stop()
	dir := h.Project("base", map[string]string{"base.pkr.hcl": baseTemplate})
	if r := h.Build(dir, "-var", "mirror="+mirror, "."); r.Code != 0 {
		return fmt.Errorf("building the base exited %d:\n%s", r.Code, tail(r.Out, 30))
	}
	return packTree(h.MachinePath("base", ""), filepath.Join(shareDir, "base.tar.zst"))
}
