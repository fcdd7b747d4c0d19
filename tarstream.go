package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// writeTar streams the tree under src as a tar archive whose entries sit
// under prefix ("" for the tree's contents), skipping excluded paths. Each
// entry is owned by root and written in ustar form where it fits (see
// formatUSTAR), by archive/tar where not; the archive goes out in tar's
// records (see tarRecord), file bodies read straight into them.
func writeTar(out io.Writer, src, prefix string, exclude []string) error {
	w := newRecordWriter(out)
	root := filepath.Clean(src)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && excluded(rel, exclude) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := path.Join(prefix, rel)
		if name == "." {
			return nil
		}
		if d.Type().IsRegular() {
			return w.addFile(p, name)
		}
		return w.addEntry(p, name)
	})
	if err != nil {
		return err
	}
	// The end of an archive: two zero blocks.
	if _, err := w.Write(zeroBlocks[:]); err != nil {
		return err
	}
	return w.Flush()
}

// addFile adds the regular file at p as name. It opens the file first and
// takes its size from that descriptor, so the header describes the very
// file whose body follows; by plain system calls, since an os.File costs
// more per file (made non-blocking, offered to the runtime's poller), a
// cost that on a tree of many small files is a large share of the upload.
func (r *recordWriter) addFile(p, name string) error {
	// O_NONBLOCK: should a FIFO have taken the file's place, the open
	// returns instead of waiting for a writer.
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		// Replaced by something else since the directory was read.
		return r.addEntry(p, name)
	}
	hdr := tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: int64(st.Mode & 0o7777), Size: st.Size,
		ModTime: time.Unix(st.Mtim.Unix()), Uname: "root", Gname: "root",
	}
	if err := r.writeHeader(&hdr); err != nil {
		return err
	}
	if err := r.readFile(fd, p, hdr.Size); err != nil {
		return err
	}
	_, err = r.Write(zeroBlocks[:padding(hdr.Size)])
	return err
}

// addEntry adds what is at p and is not a regular file (a directory, a
// symlink, a device, a FIFO) as name, its header made by archive/tar.
func (r *recordWriter) addEntry(p, name string) error {
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if info.Mode().IsRegular() {
		return fmt.Errorf("%s: became a regular file while the directory was being read", p)
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
	return r.writeHeader(hdr)
}

// tarBlock is tar's unit: every header and body fills whole blocks.
const tarBlock = 512

// zeroBlocks pads bodies and ends the archive; it is never written to.
var zeroBlocks [2 * tarBlock]byte

// padding is how many zero bytes fill a body of size to whole blocks.
func padding(size int64) int64 {
	return (tarBlock - size%tarBlock) % tarBlock
}

// maxPath is Linux's PATH_MAX. A tar name can be longer, but no tool makes
// such a path, and each of its levels costs the host a directory: a very
// long name of "a/a/..." was slow to unpack and more than RemoveAll could
// undo.
const maxPath = 4096

// extractTar unpacks a tar stream into dst. It works through os.Root, so
// no entry, nor a symlink made by an earlier entry, can write outside dst.
func extractTar(r io.Reader, dst string, exclude []string) error {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if name == "." || name == "" {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("tar entry %q points outside %s", hdr.Name, dst)
		}
		if excluded(name, exclude) {
			continue
		}
		if len(name) > maxPath {
			return fmt.Errorf("tar entry %q... is %d bytes long, more than a Linux path's %d; "+
				"exclude it, or shorten its path in the container", name[:64], len(name), maxPath)
		}
		// Refused, not written sparse: archive/tar hides where the holes are and
		// reads them as zeros, so a few header bytes could write terabytes.
		if isSparse(hdr) {
			return fmt.Errorf("tar entry %q is a sparse file, whose holes would be written out in full; "+
				"exclude it, or archive it without --sparse", hdr.Name)
		}
		if err := extractEntry(root, tr, hdr, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

// isSparse reports whether hdr is a GNU sparse file, in the old GNU form or
// in PAX records: the only entries archive/tar gives out more bytes for
// than the stream carries.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for key := range hdr.PAXRecords {
		if strings.HasPrefix(key, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func extractEntry(root *os.Root, tr *tar.Reader, hdr *tar.Header, name string) error {
	mode := fs.FileMode(hdr.Mode).Perm()
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(name, mode|0o700); err != nil {
			return err
		}
		return root.Chmod(name, mode)
	case tar.TypeReg:
		f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return root.Chmod(name, mode)
	case tar.TypeSymlink:
		_ = root.Remove(name)
		return root.Symlink(hdr.Linkname, name)
	default:
		// Devices, FIFOs and hard links are not provisioning material.
		return nil
	}
}
