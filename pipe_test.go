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
	"testing"
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

// bodyTree holds files whose sizes sit on and around tar's block and the
// pipe's size, an empty one, a long name (a PAX header) and a symlink.
func bodyTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	r := rand.New(rand.NewSource(2))
	sizes := map[string]int{"empty": 0, "one": 1, "block": 512, "block+1": 513,
		"pipe": pipeSize, "big": 3*pipeSize + 7, strings.Repeat("long-name-", 15): 100}
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

	// Into a pipe: bodies by sendfile.
	pr, pw, err := bulkPipe()
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

func TestCopyFileNoticesAShrunkFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	pr, pw, err := bulkPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	for name, w := range map[string]io.Writer{"pipe": pw, "buffer": new(bytes.Buffer)} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		err = copyFile(w, f, 10)
		f.Close()
		if err == nil || !strings.Contains(err.Error(), "shrank") {
			t.Errorf("%s: copyFile of 10 bytes from a 5-byte file: %v; want a shrank error", name, err)
		}
	}
}

func TestBulkPipeIsLarge(t *testing.T) {
	pr, pw, err := bulkPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	// A full pipeSize fits with no reader: the write would block otherwise.
	if n, err := pw.Write(make([]byte, pipeSize)); err != nil || n != pipeSize {
		t.Errorf("wrote %d (%v) into an unread pipe; want %d", n, err, pipeSize)
	}
}
