package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestAllowUnsafeIOLeavesTheTreeOpenUnderAStrictUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	target := filepath.Join(t.TempDir(), "machines", "web")
	if err := allowUnsafeIO(target); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", "etc", "etc/dpkg", "etc/dpkg/dpkg.cfg.d"} {
		info, err := os.Stat(filepath.Join(target, dir))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o755 {
			t.Errorf("%q has mode %v; want 0755, as debootstrap's packages make it", "/"+dir, info.Mode().Perm())
		}
	}
	body, err := os.ReadFile(filepath.Join(target, unsafeIOPath))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "\nforce-unsafe-io\n") {
		t.Errorf("drop-in holds %q; want a force-unsafe-io line", body)
	}
}

func TestEndUnsafeIORemovesOnlyTheDropIn(t *testing.T) {
	target := filepath.Join(t.TempDir(), "web")
	if err := allowUnsafeIO(target); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(target, "etc/dpkg/dpkg.cfg.d/excludes")
	if err := os.WriteFile(other, []byte("path-exclude=/usr/share/doc/*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := endUnsafeIO(target); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, unsafeIOPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("drop-in still there after the install (%v)", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the tree's own dpkg configuration went too: %v", err)
	}
	// A bootstrapper that removed it itself is no error.
	if err := endUnsafeIO(target); err != nil {
		t.Errorf("second endUnsafeIO: %v", err)
	}
}

func TestDebootstrapRunsDpkgUnsafeOnlyWhileInstalling(t *testing.T) {
	tb := newTestBuild(t)
	maker := makeTreeOnDebootstrap(tb)
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	if maker.unsafeIO != unsafeIO {
		t.Errorf("debootstrap found drop-in %q; want %q", maker.unsafeIO, unsafeIO)
	}
	if _, err := os.Stat(filepath.Join(tb.dir, "web", unsafeIOPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the finished container keeps the drop-in (%v)", err)
	}
}

func TestMmdebstrapGetsNoTargetAndLosesTheDropIn(t *testing.T) {
	saved := lookPath
	defer func() { lookPath = saved }()
	lookPath = func(string) (string, error) { return "/usr/bin/mmdebstrap", nil }
	tb := newTestBuild(t, "bootstrapper", "mmdebstrap")
	maker := makeTreeOnDebootstrap(tb)
	// What its setup hook leaves in the tree.
	dropIn := filepath.Join(maker.from, unsafeIOPath)
	if err := os.MkdirAll(filepath.Dir(dropIn), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dropIn, []byte(unsafeIO), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	if maker.targetExisted {
		t.Error("the target existed before mmdebstrap ran; mmdebstrap wants to make it")
	}
	if _, err := os.Stat(filepath.Join(tb.dir, "web", unsafeIOPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the finished container keeps the hook's drop-in (%v)", err)
	}
}

// The mmdebstrap hook is shell text: run it as mmdebstrap does, on a
// target whose path would break unquoted text, and read what it wrote.
func TestUnsafeIOHookWritesTheDropIn(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	target := filepath.Join(t.TempDir(), `a b 'c' "d" $(touch pwned)`)
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", unsafeIOHook, "exec", target)
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hook %q: %v: %s", unsafeIOHook, err, out)
	}
	if entries, _ := os.ReadDir(cmd.Dir); len(entries) != 0 {
		t.Errorf("hook %q ran part of the path as a command", unsafeIOHook)
	}
	body, err := os.ReadFile(filepath.Join(target, unsafeIOPath))
	if err != nil || string(body) != unsafeIO {
		t.Errorf("the hook wrote %q (%v); want %q", body, err, unsafeIO)
	}
}

func TestAllowUnsafeIOLeavesAnExistingTreeAlone(t *testing.T) {
	target := filepath.Join(t.TempDir(), "web")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := allowUnsafeIO(target); !errors.Is(err, fs.ErrExist) {
		t.Errorf("allowUnsafeIO on an existing tree: %v; want it refused", err)
	}
	info, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("the existing tree's mode became %v", info.Mode().Perm())
	}
}
