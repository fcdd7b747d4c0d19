package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// makeRichTree writes a tree with every kind of entry writeImageTar meets
// in a container, and names whose order in a directory differs from the
// order of the whole paths ("a" holds "a/b", which sorts after "a.b").
func makeRichTree(t testing.TB, dir string) {
	t.Helper()
	write := func(name string, data []byte, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("a/b", []byte("under a"), 0o644)
	write("a.b", []byte("beside a"), 0o600)
	write("a-b/empty", nil, 0o644)
	write("usr/bin/ping", []byte("ELF"), 0o4755)
	write("usr/lib/big", bytes.Repeat([]byte("0123456789abcdef"), 300_000), 0o644)
	write("name with spaces and ünïcode", []byte("x"), 0o644)
	write(strings.Repeat("long", 40)+"/"+strings.Repeat("name", 30), []byte("pax path"), 0o644)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Link(filepath.Join(dir, "usr/bin/ping"), filepath.Join(dir, "usr/bin/ping6")))
	must(os.Link(filepath.Join(dir, "a.b"), filepath.Join(dir, "a/z")))
	must(os.Symlink("../usr/lib", filepath.Join(dir, "a/lib")))
	must(os.Symlink("/", filepath.Join(dir, "escape")))
	must(os.Symlink("/etc/hostname", filepath.Join(dir, "usr/escape-file")))
	must(os.Mkdir(filepath.Join(dir, "run"), 0o1777))
	must(unix.Mkfifo(filepath.Join(dir, "run/fifo"), 0o600))
	l, err := net.Listen("unix", filepath.Join(dir, "run/socket"))
	must(err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	must(l.Close())
	for _, x := range []struct{ path, name, value string }{
		{"usr/bin/ping", "user.caps", "cap"},
		{"usr/bin", "user.dir", "d"},
		{"a.b", "user.a", "1"},
		{"a.b", "user.b", ""},
	} {
		if err := unix.Lsetxattr(filepath.Join(dir, x.path), x.name, []byte(x.value), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		must(os.Mkdir(filepath.Join(dir, "dev"), 0o755))
		must(unix.Mknod(filepath.Join(dir, "dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		must(unix.Mknod(filepath.Join(dir, "dev/loop0"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 0))))
		must(os.Lchown(filepath.Join(dir, "dev/loop0"), 0, 6))
		must(os.Lchown(filepath.Join(dir, "a.b"), 1000, 1000))
	}
	// Mode bits as the test says, whatever the umask and os.FileMode's
	// spelling of setuid and sticky.
	for name, mode := range map[string]uint32{"usr/bin/ping": 0o4755, "run": 0o1777, "dev/null": 0o666, "dev/loop0": 0o660} {
		if err := unix.Chmod(filepath.Join(dir, name), mode); err != nil && !errors.Is(err, unix.ENOENT) {
			t.Fatal(err)
		}
	}
	old := time.Unix(1_500_000_000, 999_999_999)
	must(os.Chtimes(filepath.Join(dir, "a.b"), old, old))
	must(os.Chtimes(filepath.Join(dir, "usr/lib"), old, old))
}

// Every entry of the rich tree is in the archive with what it is, in each
// directory's name order, and the archive's bytes come out the same twice.
func TestImageTarRichTree(t *testing.T) {
	dir := t.TempDir()
	makeRichTree(t, dir)
	epoch := time.Unix(1_700_000_000, 0)
	var first, second bytes.Buffer
	if err := writeImageTar(&first, dir, epoch); err != nil {
		t.Fatal(err)
	}
	if err := writeImageTar(&second, dir, epoch); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(first.Bytes()) != sha256.Sum256(second.Bytes()) {
		t.Error("two archives of one tree differ")
	}
	var got []string
	r := tar.NewReader(bytes.NewReader(first.Bytes()))
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%s %c %o %d", hdr.Name, hdr.Typeflag, hdr.Mode, len(body))
		if hdr.Linkname != "" {
			line += " -> " + hdr.Linkname
		}
		got = append(got, line)
		if !hdr.ModTime.Equal(epoch) && hdr.ModTime.Unix() != 1_500_000_000 {
			t.Errorf("%s: mtime %s, want epoch or the file's own, cut to the second", hdr.Name, hdr.ModTime)
		}
		if hdr.Name == "a.b" && xattrsWork && (hdr.PAXRecords["SCHILY.xattr.user.a"] != "1" || hdr.PAXRecords["SCHILY.xattr.user.b"] != "") {
			t.Errorf("a.b: xattrs %q", hdr.PAXRecords)
		}
		if hdr.Name == "dev/loop0" && (hdr.Devmajor != 7 || hdr.Devminor != 0 || hdr.Gid != 6) {
			t.Errorf("dev/loop0: %d:%d group %d, want 7:0 group 6", hdr.Devmajor, hdr.Devminor, hdr.Gid)
		}
	}
	long := strings.Repeat("long", 40)
	want := []string{
		"./ 5 755 0", "a/ 5 755 0", "a/b 0 644 7", "a/lib 2 777 0 -> ../usr/lib", "a/z 0 600 8",
		"a-b/ 5 755 0", "a-b/empty 0 644 0", "a.b 1 600 0 -> a/z",
	}
	if os.Geteuid() == 0 {
		want = append(want, "dev/ 5 755 0", "dev/loop0 4 660 0", "dev/null 3 666 0")
	}
	want = append(want, "escape 2 777 0 -> /", long+"/ 5 755 0", long+"/"+strings.Repeat("name", 30)+" 0 644 8",
		"name with spaces and ünïcode 0 644 1", "run/ 5 1777 0", "run/fifo 6 600 0",
		"usr/ 5 755 0", "usr/bin/ 5 755 0", "usr/bin/ping 0 4755 3", "usr/bin/ping6 1 4755 0 -> usr/bin/ping",
		"usr/escape-file 2 777 0 -> /etc/hostname", "usr/lib/ 5 755 0", "usr/lib/big 0 644 4800000")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
