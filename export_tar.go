package main

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// writeImageTar writes the stopped tree at dir to w as a tar archive that
// depends on the tree's contents alone, so that two builds of the same
// template give the same bytes: entries in the byte order of their names
// in each directory, a directory's contents right after it, every mtime
// clamped to epoch and cut to the second, owners as numbers (a
// user-namespaced container's shift taken off, as the tree's root has
// it), no names, access or change times, extended attributes (file
// capabilities among them) as PAX records in key order.
//
// Each directory is read through a descriptor of its own, and every entry
// in it reached from there by its one name, never following a symlink: a
// link in the container's tree cannot lead the walk out of it, and no
// path is resolved again from the top for each of the tree's files.
func writeImageTar(w io.Writer, dir string, epoch time.Time) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	// Few large writes: each one down a pipe to the compressor wakes it.
	bw := bufio.NewWriterSize(w, tarWriteBuffer)
	t := &imageTarWriter{
		tw:    tar.NewWriter(bw),
		shift: ownerShift(st.Uid, st.Gid),
		epoch: epoch,
		links: map[[2]uint64]string{},
	}
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	t.buf = *bufp
	if err := t.writeDir(fd, ".", &st); err != nil {
		return err
	}
	if err := t.tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// tarWriteBuffer is how much of the archive is gathered before it is
// written on.
const tarWriteBuffer = 1 << 20

// imageTarWriter is one writeImageTar's state.
type imageTarWriter struct {
	tw    *tar.Writer
	shift uint32
	epoch time.Time
	// links names the first entry written of each inode with several
	// links, which the others are written as links to.
	links map[[2]uint64]string
	// buf carries file contents to the archive.
	buf []byte
}

// writeDir writes the directory open as fd, then its entries; it closes
// fd.
func (t *imageTarWriter) writeDir(fd int, rel string, st *unix.Stat_t) error {
	d := os.NewFile(uintptr(fd), rel)
	defer d.Close()
	hdr, err := t.header(rel, st)
	if err != nil {
		return err
	}
	if err := xattrRecords(xattrSource{fd: fd}, hdr); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("reading directory %s: %w", rel, err)
	}
	slices.Sort(names)
	prefix := ""
	if rel != "." {
		prefix = rel + "/"
	}
	for _, name := range names {
		if err := t.writeEntry(fd, name, prefix+name); err != nil {
			return err
		}
	}
	return nil
}

// writeEntry writes the entry name of the directory open as parent, rel
// its path in the tree.
func (t *imageTarWriter) writeEntry(parent int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lstat", Path: rel, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: rel, Err: err}
		}
		return t.writeDir(fd, rel, &st)
	}
	hdr, err := t.header(rel, &st)
	if err != nil || hdr == nil {
		return err
	}
	src := xattrSource{fd: -1, path: fmt.Sprintf("/proc/self/fd/%d/%s", parent, name)}
	if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
		fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: rel, Err: err}
		}
		defer unix.Close(fd)
		src.fd = fd
	}
	if hdr.Typeflag == tar.TypeSymlink {
		if hdr.Linkname, err = readlinkat(parent, name); err != nil {
			return &os.PathError{Op: "readlink", Path: rel, Err: err}
		}
	}
	if err := xattrRecords(src, hdr); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if src.fd < 0 {
		return nil
	}
	if err := t.copyContents(src.fd, hdr.Size); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	return nil
}

// copyContents writes the file open as fd, of size bytes, to the archive.
func (t *imageTarWriter) copyContents(fd int, size int64) error {
	var n int64
	for {
		k, err := unix.Read(fd, t.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if k == 0 {
			break
		}
		n += int64(k)
		if _, err := t.tw.Write(t.buf[:k]); err != nil {
			return err
		}
	}
	if n != size {
		return fmt.Errorf("changed size while being read")
	}
	return nil
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// ownerShift is the base of the user namespace range a container's tree
// was shifted to (nspawn's private users: the root directory owned by the
// range's first id), or 0. uid and gid own the tree's root.
func ownerShift(uid, gid uint32) uint32 {
	if uid == 0 || uid%0x10000 != 0 || gid != uid {
		return 0
	}
	return uid
}

// header describes one entry of the tree but for its link target and
// extended attributes, or is nil for one a tar cannot hold (a socket: it
// is made afresh by whoever listens).
func (t *imageTarWriter) header(rel string, st *unix.Stat_t) (*tar.Header, error) {
	name := rel
	if rel == "." {
		name = "./"
	}
	mtime := time.Unix(st.Mtim.Unix()).Truncate(time.Second)
	if mtime.After(t.epoch) {
		mtime = t.epoch
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid - t.shift),
		Gid:     int(st.Gid - t.shift),
		ModTime: mtime,
		Format:  tar.FormatPAX,
	}
	if st.Uid < t.shift || st.Gid < t.shift {
		return nil, fmt.Errorf("%s: owner %d:%d is outside the container's id range from %d", rel, st.Uid, st.Gid, t.shift)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag = tar.TypeDir
		if rel != "." {
			hdr.Name += "/"
		}
	case unix.S_IFREG:
		key := [2]uint64{uint64(st.Dev), uint64(st.Ino)}
		if first, ok := t.links[key]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return hdr, nil
		}
		if st.Nlink > 1 {
			t.links[key] = name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	case unix.S_IFLNK:
		hdr.Typeflag = tar.TypeSymlink
	case unix.S_IFCHR:
		hdr.Typeflag = tar.TypeChar
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
	case unix.S_IFBLK:
		hdr.Typeflag = tar.TypeBlock
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil, nil
	}
	return hdr, nil
}

// xattrSource is where an entry's extended attributes are read: the entry
// open as fd, or, fd < 0, path, whose last part is not followed.
type xattrSource struct {
	fd   int
	path string
}

func (s xattrSource) list(buf []byte) (int, error) {
	if s.fd >= 0 {
		return unix.Flistxattr(s.fd, buf)
	}
	return unix.Llistxattr(s.path, buf)
}

func (s xattrSource) get(name string, buf []byte) (int, error) {
	if s.fd >= 0 {
		return unix.Fgetxattr(s.fd, name, buf)
	}
	return unix.Lgetxattr(s.path, name, buf)
}

// xattrRecords adds the entry's extended attributes to hdr as GNU tar and
// systemd's import read them.
func xattrRecords(src xattrSource, hdr *tar.Header) error {
	size, err := src.list(nil)
	if errors.Is(err, unix.ENOTSUP) || size == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing the extended attributes: %w", err)
	}
	buf := make([]byte, size)
	size, err = src.list(buf)
	if err != nil {
		return fmt.Errorf("listing the extended attributes: %w", err)
	}
	for _, name := range splitNul(buf[:size]) {
		value, err := getxattr(src, name)
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+name] = string(value)
	}
	return nil
}

func getxattr(src xattrSource, name string) ([]byte, error) {
	size, err := src.get(name, nil)
	if err != nil || size == 0 {
		return nil, err
	}
	buf := make([]byte, size)
	size, err = src.get(name, buf)
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
