package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetUpImage(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "keep"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A symlink in the image must not lead the clean-up outside it.
	if err := os.Symlink(outside, filepath.Join(dir, "usr/share/man/escape")); err != nil {
		t.Fatal(err)
	}
	if err := setUpImage(dir); err != nil {
		t.Fatalf("setUpImage: %v", err)
	}
	exists := func(p string) bool { _, err := os.Lstat(filepath.Join(dir, p)); return err == nil }
	checks := []struct {
		what string
		ok   bool
	}{
		{"copyright kept", exists("usr/share/doc/bash/copyright")},
		{"other docs removed", !exists("usr/share/doc/bash/README.gz")},
		{"man pages removed", !exists("usr/share/man/man1") && exists("usr/share/man")},
		{"info removed", !exists("usr/share/info/coreutils.info")},
		{"hostname removed", !exists("etc/hostname")},
		{"no-recommends written", exists(noRecommendsPath)},
		{"no-docs written", exists(noDocsPath)},
		{"package files removed", !exists("var/cache/apt/archives/bash_5.2_amd64.deb")},
		{"apt's lock kept", exists("var/cache/apt/archives/lock")},
		{"D-Bus machine-id removed", !exists("var/lib/dbus/machine-id")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: not so", c.what)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("a file outside the image was removed: %v", err)
	}
	if id, err := os.ReadFile(filepath.Join(dir, "etc/machine-id")); err != nil || len(id) != 0 {
		t.Errorf("etc/machine-id: %q (%v); want it empty", id, err)
	}
	shadow, _ := os.ReadFile(filepath.Join(dir, "etc/shadow"))
	if !strings.HasPrefix(string(shadow), "root::19000:") {
		t.Errorf("etc/shadow: got %q, want root's password field emptied", shadow)
	}
	docs, _ := os.ReadFile(filepath.Join(dir, noDocsPath))
	for _, line := range []string{"path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright"} {
		if !strings.Contains(string(docs), line) {
			t.Errorf("%s lacks %q", noDocsPath, line)
		}
	}
}

func TestAllowConsoleRootKeepsRealPasswords(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	const shadow = "root:$6$salt$hash:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n"
	if err := os.WriteFile(filepath.Join(dir, "etc/shadow"), []byte(shadow), 0o640); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := allowConsoleRoot(root); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "etc/shadow"))
	if string(got) != shadow {
		t.Errorf("a set root password or another user changed:\n%s", got)
	}
}
