package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
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

// importState is the state bag for stepImport making web from src.
func importState(t *testing.T, src string) (*multistep.BasicStateBag, *fakeHost, *bytes.Buffer) {
	t.Helper()
	return testState(t, testConfig(t, "import", src, "machines_dir", defaultMachinesDir))
}

func TestImportStepReadsEachKindOfSource(t *testing.T) {
	dir := t.TempDir()
	tar := filepath.Join(dir, "base.tar")
	if err := os.WriteFile(tar, tarHeader, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src  string
		kind importKind
	}{{tar, importTar}, {dir, importFS}, {"https://example.invalid/base.tar.zst", pullTar}} {
		state, f, out := importState(t, tc.src)
		if action := (&stepImport{}).Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("%s: Run: %v\n%s", tc.src, stepError(state), out)
		}
		if calls, want := f.callLog(), "import "+string(tc.kind)+" "+tc.src+" web"; len(calls) != 1 || calls[0] != want {
			t.Errorf("%s: calls %q; want %q alone", tc.src, calls, want)
		}
		if created, _ := state.Get(stateCreated).(bool); !created {
			t.Errorf("%s: the image is not marked as made by this build, so a failure would leave it", tc.src)
		}
		if want := "Importing " + tc.src + " as web (" + string(tc.kind) + ")..."; !strings.Contains(out.String(), want) {
			t.Errorf("%s: output does not say %q:\n%s", tc.src, want, out)
		}
	}
}

// A failed import may have left part of an image: it is marked as this
// build's, for the Cleanup to remove.
func TestImportStepFailureMarksThePartialImage(t *testing.T) {
	state, f, _ := importState(t, "https://example.invalid/base.raw")
	f.failOn["import"] = errors.New("importctl pull-raw failed (exit status 1): Connection refused")
	if action := (&stepImport{}).Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatal("Run went on after the import failed")
	}
	want := "import https://example.invalid/base.raw: importctl pull-raw failed (exit status 1): Connection refused"
	if err := stepError(state); err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
	if created, _ := state.Get(stateCreated).(bool); !created {
		t.Error("the partial image is not marked as this build's")
	}
}

// Its Cleanup waits for the transfer to end and removes the image, after
// a failure only.
func TestImportStepCleanupRemovesTheImageAfterAFailure(t *testing.T) {
	for _, outcome := range buildOutcomes {
		state, f, out := importState(t, "https://example.invalid/base.tar")
		step := &stepImport{}
		if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("%s: Run: %v\n%s", outcome.name, stepError(state), out)
		}
		outcome.mark(state)
		step.Cleanup(state)
		cleanup := f.callLog()[1:]
		if outcome.failed {
			assertCalls(t, f, "import", "importing web", "image-known web", "remove web")
		} else if len(cleanup) != 0 {
			t.Errorf("%s: Cleanup ran %q; want nothing", outcome.name, cleanup)
		}
		if f.images["web"] == outcome.failed {
			t.Errorf("%s: web there after Cleanup: %v; want %v", outcome.name, f.images["web"], !outcome.failed)
		}
	}
}

// An image the step did not make, as one there before the build, is
// never removed.
func TestImportStepCleanupLeavesWhatItDidNotMake(t *testing.T) {
	state, f, _ := importState(t, "https://example.invalid/base.tar")
	f.images["web"] = true
	state.Put("error", errors.New(`container "web" already exists`))
	(&stepImport{}).Cleanup(state)
	if calls := f.callLog(); len(calls) != 0 || !f.images["web"] {
		t.Errorf("Cleanup ran %q; web there: %v; want nothing done", calls, f.images["web"])
	}
}
