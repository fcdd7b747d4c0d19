package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// makeImageTree writes a small tree with one of each kind of entry, in
// the given order, with times after epoch.
func makeImageTree(t *testing.T, dir string, order []string) {
	t.Helper()
	for _, name := range order {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch name {
		case "usr/bin/ping":
			if err := os.WriteFile(p, []byte("ELF"), 0o755); err != nil {
				t.Fatal(err)
			}
			err := unix.Lsetxattr(p, "user.nspawn-test", []byte("cap"), 0)
			if err != nil && !errors.Is(err, unix.ENOTSUP) {
				t.Fatal(err)
			}
			xattrsWork = err == nil
		case "usr/bin/link":
			if err := os.Link(filepath.Join(dir, "usr/bin/ping"), p); err != nil {
				t.Fatal(err)
			}
		case "etc/os-release":
			if err := os.Symlink("../usr/lib/os-release", p); err != nil {
				t.Fatal(err)
			}
		case "run/fifo":
			if err := unix.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// xattrsWork says whether the test's file system took the test's
// extended attribute.
var xattrsWork bool

var imageTreeEntries = []string{"usr/lib/os-release", "usr/bin/ping", "usr/bin/link", "etc/os-release", "etc/hosts", "run/fifo"}

// Two trees with the same contents, made in a different order at
// different times, give the same bytes.
func TestImageTarDependsOnContentsAlone(t *testing.T) {
	epoch := time.Unix(1_700_000_000, 0)
	var tars [][]byte
	for i, order := range [][]string{imageTreeEntries, {"usr/bin/ping", "usr/bin/link", "etc/hosts", "usr/lib/os-release", "run/fifo", "etc/os-release"}} {
		dir := t.TempDir()
		makeImageTree(t, dir, order)
		if i == 1 {
			time.Sleep(1100 * time.Millisecond) // other mtimes, all after epoch
			if err := os.WriteFile(filepath.Join(dir, "etc/hosts"), []byte("etc/hosts"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := writeImageTar(&buf, dir, epoch); err != nil {
			t.Fatal(err)
		}
		tars = append(tars, buf.Bytes())
	}
	if !bytes.Equal(tars[0], tars[1]) {
		t.Fatalf("the same tree gave two archives:\n%v\n%v", tarListing(t, tars[0]), tarListing(t, tars[1]))
	}
}

func TestImageTarEntries(t *testing.T) {
	dir := t.TempDir()
	makeImageTree(t, dir, imageTreeEntries)
	old := time.Unix(1_500_000_000, 0)
	if err := os.Chtimes(filepath.Join(dir, "usr/lib/os-release"), old, old); err != nil {
		t.Fatal(err)
	}
	epoch := time.Unix(1_700_000_000, 0)
	var buf bytes.Buffer
	if err := writeImageTar(&buf, dir, epoch); err != nil {
		t.Fatal(err)
	}
	got := tarListing(t, buf.Bytes())
	want := []string{
		"./ dir", "etc/ dir", "etc/hosts reg", "etc/os-release sym ../usr/lib/os-release",
		"run/ dir", "run/fifo fifo", "usr/ dir", "usr/bin/ dir", "usr/bin/link reg", "usr/bin/ping link usr/bin/link",
		"usr/lib/ dir", "usr/lib/os-release reg",
	}
	if len(got) != len(want) {
		t.Fatalf("entries:\n%q\nwant:\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %q, want %q", i, got[i], want[i])
		}
	}
	r := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		wantTime := epoch
		if hdr.Name == "usr/lib/os-release" {
			wantTime = old
		}
		if !hdr.ModTime.Equal(wantTime) || !hdr.AccessTime.IsZero() || !hdr.ChangeTime.IsZero() || hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: mtime %s atime %s ctime %s owner %q:%q; want mtime %s and no other time or name",
				hdr.Name, hdr.ModTime, hdr.AccessTime, hdr.ChangeTime, hdr.Uname, hdr.Gname, wantTime)
		}
		if hdr.Name == "usr/bin/link" && xattrsWork {
			if v := hdr.PAXRecords["SCHILY.xattr.user.nspawn-test"]; v != "cap" {
				t.Errorf("xattr of %s: %q, want %q", hdr.Name, v, "cap")
			}
		}
	}
}

// tarListing is each entry as "name type [target]".
func tarListing(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	r := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		kind := map[byte]string{tar.TypeDir: "dir", tar.TypeReg: "reg", tar.TypeSymlink: "sym", tar.TypeLink: "link", tar.TypeFifo: "fifo"}[hdr.Typeflag]
		line := hdr.Name + " " + kind
		if hdr.Linkname != "" {
			line += " " + hdr.Linkname
		}
		out = append(out, line)
	}
}

// A tree shifted into a user namespace range is written with plain ids.
func TestOwnerShift(t *testing.T) {
	for _, tc := range []struct {
		uid, gid, want uint32
	}{
		{0, 0, 0},
		{1000, 1000, 0},
		{0x6e6e0000, 0x6e6e0000, 0x6e6e0000},
		{0x6e6e0000, 0x6e6e0001, 0},
	} {
		if got := ownerShift(tc.uid, tc.gid); got != tc.want {
			t.Errorf("root owned by %d:%d: shift %d, want %d", tc.uid, tc.gid, got, tc.want)
		}
	}
}

func TestDebugfsTimesScript(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".hidden", `a "quoted" name`, "d/e"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := debugfsTimesScript(dir, time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, name := range []string{`"/"`, `"/.hidden"`, `"/a ""quoted"" name"`, `"/d"`, `"/d/e"`} {
		want += "sif " + name + " atime @1700000000\nsif " + name + " ctime @1700000000\n"
	}
	if got != want {
		t.Errorf("script:\n%s\nwant:\n%s", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "line\nbreak"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := debugfsTimesScript(dir, time.Unix(0, 0)); err == nil || !strings.Contains(err.Error(), "has a line break in its name") {
		t.Errorf("a name with a line break: %v", err)
	}
}
