package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCacheLockExcludesSecondBuild(t *testing.T) {
	for _, tc := range []struct{ first, second string }{
		{"debootstrap", "debootstrap"},
		{"debootstrap", "mmdebstrap"},
		{"mmdebstrap", "debootstrap"},
		{"mmdebstrap", "mmdebstrap"},
	} {
		dir := t.TempDir()
		var said []string
		say := func(s string) { said = append(said, s) }
		unlock, err := lockCache(context.Background(), dir, tc.first, say)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if _, err := lockCache(ctx, dir, tc.second, say); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s while %s holds the cache: got %v, want to wait until the deadline", tc.second, tc.first, err)
		}
		cancel()
		if len(said) != 1 || !strings.Contains(said[0], "Waiting for "+dir) {
			t.Errorf("%s after %s said %q; want one waiting message", tc.second, tc.first, said)
		}
		unlock()
		unlock2, err := lockCache(context.Background(), dir, tc.second, say)
		if err != nil {
			t.Fatalf("lock after unlock: %v", err)
		}
		unlock2()
	}
}

// mmdebstrap's apt takes apt's lock in the cache itself, so the build must
// leave that one free; debootstrap's build holds it against the host's apt.
func TestCacheLockLeavesAptsLockToMmdebstrap(t *testing.T) {
	for tool, wantHeld := range map[string]bool{"mmdebstrap": false, "debootstrap": true} {
		dir := t.TempDir()
		unlock, err := lockCache(context.Background(), dir, tool, func(string) {})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		aptUnlock, err := lockFile(ctx, filepath.Join(dir, "lock"), func() {})
		cancel()
		if held := err != nil; held != wantHeld {
			t.Errorf("%s: apt's lock held = %v (%v); want %v", tool, held, err, wantHeld)
		}
		if err == nil {
			aptUnlock()
		}
		unlock()
	}
}

func TestLockFileNamesThePathItCannotMake(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := lockFile(context.Background(), filepath.Join(file, "sub", "x.lock"), func() {})
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("got %v; want an error naming %s", err, file)
	}
}
