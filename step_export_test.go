package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

func TestExportWritesEachFormat(t *testing.T) {
	out := t.TempDir()
	zst, raw := filepath.Join(out, "web.tar.zst"), filepath.Join(out, "web.raw")
	tb := newTestBuild(t, "export", []string{zst, raw}, "export_ownership", "reset")
	makeTreeOnDebootstrap(tb)
	art, err := tb.run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	tree := filepath.Join(tb.dir, "web")
	assertCalls(t, tb.fake, "poweroff web", "reset-ownership "+tree,
		"export web .tar.zst "+zst+".partial", "make-raw "+tree+" "+raw+".partial")
	if !reflect.DeepEqual(art.Files(), []string{zst, raw}) {
		t.Errorf("Files() = %q, want %q", art.Files(), []string{zst, raw})
	}
	for _, f := range []string{zst, raw} {
		if !exists(f) || exists(f+".partial") {
			t.Errorf("%s: want the whole file and no .partial", f)
		}
	}
	assertNoCall(t, tb.fake, "remove")
	if !strings.Contains(art.String(), zst) {
		t.Errorf("String() %q does not name the export", art.String())
	}
}

func TestExportWithoutKeepingContainer(t *testing.T) {
	tar := filepath.Join(t.TempDir(), "web.tar")
	tb := newTestBuild(t, "export", []string{tar}, "keep_container", false)
	makeTreeOnDebootstrap(tb)
	art, err := tb.run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	assertCalls(t, tb.fake, "export web .tar "+tar+".partial", "remove-tree "+filepath.Join(tb.dir, "web"))
	if err := art.Destroy(); err != nil || exists(tar) {
		t.Errorf("Destroy: %v; export still there: %v", err, exists(tar))
	}
}

func TestFailedExportLeavesNothing(t *testing.T) {
	out := t.TempDir()
	first, second := filepath.Join(out, "a.tar.gz"), filepath.Join(out, "b.tar.xz")
	tb := newTestBuild(t, "export", []string{first, second})
	makeTreeOnDebootstrap(tb)
	tb.fake.failOn["export web .tar.xz"] = errors.New("No space left on device")
	if _, err := tb.run(context.Background()); err == nil || !strings.Contains(err.Error(), "No space left") {
		t.Fatalf("Run error %v; want the export failure", err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Errorf("a failed build left exports: %v", entries)
	}
	assertCalls(t, tb.fake, "remove-tree "+filepath.Join(tb.dir, "web"))
}

func TestExportConfigErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.tar")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := []interface{}{"cache_dir", dir, "machines_dir", dir}
	with := func(kv ...interface{}) []interface{} { return append(append([]interface{}{}, ok...), kv...) }
	cases := []struct {
		name string
		kv   []interface{}
		want string
	}{
		{"unknown suffix", with("export", []string{dir + "/x.zip"}), `export: "` + dir + `/x.zip" has no known suffix`},
		{"missing directory", with("export", []string{"/nonexistent/x.tar"}), `export: the directory of "/nonexistent/x.tar" does not exist`},
		{"existing file", with("export", []string{existing}), `export: "` + existing + `" exists; remove it or run packer build -force`},
		{"twice", with("export", []string{dir + "/a.tar", dir + "/a.tar"}), `is listed twice`},
		{"bad ownership", with("export", []string{dir + "/a.tar"}, "export_ownership", "shift"), `export_ownership: "shift" is neither "keep" nor "reset"`},
		{"reset without export", with("export_ownership", "reset"), `export_ownership: "reset" works on exports`},
		{"nothing kept", with("keep_container", false), `keep_container: false with no "export" would leave nothing`},
	}
	for _, tc := range cases {
		_, _, err := new(Builder).Prepare(rawConfig("web", tc.kv...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want %q", tc.name, err, tc.want)
		}
	}
	// One string is a list of one, in JSON templates.
	b := new(Builder)
	if _, _, err := b.Prepare(rawConfig("web", with("export", dir+"/one.tar.zst")...)); err != nil || len(b.config.Export) != 1 {
		t.Errorf("export as one string: %v, %q", err, b.config.Export)
	}
	// -force replaces an earlier export.
	if _, _, err := new(Builder).Prepare(rawConfig("web", with("export", []string{existing}, "packer_force", true)...)); err != nil {
		t.Errorf("-force with an existing export: %v", err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestExportStepWithNothingToExportDoesNothing(t *testing.T) {
	state, f, out := testState(t, testConfig(t))
	if action := (&stepExport{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if calls := f.callLog(); len(calls) != 0 || out.Len() != 0 {
		t.Errorf("Run ran %q and said %q; want nothing", calls, out)
	}
	if _, ok := state.GetOk(stateExported); ok {
		t.Error("files are listed as exported")
	}
}

// Its Cleanup removes the files it wrote, after a failure only, and no
// other file beside them.
func TestExportStepCleanupRemovesOnlyItsFilesAfterAFailure(t *testing.T) {
	for _, outcome := range buildOutcomes {
		dir := t.TempDir()
		tar, raw, other := filepath.Join(dir, "web.tar"), filepath.Join(dir, "web.raw"), filepath.Join(dir, "other.tar")
		if err := os.WriteFile(other, []byte("not ours"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(t, "export", []string{tar, raw})
		makeTree(t, cfg.containerPath())
		state, f, out := testState(t, cfg)
		step := &stepExport{}
		if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("%s: Run: %v\n%s", outcome.name, stepError(state), out)
		}
		if got := state.Get(stateExported); !reflect.DeepEqual(got, []string{tar, raw}) {
			t.Errorf("%s: exported %q; want %q", outcome.name, got, []string{tar, raw})
		}
		checkCleanupOfFiles(t, step, state, f, outcome.name, outcome.failed, outcome.mark, other, tar, raw)
	}
}

// checkCleanupOfFiles marks the build's outcome, runs step's Cleanup and
// checks that it removed the files it wrote after a failure only, never
// other, and ran nothing on the host.
func checkCleanupOfFiles(t *testing.T, step multistep.Step, state multistep.StateBag, f *fakeHost,
	outcome string, failed bool, mark func(multistep.StateBag), other string, written ...string) {
	t.Helper()
	before := len(f.callLog())
	mark(state)
	step.Cleanup(state)
	for _, p := range written {
		if exists(p) == failed {
			t.Errorf("%s: %s there after Cleanup: %v; want %v", outcome, p, exists(p), !failed)
		}
	}
	if !exists(other) {
		t.Errorf("%s: Cleanup removed a file the step did not write", outcome)
	}
	if calls := f.callLog()[before:]; len(calls) != 0 {
		t.Errorf("%s: Cleanup ran %q on the host; want nothing", outcome, calls)
	}
}

// A failed export leaves neither its partial file nor, once the Cleanup
// has run, the exports written before it.
func TestExportStepFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.tar.gz"), filepath.Join(dir, "b.tar.xz")
	state, f, _ := testState(t, testConfig(t, "export", []string{first, second}))
	f.failOn["export web .tar.xz"] = errors.New("No space left on device")
	step := &stepExport{}
	if action := step.Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatal("Run went on after the export failed")
	}
	if err := stepError(state); err == nil || err.Error() != "export to "+second+": No space left on device" {
		t.Errorf("error %v; want the failed export named", err)
	}
	if !exists(first) || exists(second+".partial") {
		t.Errorf("after Run: first export there %v (want true), partial second there %v (want false)", exists(first), exists(second+".partial"))
	}
	step.Cleanup(state)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the failed build left exports: %v", entries)
	}
}

// A reproducible build writes its tar exports itself, compressed by the
// format's tool, and a raw one with a fixed identity.
func TestReproducibleExport(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, "export", []string{filepath.Join(dir, "a.tar"), filepath.Join(dir, "a.tar.zst"), filepath.Join(dir, "a.raw")})
	makeTree(t, cfg.containerPath())
	state, f, out := testState(t, cfg)
	epoch := time.Unix(1_700_000_000, 0)
	state.Put(stateSourceDate, epoch)
	if action := (&stepExport{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	assertNoCall(t, f, "export ")
	uuid := fixedUUID("web", epoch)
	assertCalls(t, f, "compress .tar.zst "+filepath.Join(dir, "a.tar.zst.partial"),
		"make-raw "+cfg.containerPath()+" "+filepath.Join(dir, "a.raw.partial")+" uuid="+uuid+" epoch=1700000000")
	var want bytes.Buffer
	if err := writeImageTar(&want, cfg.containerPath(), epoch); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.tar", "a.tar.zst"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s is not the tree's tar (%v)", name, err)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(uuid) {
		t.Errorf("fixed UUID %q is not a version 4 UUID", uuid)
	}
	if fixedUUID("web", epoch) != uuid || fixedUUID("api", epoch) == uuid {
		t.Error("the fixed UUID does not follow the name alone")
	}
}
