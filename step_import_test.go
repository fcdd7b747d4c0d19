package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestClassifyImport(t *testing.T) {
	cases := []struct {
		source string
		isDir  bool
		want   importKind
	}{
		{"https://example.invalid/base.tar", false, pullTar},
		{"https://example.invalid/base.tar.xz", false, pullTar},
		{"http://example.invalid/base.tar.gz?token=1", false, pullTar},
		{"https://example.invalid/base.tar.zst", false, pullTar},
		{"https://example.invalid/base.raw", false, pullRaw},
		{"https://example.invalid/base.qcow2", false, pullRaw},
		{"https://example.invalid/download", false, pullRaw},
		{"/srv/base.tar.zst", false, importTarZstd},
		{"/srv/BASE.TAR.ZST", false, importTarZstd},
		{"/srv/base.tzst", false, importTarZstd},
		{"/srv/base.tar", false, importTar},
		{"/srv/base.tar.gz", false, importTar},
		{"/srv/base.tgz", false, importTar},
		{"/srv/base.tar.xz", false, importTar},
		{"/srv/base.raw", false, importRaw},
		{"/srv/base.img", false, importRaw},
		{"/srv/image", false, importRaw},
		{"noextension", false, importRaw},
		{"", false, importRaw},
		{".", true, importFS},
		{"/srv/tree.tar", true, importFS},
		{"/srv/tree", true, importFS},
	}
	for _, tc := range cases {
		if got := classifyImport(tc.source, tc.isDir); got != tc.want {
			t.Errorf("classifyImport(%q, dir=%v) = %s, want %s", tc.source, tc.isDir, got, tc.want)
		}
	}
}

func FuzzClassifyImport(f *testing.F) {
	for _, seed := range []string{"", ".", "a.tar.zst", "https://h/x.tar", "http://", "/x.", ".tar", "a?b#c"} {
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, source string, isDir bool) {
		kind := classifyImport(source, isDir)
		if isDir && !isURL(source) && kind != importFS {
			t.Errorf("directory %q classified as %s", source, kind)
		}
		if isURL(source) != kind.isPull() {
			t.Errorf("%q: URL %v but kind %s", source, isURL(source), kind)
		}
		for _, tool := range []importTool{machinectlTool, importctlTool} {
			if argv := importArgv(tool, importSource{Kind: kind, Path: source}, "web"); argv[len(argv)-1] != "web" {
				t.Errorf("%q: %s argv %q does not end with the name", source, tool, argv)
			}
		}
	})
}

func TestPartialImportsAreOnlyOurs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".#web0123456789abcdef", ".#web20123456789abcdef", ".#web0123", "web", ".#other0123456789abcdef"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := partialImports(dir, "web")
	if want := []string{filepath.Join(dir, ".#web0123456789abcdef")}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
