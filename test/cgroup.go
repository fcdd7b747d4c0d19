//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// On a user's host every systemd-nspawn runs in a cgroup of its own, its
// unit's. Here the tests start them all from one cgroup, and --keep-unit
// makes that each container's root: hosts booted side by side then share
// one tree, and each one's systemd moves and removes the others' units'
// cgroups, so boots stall. hostCgroup gives each host its own.

// unifiedMount is where the cgroup2 hierarchy is mounted: /sys/fs/cgroup
// on a pure v2 machine, /sys/fs/cgroup/unified on a hybrid one like this.
func unifiedMount() (string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		// The fields after " - " are the type, the source and options.
		_, after, ok := strings.Cut(line, " - ")
		if f := strings.Fields(line); ok && len(f) > 4 && strings.HasPrefix(after, "cgroup2 ") {
			return f[4], nil
		}
	}
	return "", fmt.Errorf("no cgroup2 hierarchy is mounted")
}

// ownCgroup is this process's cgroup in the cgroup2 hierarchy.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return path, nil
		}
	}
	return "", fmt.Errorf("/proc/self/cgroup has no cgroup2 line")
}

// hostCgroup makes an empty cgroup named name in this process's and opens
// it, for the host's nspawn to start in.
func hostCgroup(name string) (dir string, f *os.File, err error) {
	mount, err := unifiedMount()
	if err != nil {
		return "", nil, err
	}
	own, err := ownCgroup()
	if err != nil {
		return "", nil, err
	}
	dir = filepath.Join(mount, own, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, err
	}
	if f, err = os.Open(dir); err != nil {
		_ = os.Remove(dir)
		return "", nil, err
	}
	return dir, f, nil
}

// removeCgroup removes the cgroup at dir and those the host's systemd made
// in it, deepest first; the host must have stopped.
func removeCgroup(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return os.Remove(dir)
}

// removeCgroupWhenEmpty removes the cgroup at dir once the processes left
// in it, killed with their nspawn, are gone.
func removeCgroupWhenEmpty(dir string) error {
	var err error
	for try := 0; try < 50; try++ {
		if err = removeCgroup(dir); err == nil || os.IsNotExist(err) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// combinedOutputInCgroup runs cmd, a systemd-nspawn that exits when its
// command does, in a cgroup of its own named name, and removes that after:
// nspawn leaves the cgroups it makes for itself and its payload behind.
func combinedOutputInCgroup(cmd *exec.Cmd, name string) ([]byte, error) {
	dir, f, err := hostCgroup(name)
	if err != nil {
		return nil, fmt.Errorf("making a cgroup for %s: %v", cmd.Path, err)
	}
	defer f.Close()
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
	out, err := cmd.CombinedOutput()
	if rmErr := removeCgroupWhenEmpty(dir); rmErr != nil && err == nil {
		err = fmt.Errorf("removing the cgroup %s: %v", dir, rmErr)
	}
	return out, err
}
