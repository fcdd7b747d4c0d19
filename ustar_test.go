package main

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
	"time"
)

// archiveTarHeader is what archive/tar writes for hdr: its header blocks,
// or nil where it refuses hdr.
func archiveTarHeader(hdr tar.Header) []byte {
	var buf bytes.Buffer
	if err := tar.NewWriter(&buf).WriteHeader(&hdr); err != nil {
		return nil
	}
	return buf.Bytes()
}

// ourHeader is what formatUSTAR writes for hdr, or nil where it leaves hdr
// to archive/tar.
func ourHeader(hdr tar.Header) []byte {
	blk := make([]byte, tarBlock)
	if !formatUSTAR(blk, &hdr) {
		return nil
	}
	return blk
}

func TestFormatUSTARWritesWhatArchiveTarWrites(t *testing.T) {
	mtime := time.Date(2026, 12, 2, 19, 0, 0, 0, time.UTC)
	file := tar.Header{Typeflag: tar.TypeReg, Name: "etc/motd", Mode: 0o644, Size: 1234,
		ModTime: mtime, Uname: "root", Gname: "root"}
	with := func(change func(h *tar.Header)) tar.Header {
		h := file
		change(&h)
		return h
	}
	for _, c := range []struct {
		name string
		hdr  tar.Header
		ours bool // formatUSTAR writes it, rather than leaving it to archive/tar (which may refuse it)
	}{
		{"file", file, true},
		{"empty file", with(func(h *tar.Header) { h.Size = 0 }), true},
		{"setuid, setgid, sticky", with(func(h *tar.Header) { h.Mode = 0o7755 }), true},
		{"directory", with(func(h *tar.Header) { h.Typeflag, h.Name, h.Size = tar.TypeDir, "etc/", 0 }), true},
		{"symlink", with(func(h *tar.Header) { h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, "../x", 0 }), true},
		{"name of 100 bytes", with(func(h *tar.Header) { h.Name = strings.Repeat("n", 100) }), true},
		{"time rounded down", with(func(h *tar.Header) { h.ModTime = mtime.Add(499 * time.Millisecond) }), true},
		{"time rounded up", with(func(h *tar.Header) { h.ModTime = mtime.Add(500 * time.Millisecond) }), true},
		{"zero time", with(func(h *tar.Header) { h.ModTime = time.Time{} }), true},
		{"access and change times, dropped", with(func(h *tar.Header) { h.AccessTime, h.ChangeTime = mtime, mtime }), true},
		{"largest ustar size", with(func(h *tar.Header) { h.Size = 1<<33 - 1 }), true},
		{"name of 101 bytes", with(func(h *tar.Header) { h.Name = strings.Repeat("n", 101) }), false},
		{"long name with a directory", with(func(h *tar.Header) { h.Name = strings.Repeat("d", 60) + "/" + strings.Repeat("n", 60) }), false},
		{"non-ASCII name", with(func(h *tar.Header) { h.Name = "etc/müll" }), false},
		{"link of 101 bytes", with(func(h *tar.Header) { h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, strings.Repeat("l", 101), 0 }), false},
		{"8 GiB", with(func(h *tar.Header) { h.Size = 1 << 33 }), false},
		{"before 1970", with(func(h *tar.Header) { h.ModTime = time.Unix(-1, 0) }), false},
		{"long user name", with(func(h *tar.Header) { h.Uname = strings.Repeat("u", 33) }), false},
		{"file with a trailing slash", with(func(h *tar.Header) { h.Name = "etc/" }), false},
		{"device", with(func(h *tar.Header) { h.Typeflag, h.Size, h.Devmajor, h.Devminor = tar.TypeChar, 0, 1, 3 }), false},
		{"format chosen", with(func(h *tar.Header) { h.Format = tar.FormatPAX }), false},
		{"PAX records", with(func(h *tar.Header) { h.PAXRecords = map[string]string{"comment": "x"} }), false},
	} {
		ours, theirs := ourHeader(c.hdr), archiveTarHeader(c.hdr)
		switch {
		case (ours != nil) != c.ours:
			t.Errorf("%s: formatUSTAR wrote it: %v; want %v", c.name, ours != nil, c.ours)
		case ours != nil && !bytes.Equal(ours, theirs):
			t.Errorf("%s: formatUSTAR wrote\n%q\narchive/tar wrote\n%q", c.name, ours, theirs)
		}
	}
}

func FuzzFormatUSTAR(f *testing.F) {
	f.Add(byte(tar.TypeReg), "etc/motd", "", int64(0o644), int64(1234), int64(1764700000), int64(0), int64(0))
	f.Add(byte(tar.TypeDir), "etc/", "", int64(0o755), int64(0), int64(0), int64(500000000), int64(0))
	f.Add(byte(tar.TypeSymlink), "lib", "usr/lib", int64(0o777), int64(0), int64(1), int64(999999999), int64(0))
	f.Add(byte(tar.TypeReg), strings.Repeat("n", 100), "", int64(0o4755), int64(1<<33-1), int64(1<<33-1), int64(0), int64(7))
	f.Fuzz(func(t *testing.T, typ byte, name, link string, mode, size, sec, nsec, dev int64) {
		hdr := tar.Header{Typeflag: typ, Name: name, Linkname: link, Mode: mode, Size: size,
			ModTime: time.Unix(sec, nsec), Uname: "root", Gname: "root", Devmajor: dev}
		ours := ourHeader(hdr)
		if ours == nil {
			return
		}
		// Where formatUSTAR writes a header, archive/tar writes the same
		// block and nothing else: no PAX or GNU record before it.
		if theirs := archiveTarHeader(hdr); !bytes.Equal(ours, theirs) {
			t.Errorf("for %+v formatUSTAR wrote\n%q\narchive/tar wrote\n%q", hdr, ours, theirs)
		}
	})
}
