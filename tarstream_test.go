package main

import (
	"archive/tar"
	"bytes"
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

func FuzzExtractTar(f *testing.F) {
	f.Add(evilTar(&testing.T{}, [3]string{"a/b", "file", ""}).Bytes())
	f.Add(evilTar(&testing.T{}, [3]string{"l", "link", "/"}, [3]string{"l/x", "file", ""}).Bytes())
	f.Add(evilTar(&testing.T{}, [3]string{"../x", "file", ""}).Bytes())
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
	})
}
