package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// writeImageTar writes the stopped tree at dir to w as a tar archive that
// depends on the tree's contents alone, so that two builds of the same
// template give the same bytes: entries in the byte order of their paths,
// every mtime clamped to epoch and cut to the second, owners as numbers
// (a user-namespaced container's shift taken off, as the tree's root has
// it), no names, access or change times, extended attributes (file
// capabilities among them) as PAX records in key order.
func writeImageTar(w io.Writer, dir string, epoch time.Time) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	rootInfo, err := root.Lstat(".")
	if err != nil {
		return err
	}
	shift := ownerShift(rootInfo)
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{}
	// WalkDir visits each directory's entries in name order.
	err = fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := root.Lstat(rel)
		if err != nil {
			return err
		}
		hdr, err := imageTarHeader(dir, rel, info, shift, epoch, links)
		if err != nil || hdr == nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
			return nil
		}
		f, err := root.Open(rel)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, f)
		if err == nil && n != hdr.Size {
			err = fmt.Errorf("changed size while being read")
		}
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// ownerShift is the base of the user namespace range a container's tree
// was shifted to (nspawn's private users: the root directory owned by the
// range's first id), or 0.
func ownerShift(rootInfo fs.FileInfo) uint32 {
	st, ok := rootInfo.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 || st.Uid%0x10000 != 0 || st.Gid != st.Uid {
		return 0
	}
	return st.Uid
}

// imageTarHeader describes one entry of the tree, or returns nil for one
// a tar cannot hold (a socket: it is made afresh by whoever listens).
func imageTarHeader(dir, rel string, info fs.FileInfo, shift uint32, epoch time.Time, links map[[2]uint64]string) (*tar.Header, error) {
	st := info.Sys().(*syscall.Stat_t)
	name := rel
	if rel == "." {
		name = "./"
	}
	mtime := info.ModTime().Truncate(time.Second)
	if mtime.After(epoch) {
		mtime = epoch
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid - shift),
		Gid:     int(st.Gid - shift),
		ModTime: mtime,
		Format:  tar.FormatPAX,
	}
	if st.Uid < shift || st.Gid < shift {
		return nil, fmt.Errorf("%s: owner %d:%d is outside the container's id range from %d", rel, st.Uid, st.Gid, shift)
	}
	switch mode := info.Mode(); {
	case mode.IsDir():
		hdr.Typeflag = tar.TypeDir
		if rel != "." {
			hdr.Name += "/"
		}
	case mode.IsRegular():
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, ok := links[key]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return hdr, xattrRecords(filepath.Join(dir, rel), hdr)
		}
		if st.Nlink > 1 {
			links[key] = name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(filepath.Join(dir, rel))
		if err != nil {
			return nil, err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case mode&fs.ModeCharDevice != 0:
		hdr.Typeflag = tar.TypeChar
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case mode&fs.ModeDevice != 0:
		hdr.Typeflag = tar.TypeBlock
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case mode&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil, nil
	}
	return hdr, xattrRecords(filepath.Join(dir, rel), hdr)
}

// xattrRecords adds path's extended attributes to hdr as GNU tar and
// systemd's import read them.
func xattrRecords(path string, hdr *tar.Header) error {
	size, err := unix.Llistxattr(path, nil)
	if errors.Is(err, unix.ENOTSUP) || size == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing the extended attributes of %s: %w", path, err)
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(path, buf)
	if err != nil {
		return fmt.Errorf("listing the extended attributes of %s: %w", path, err)
	}
	for _, name := range splitNul(buf[:size]) {
		value, err := getxattr(path, name)
		if err != nil {
			return fmt.Errorf("reading %s of %s: %w", name, path, err)
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+name] = string(value)
	}
	return nil
}

func getxattr(path, name string) ([]byte, error) {
	size, err := unix.Lgetxattr(path, name, nil)
	if err != nil || size == 0 {
		return nil, err
	}
	buf := make([]byte, size)
	size, err = unix.Lgetxattr(path, name, buf)
	return buf[:size], err
}

func splitNul(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i > 0 {
			out = append(out, string(b[:i]))
		}
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}

// debugfsTimesScript is the debugfs commands that set the access and
// change times of every file of the tree in its ext4 image to epoch.
// debugfs reads a name in double quotes, a quote in it doubled.
func debugfsTimesScript(dir string, epoch time.Time) (string, error) {
	var b strings.Builder
	at := "@" + strconv.FormatInt(epoch.Unix(), 10)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := "/" + rel
		if rel == "." {
			name = "/"
		}
		if strings.ContainsAny(name, "\n\r") {
			return fmt.Errorf("reproducible: %q has a line break in its name, which debugfs cannot be given", name)
		}
		quoted := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		for _, field := range []string{"atime", "ctime"} {
			fmt.Fprintf(&b, "sif %s %s %s\n", quoted, field, at)
		}
		return nil
	})
	return b.String(), err
}
