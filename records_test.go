package main

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// referenceTar is the archive archive/tar alone makes of the tree, bodies
// copied through it: what writeTar must match byte for byte.
func referenceTar(t *testing.T, src, prefix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		info, _ := d.Info()
		link, _ := os.Readlink(p)
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = prefix + "/" + filepath.ToSlash(rel)
		if rel == "." {
			hdr.Name = prefix
		}
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			body, _ := os.ReadFile(p)
			_, err = tw.Write(body)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bodyTree holds files whose sizes sit on and around tar's block and
// record, one larger than a pipe holds, an empty one, a long name (a PAX
// header) and a symlink.
func bodyTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	r := rand.New(rand.NewSource(2))
	sizes := map[string]int{"empty": 0, "one": 1, "block": 512, "block+1": 513,
		"record": tarRecord, "record-1": tarRecord - 1, "big": 100*tarRecord + 7,
		strings.Repeat("long-name-", 15): 100}
	for name, size := range sizes {
		body := make([]byte, size)
		r.Read(body)
		if err := os.WriteFile(filepath.Join(src, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("big", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestWriteTarMatchesArchiveTar(t *testing.T) {
	src := bodyTree(t)
	want := referenceTar(t, src, "top")

	// Into a buffer: bodies copied by this process.
	var buf bytes.Buffer
	if err := writeTar(&buf, src, "top", nil); err != nil {
		t.Fatalf("writeTar into a buffer: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("into a buffer: %d bytes differ from archive/tar's %d", buf.Len(), len(want))
	}

	// Into a pipe, as an upload sends it.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	go func() { written <- writeTar(pw, src, "top", nil); pw.Close() }()
	got, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-written; err != nil {
		t.Fatalf("writeTar into a pipe: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("into a pipe: %d bytes differ from archive/tar's %d", len(got), len(want))
	}
}

// writeSizes records the size of each write.
type writeSizes []int

func (w *writeSizes) Write(p []byte) (int, error) {
	*w = append(*w, len(p))
	return len(p), nil
}

func TestWriteTarSendsWholeRecords(t *testing.T) {
	var sizes writeSizes
	if err := writeTar(&sizes, bodyTree(t), "top", nil); err != nil {
		t.Fatal(err)
	}
	if len(sizes) < 100 {
		t.Fatalf("%d writes; want over 100 for a tree of over 100 records", len(sizes))
	}
	for i, n := range sizes[:len(sizes)-1] {
		if n != tarRecord {
			t.Fatalf("write %d of %d is %d bytes; want %d", i+1, len(sizes), n, tarRecord)
		}
	}
	if last := sizes[len(sizes)-1]; last < 1 || last > tarRecord || last%tarBlock != 0 {
		t.Errorf("last write is %d bytes; want whole blocks, at most a record", last)
	}
}

func TestReadFileNoticesAShrunkFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(p, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	done := make(chan error, 1)
	go func() { done <- newRecordWriter(new(bytes.Buffer)).readFile(fd, p, 10) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("readFile of 10 bytes from a 5-byte file did not return")
	}
	if err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Errorf("readFile of 10 bytes from a 5-byte file: %v; want a shrank error", err)
	}
}
