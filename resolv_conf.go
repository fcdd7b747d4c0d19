package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// resolvConfPath is the container's resolver configuration, inside its tree.
const resolvConfPath = "etc/resolv.conf"

// imageResolvConf is a container's own /etc/resolv.conf, kept while the
// build shares the host's network. nspawn then replaces the file with the
// host's (ResolvConf=replace-host): the image's usual one links to
// systemd-resolved's stub, and a resolved sharing the host's network has
// no name server to ask and, in a user namespace, may not listen on port
// 53 there. The image gets its own file back once the container is off,
// unless a provisioner wrote one of its own.
type imageResolvConf struct {
	exists  bool
	link    string // the symlink's target, if it is one
	content []byte // the file's bytes, if it is a regular file
	mode    fs.FileMode
	// hosts is what nspawn puts in its place: the host's file.
	hosts []byte
}

// hostResolvConf is the host's resolver configuration; tests point it
// elsewhere.
var hostResolvConf = "/etc/resolv.conf"

// saveResolvConf reads the tree's /etc/resolv.conf as it is before boot.
func saveResolvConf(tree string) (*imageResolvConf, error) {
	hosts, err := os.ReadFile(hostResolvConf)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(tree)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	info, err := root.Lstat(resolvConfPath)
	if errors.Is(err, fs.ErrNotExist) {
		return &imageResolvConf{hosts: hosts}, nil
	}
	if err != nil {
		return nil, err
	}
	saved := &imageResolvConf{exists: true, mode: info.Mode(), hosts: hosts}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		saved.link, err = root.Readlink(resolvConfPath)
	case info.Mode().IsRegular():
		saved.content, err = root.ReadFile(resolvConfPath)
	default:
		return nil, &fs.PathError{Op: "save", Path: resolvConfPath, Err: errors.New("neither a file nor a symlink")}
	}
	if err != nil {
		return nil, err
	}
	return saved, nil
}

// restore puts the saved file back in the stopped tree, owned as the file
// found there (the build's user namespace may have shifted the tree's
// owners since it was saved). It reports false, changing nothing, when
// the file there is no longer the host's copy: a provisioner's own.
func (s *imageResolvConf) restore(tree string) (bool, error) {
	root, err := os.OpenRoot(tree)
	if err != nil {
		return false, err
	}
	defer root.Close()
	uid, gid := -1, -1
	if info, err := root.Lstat(resolvConfPath); err == nil {
		if !info.Mode().IsRegular() {
			return false, nil
		}
		if now, err := root.ReadFile(resolvConfPath); err != nil || !bytes.Equal(now, s.hosts) {
			return false, err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
		if err := root.Remove(resolvConfPath); err != nil {
			return false, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if !s.exists {
		return true, nil
	}
	if s.mode&fs.ModeSymlink != 0 {
		err = root.Symlink(s.link, resolvConfPath)
	} else {
		err = root.WriteFile(resolvConfPath, s.content, s.mode.Perm())
		if err == nil {
			err = root.Chmod(resolvConfPath, s.mode.Perm())
		}
	}
	if err == nil && uid >= 0 {
		err = root.Lchown(resolvConfPath, uid, gid)
	}
	return err == nil, err
}
