package main

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// While the bootstrapper installs a tree, its dpkg skips the fsync it
// makes for every file it unpacks (force-unsafe-io, as mmdebstrap's
// eatmydata hook and image builders do): a tree cut short by a crash is a
// failed build, removed and made again, so those flushes buy nothing. The
// drop-in is in the target before the bootstrapper's dpkg first reads its
// configuration, and gone before the build goes on; the tree is then
// flushed to disk once.
const (
	unsafeIOPath = "etc/dpkg/dpkg.cfg.d/00nspawn-unsafe-io"
	unsafeIO     = "# Only while packer-builder-nspawn installs this tree.\nforce-unsafe-io\n"
)

// unsafeIOHook writes the drop-in as an mmdebstrap setup hook (it wants an
// empty target, so the drop-in cannot be there before it starts). Both
// texts are ours, without quotes or printf's %: no input reaches the shell.
var unsafeIOHook = `mkdir -p "$1/` + path.Dir(unsafeIOPath) + `" && printf '` +
	strings.ReplaceAll(unsafeIO, "\n", `\n`) + `' > "$1/` + unsafeIOPath + `"`

// allowUnsafeIO makes debootstrap's new tree at target, holding only the
// drop-in, its directories with the modes debootstrap's packages give
// them: a 0700 root, as a strict umask would leave, keeps dbus from
// starting in the container. The target must not exist yet (the prepare
// step saw the name free): this never touches a tree it did not make.
func allowUnsafeIO(target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	dir := target
	for _, name := range append([]string{""}, strings.Split(path.Dir(unsafeIOPath), "/")...) {
		dir = filepath.Join(dir, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(target, unsafeIOPath), []byte(unsafeIO), 0o644)
}

// endUnsafeIO removes the drop-in, so the container's own dpkg is safe
// again, and flushes the tree's file system.
func endUnsafeIO(target string) error {
	root, err := os.OpenRoot(target)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.Remove(unsafeIOPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncFS(target)
}

// syncFS writes out everything of the file system holding dir.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
