//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// The README's install commands run make in a working copy. A host gets a
// copy of the one under test and the machine's Go toolchain and module
// cache, read-only, so nothing is downloaded inside; and the machine's
// build cache, which go commands share safely, so a build inside takes
// seconds instead of a minute.

// srcDir is where a host's copy of the working copy is.
const srcDir = "/root/packer-builder-nspawn"

// goPaths are the machine's Go toolchain and caches, the same paths in
// every host.
type goPaths struct{ root, modCache, buildCache string }

var machineGo = sync.OnceValues(func() (goPaths, error) {
	out, err := exec.Command("go", "env", "GOROOT", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		return goPaths{}, fmt.Errorf("go env: %v", err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 3 {
		return goPaths{}, fmt.Errorf("go env printed %q", out)
	}
	return goPaths{root: f[0], modCache: f[1], buildCache: f[2]}, nil
})

// goToolchainBinds are systemd-nspawn's options that lend a host the Go
// toolchain and caches.
func goToolchainBinds() ([]string, error) {
	g, err := machineGo()
	if err != nil {
		return nil, err
	}
	return []string{"--bind-ro=" + g.root, "--bind-ro=" + mustMkdir(g.modCache), "--bind=" + mustMkdir(g.buildCache)}, nil
}

// makeArgv is argv for make ARGS in a host with the lent toolchain first
// on the PATH, offline; env adds variables.
func makeArgv(env []string, args ...string) []string {
	g, _ := machineGo() // a host booted, so it has a value
	argv := []string{"env", "PATH=" + g.root + "/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local",
		"GOMODCACHE=" + g.modCache, "GOCACHE=" + g.buildCache}
	argv = append(append(argv, env...), "make")
	return append(argv, args...)
}

// CopySource copies the working copy under test to srcDir in the host, as
// it stands (uncommitted changes too): the files git tracks or would
// track, none it ignores (builds, test output).
func (h *Host) CopySource() string {
	h.t.Helper()
	if exists(h.Path(srcDir)) {
		return srcDir
	}
	out, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		h.t.Fatalf("listing the working copy's files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(repoRoot, name)
		info, err := os.Lstat(src)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue // deleted, and not yet committed
		case err != nil:
			h.t.Fatal(err)
		case !info.Mode().IsRegular():
			h.t.Fatalf("copying the working copy: %s is not a regular file", name)
		}
		dst := h.Path(filepath.Join(srcDir, name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			h.t.Fatal(err)
		}
		if err := copyFile(src, dst); err != nil {
			h.t.Fatalf("copying the working copy: %v", err)
		}
		if err := os.Chmod(dst, info.Mode().Perm()); err != nil {
			h.t.Fatal(err)
		}
	}
	return srcDir
}
