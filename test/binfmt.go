//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The machine's binfmt_misc registrations for foreign-architecture
// scenarios. A fresh machine has none, and without systemd as PID 1 here
// nothing registers qemu-user-static's entries at boot: the harness does
// what systemd would, once per run, and at the run's end undoes exactly
// what it did, never an entry that was there before.

const binfmtMisc = "/proc/sys/fs/binfmt_misc"

var (
	binfmtMu sync.Mutex
	// binfmtMounted: the harness mounted binfmt_misc.
	binfmtMounted bool
	// binfmtAdded are the entries it registered, binfmtEnabled those it
	// found disabled and enabled.
	binfmtAdded, binfmtEnabled []string
)

// registerInterpreters makes the machine run the programs of each of
// qemu-user-static's entries (such as qemu-aarch64).
func registerInterpreters(t *testing.T, entries []string) {
	t.Helper()
	binfmtMu.Lock()
	defer binfmtMu.Unlock()
	if !exists(filepath.Join(binfmtMisc, "status")) {
		if out, err := exec.Command("mount", "-t", "binfmt_misc", "binfmt_misc", binfmtMisc).CombinedOutput(); err != nil {
			t.Fatalf("mounting binfmt_misc: %v: %s", err, out)
		}
		binfmtMounted = true
	}
	for _, e := range entries {
		path := filepath.Join(binfmtMisc, e)
		if b, err := os.ReadFile(path); err == nil {
			if !strings.HasPrefix(string(b), "enabled") {
				if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
					t.Fatalf("enabling binfmt entry %s: %v", e, err)
				}
				binfmtEnabled = append(binfmtEnabled, e)
			}
			continue
		}
		if !exists(filepath.Join("/usr/share/binfmts", e)) {
			t.Fatalf("no binfmt entry %s to register: apt-get install qemu-user-static binfmt-support arch-test", e)
		}
		if out, err := exec.Command("update-binfmts", "--enable", e).CombinedOutput(); err != nil {
			t.Fatalf("update-binfmts --enable %s: %v: %s", e, err, out)
		}
		binfmtAdded = append(binfmtAdded, e)
	}
}

// unregisterInterpreters undoes what registerInterpreters did.
func unregisterInterpreters() {
	binfmtMu.Lock()
	defer binfmtMu.Unlock()
	for _, e := range binfmtAdded {
		if out, err := exec.Command("update-binfmts", "--disable", e).CombinedOutput(); err != nil {
			os.Stderr.WriteString("e2e: update-binfmts --disable " + e + ": " + err.Error() + ": " + string(out) + "\n")
		}
	}
	for _, e := range binfmtEnabled {
		_ = os.WriteFile(filepath.Join(binfmtMisc, e), []byte("0"), 0o644)
	}
	if binfmtMounted {
		if out, err := exec.Command("umount", binfmtMisc).CombinedOutput(); err != nil {
			os.Stderr.WriteString("e2e: umount " + binfmtMisc + ": " + err.Error() + ": " + string(out) + "\n")
		}
	}
	binfmtAdded, binfmtEnabled, binfmtMounted = nil, nil, false
}
