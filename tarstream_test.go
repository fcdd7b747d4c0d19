package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTarRoundTrip(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"a b/c'd\"$(touch x)": "quoted",
		"sub/-dash":           "dash",
		"sub/deep/file":       "deep",
		"skip.tmp":            "excluded",
		// Past ustar's 100 bytes: archive/tar's header, among ours.
		strings.Repeat("long-", 30) + "/file": "long",
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("sub/deep/file", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeTar(&buf, src, "top", []string{"*.tmp"}); err != nil {
		t.Fatalf("writeTar: %v", err)
	}
	dst := t.TempDir()
	if err := extractTar(&buf, dst, nil); err != nil {
		t.Fatalf("extractTar: %v", err)
	}
	for name, body := range files {
		got, err := os.ReadFile(filepath.Join(dst, "top", name))
		if name == "skip.tmp" {
			if err == nil {
				t.Errorf("%s: excluded file was copied", name)
			}
			continue
		}
		if err != nil || string(got) != body {
			t.Errorf("%s: got %q (%v), want %q", name, got, err, body)
		}
		if info, err := os.Stat(filepath.Join(dst, "top", name)); err == nil && info.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %o, want 640", name, info.Mode().Perm())
		}
	}
	if target, err := os.Readlink(filepath.Join(dst, "top", "link")); err != nil || target != "sub/deep/file" {
		t.Errorf("symlink: got %q (%v)", target, err)
	}
}

// evilTar builds an archive from (name, type, linkname) entries.
func evilTar(t *testing.T, entries ...[3]string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e[0], Mode: 0o644, Linkname: e[2]}
		switch e[1] {
		case "link":
			hdr.Typeflag = tar.TypeSymlink
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = 4
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			_, _ = tw.Write([]byte("evil"))
		}
	}
	_ = tw.Close()
	return &buf
}

func TestExtractTarStaysInside(t *testing.T) {
	cases := map[string][][3]string{
		"dot-dot path":       {{"../escaped", "file", ""}},
		"absolute path":      {{"/escaped", "file", ""}},
		"through a symlink":  {{"l", "link", "OUTSIDE"}, {"l/escaped", "file", ""}},
		"symlink then write": {{"f", "link", "OUTSIDE/escaped"}, {"f", "file", ""}},
	}
	for name, entries := range cases {
		parent := t.TempDir()
		dst := filepath.Join(parent, "dst")
		outside := filepath.Join(parent, "outside")
		for _, d := range []string{dst, outside} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i := range entries {
			entries[i][2] = strings.ReplaceAll(entries[i][2], "OUTSIDE", outside)
		}
		_ = extractTar(evilTar(t, entries...), dst, nil)
		for _, p := range []string{filepath.Join(parent, "escaped"), filepath.Join(outside, "escaped"), "/escaped"} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s: wrote %s outside the destination", name, p)
			}
		}
	}
}

// sparseSize is the logical size the sparse test archives claim: 64 MiB of
// holes behind 4 bytes of data, enough to show, small enough not to hurt.
const sparseSize = 64 << 20

// ustarBlock renders a header block by hand, for the entries archive/tar's
// writer will not make (PAX records for GNU sparse files, old GNU sparse
// headers). gnu selects the old GNU magic.
func ustarBlock(name string, typeflag byte, size int64, gnu bool) []byte {
	blk := make([]byte, tarBlock)
	copy(blk[0:], name)
	copy(blk[100:], "0000644\x00")
	copy(blk[108:], "0000000\x00")
	copy(blk[116:], "0000000\x00")
	copy(blk[124:], fmt.Sprintf("%011o\x00", size))
	copy(blk[136:], "00000000000\x00")
	blk[156] = typeflag
	copy(blk[257:], "ustar\x0000")
	if gnu {
		copy(blk[257:], "ustar  \x00")
	}
	return blk
}

// withChecksum fills in blk's checksum, counting the field as spaces.
func withChecksum(blk []byte) []byte {
	copy(blk[148:156], "        ")
	sum := 0
	for _, b := range blk {
		sum += int(b)
	}
	copy(blk[148:], fmt.Sprintf("%06o\x00 ", sum))
	return blk
}

// paxEntry is a PAX extended header carrying records, in order.
func paxEntry(records ...string) []byte {
	var body []byte
	for i := 0; i < len(records); i += 2 {
		line := " " + records[i] + "=" + records[i+1] + "\n"
		n := len(line) + 1
		for len(fmt.Sprint(n))+len(line) != n {
			n++
		}
		body = append(body, fmt.Sprint(n)+line...)
	}
	return append(withChecksum(ustarBlock("PaxHeaders/x", tar.TypeXHeader, int64(len(body)), false)), padded(body)...)
}

// padded is body filled with zeros to whole blocks.
func padded(body []byte) []byte {
	return append(body, make([]byte, padding(int64(len(body))))...)
}

// sparseTars are archives holding one sparse file "s" of sparseSize bytes
// whose only data are the 4 bytes "evil", in each sparse form archive/tar
// reads.
func sparseTars() map[string][]byte {
	size := fmt.Sprint(sparseSize)
	gnu := ustarBlock("s", tar.TypeGNUSparse, 4, true)
	copy(gnu[386:], "00000000000\x0000000000004\x00") // data at 0, 4 bytes long
	copy(gnu[483:], fmt.Sprintf("%011o\x00", sparseSize))
	archives := map[string][][]byte{
		"old GNU": {withChecksum(gnu), padded([]byte("evil"))},
		"PAX 0.1": {
			paxEntry("GNU.sparse.numblocks", "1", "GNU.sparse.map", "0,4", "GNU.sparse.size", size),
			withChecksum(ustarBlock("s", tar.TypeReg, 4, false)), padded([]byte("evil")),
		},
		"PAX 1.0": {
			paxEntry("GNU.sparse.major", "1", "GNU.sparse.minor", "0", "GNU.sparse.name", "s", "GNU.sparse.realsize", size),
			withChecksum(ustarBlock("GNUSparseFile.0/s", tar.TypeReg, tarBlock+4, false)),
			padded([]byte("1\n0\n4\n")), padded([]byte("evil")),
		},
	}
	out := make(map[string][]byte)
	for name, blocks := range archives {
		out[name] = append(bytes.Join(blocks, nil), zeroBlocks[:]...)
	}
	return out
}

func TestExtractTarRefusesSparseFiles(t *testing.T) {
	for form, archive := range sparseTars() {
		hdr, err := tar.NewReader(bytes.NewReader(archive)).Next()
		if err != nil || hdr.Name != "s" || hdr.Size != sparseSize {
			t.Fatalf("%s: test archive reads as %+v (%v), want a sparse %q of %d bytes", form, hdr, err, "s", sparseSize)
		}
		dst := t.TempDir()
		err = extractTar(bytes.NewReader(archive), dst, nil)
		if err == nil || !strings.Contains(err.Error(), `tar entry "s" is a sparse file`) {
			t.Errorf("%s: got error %v, want one saying entry \"s\" is a sparse file", form, err)
		}
		if written := bytesUnder(t, dst); written != 0 {
			t.Errorf("%s: wrote %d bytes, want none", form, written)
		}
		if err := extractTar(bytes.NewReader(archive), t.TempDir(), []string{"s"}); err != nil {
			t.Errorf("%s: excluded sparse entry: got %v, want no error", form, err)
		}
	}
}

// bytesUnder is the total size of the regular files under dir.
func bytesUnder(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func TestExtractTarIsByteExact(t *testing.T) {
	zeros := make([]byte, 3*tarBlock+7)
	binary := make([]byte, 70000)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	cases := []struct {
		name, typ, body string
	}{
		{"d/", "dir", ""},
		{"d/empty", "file", ""},
		{"d/zeros", "file", string(zeros)},
		{"d/binary", "file", string(binary)},
		{"d/one-block", "file", strings.Repeat("x", tarBlock)},
		{"d/link", "link", "binary"},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, c := range cases {
		hdr := &tar.Header{Name: c.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(c.body))}
		switch c.typ {
		case "dir":
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		case "link":
			hdr.Typeflag, hdr.Size, hdr.Linkname = tar.TypeSymlink, 0, c.body
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(c.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := extractTar(&buf, dst, nil); err != nil {
		t.Fatalf("extractTar: %v", err)
	}
	for _, c := range cases {
		p := filepath.Join(dst, c.name)
		switch c.typ {
		case "dir":
			if info, err := os.Stat(p); err != nil || !info.IsDir() {
				t.Errorf("%s: got %v (%v), want a directory", c.name, info, err)
			}
		case "link":
			if target, err := os.Readlink(p); err != nil || target != c.body {
				t.Errorf("%s: got link to %q (%v), want %q", c.name, target, err, c.body)
			}
		default:
			if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, []byte(c.body)) {
				t.Errorf("%s: got %d bytes (%v), want the %d written", c.name, len(got), err, len(c.body))
			}
		}
	}
}

func TestExtractTarRefusesOverlongNames(t *testing.T) {
	cases := []struct {
		depth   int
		refused bool
	}{
		{maxPath/2 - 1, false}, // "a/" repeated, then "f": 4095 bytes
		{maxPath / 2, true},
		{50000, true},
	}
	for _, c := range cases {
		name := strings.Repeat("a/", c.depth) + "f"
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		_ = tw.Close()
		err := extractTar(&buf, t.TempDir(), nil)
		if refused := err != nil && strings.Contains(err.Error(), "more than a Linux path's"); refused != c.refused {
			t.Errorf("%d-byte name: got error %v, want refused %v", len(name), err, c.refused)
		}
	}
}

func TestExtractTarWritesNoMoreThanItCarries(t *testing.T) {
	// A header claiming a terabyte with 4 bytes behind it.
	archive := withChecksum(ustarBlock("big", tar.TypeReg, 1<<40, false))
	archive = append(archive, "evil"...)
	dst := t.TempDir()
	err := extractTar(bytes.NewReader(archive), dst, nil)
	if err == nil || !strings.Contains(err.Error(), "big") {
		t.Errorf("got error %v, want one naming entry big", err)
	}
	if written := bytesUnder(t, dst); written > 4 {
		t.Errorf("wrote %d bytes from a 4-byte body, want at most 4", written)
	}
}

func FuzzExtractTar(f *testing.F) {
	f.Add(evilTar(&testing.T{}, [3]string{"a/b", "file", ""}).Bytes())
	f.Add(evilTar(&testing.T{}, [3]string{"l", "link", "/"}, [3]string{"l/x", "file", ""}).Bytes())
	f.Add(evilTar(&testing.T{}, [3]string{"../x", "file", ""}).Bytes())
	for _, archive := range sparseTars() {
		f.Add(archive)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "dst")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = extractTar(bytes.NewReader(data), dst, nil)
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 {
			t.Errorf("extraction wrote beside the destination: %v", entries)
		}
		if written := bytesUnder(t, dst); written > int64(len(data)) {
			t.Errorf("extraction wrote %d bytes from a %d-byte stream", written, len(data))
		}
	})
}
