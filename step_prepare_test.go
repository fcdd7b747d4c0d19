package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

func TestPrepareStepGoesOnWhenTheNameIsFree(t *testing.T) {
	state, f, out := testState(t, testConfig(t))
	if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if calls := strings.Join(f.callLog(), "\n"); calls != "running web\nimage-known web" {
		t.Errorf("calls:\n%s\nwant only the two questions", calls)
	}
	if out.Len() != 0 {
		t.Errorf("output for a free name:\n%s", out)
	}
}

// An existing container, whichever way it exists, stops the build without
// -force, and neither the step nor its Cleanup touches it.
func TestPrepareStepRefusesAnExistingContainerAndLeavesIt(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, cfg *Config, f *fakeHost)
	}{
		{"a tree in machines_dir", func(t *testing.T, cfg *Config, f *fakeHost) { makeTree(t, cfg.containerPath()) }},
		{"a raw image in machines_dir", func(t *testing.T, cfg *Config, f *fakeHost) {
			if err := os.WriteFile(cfg.containerPath()+".raw", []byte("raw"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"an image machined knows", func(t *testing.T, cfg *Config, f *fakeHost) { f.images["web"] = true }},
		{"a running machine", func(t *testing.T, cfg *Config, f *fakeHost) { f.running["web"] = true }},
	}
	for _, tc := range cases {
		cfg := testConfig(t)
		state, f, out := testState(t, cfg)
		tc.setup(t, cfg, f)
		before := snapshot(t, cfg.MachinesDir) + fmt.Sprint(f.images, f.running)
		step := &stepPrepare{}
		if action := step.Run(context.Background(), state); action != multistep.ActionHalt {
			t.Errorf("%s: Run went on\n%s", tc.name, out)
			continue
		}
		want := `container "web" already exists in ` + cfg.MachinesDir + `; remove it (machinectl remove web) or run packer build -force to replace it`
		if err := stepError(state); err == nil || err.Error() != want {
			t.Errorf("%s: error %v; want %q", tc.name, err, want)
		}
		step.Cleanup(state)
		for _, c := range []string{"terminate", "poweroff", "remove", "unlink"} {
			if f.called(c) {
				t.Errorf("%s: %q ran on a container this build did not make; calls %q", tc.name, c, f.callLog())
			}
		}
		if after := snapshot(t, cfg.MachinesDir) + fmt.Sprint(f.images, f.running); after != before {
			t.Errorf("%s: the container changed:\nbefore %s\nafter  %s", tc.name, before, after)
		}
	}
}

// snapshot lists every path under dir, to tell whether it was touched.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(paths, " ")
}

// -force stops a running container and removes it, the way it was made:
// a tree of its own machines_dir directly, an image through machined.
func TestPrepareStepForceReplaces(t *testing.T) {
	t.Run("a running tree in machines_dir", func(t *testing.T) {
		cfg := testConfig(t, "packer_force", true)
		state, f, out := testState(t, cfg)
		makeTree(t, cfg.containerPath())
		f.running["web"] = true
		if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("Run: %v\n%s", stepError(state), out)
		}
		assertCalls(t, f, "terminate web", "running web", "unlink web", "remove-tree "+cfg.containerPath())
		if pathExists(cfg.containerPath()) || f.running["web"] {
			t.Errorf("the old container is still there (running %v)", f.running["web"])
		}
		if !strings.Contains(out.String(), "Replacing existing container web (-force)...") {
			t.Errorf("output does not say the container is replaced:\n%s", out)
		}
	})
	t.Run("an image machined knows", func(t *testing.T) {
		state, f, out := testState(t, testConfig(t, "packer_force", true, "machines_dir", defaultMachinesDir))
		f.images["web"] = true
		if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("Run: %v\n%s", stepError(state), out)
		}
		assertCalls(t, f, "remove web")
		assertNoCall(t, f, "terminate")
		assertNoCall(t, f, "remove-tree")
		if f.images["web"] {
			t.Error("the old image is still there")
		}
	})
}

// -force removes a symlink in machines_dir, never what it points to.
func TestPrepareStepForceDoesNotFollowASymlink(t *testing.T) {
	cfg := testConfig(t, "packer_force", true)
	state, _, out := testState(t, cfg)
	outside := t.TempDir()
	keep := filepath.Join(outside, "precious")
	if err := os.WriteFile(keep, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, cfg.containerPath()); err != nil {
		t.Fatal(err)
	}
	if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("-force removed a file behind a symlink in machines_dir: %v", err)
	}
	if pathExists(cfg.containerPath()) {
		t.Errorf("the symlink %s is still there", cfg.containerPath())
	}
}

// keepsTrees is a host whose removal of a tree leaves it there, as one
// busy or immutable would.
type keepsTrees struct{ *fakeHost }

func (k keepsTrees) RemoveTree(path string) error { return k.record("remove-tree %s", path) }

// A tree that outlives its removal stops the build: the new one would be
// made on top of it.
func TestPrepareStepForceStopsWhenTheTreeStays(t *testing.T) {
	cfg := testConfig(t, "packer_force", true)
	state, f, _ := testState(t, cfg)
	state.Put(stateHost, keepsTrees{f})
	makeTree(t, cfg.containerPath())
	if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatal("Run went on with the old tree in place")
	}
	want := "-force: " + cfg.containerPath() + " is still there after removal; remove it by hand"
	if err := stepError(state); err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
}

func TestPrepareStepForceStopsWhenRemovalFails(t *testing.T) {
	state, f, _ := testState(t, testConfig(t, "packer_force", true, "machines_dir", defaultMachinesDir))
	f.images["web"] = true
	f.failOn["remove web"] = errors.New("machinectl remove failed (exit status 1): Device or resource busy")
	if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatal("Run went on with the old image in place")
	}
	want := `-force: cannot remove container "web": machinectl remove failed (exit status 1): Device or resource busy`
	if err := stepError(state); err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
}

// The machine to clone must exist; a missing one stops the build before
// anything else is asked or touched.
func TestPrepareStepChecksTheCloneSource(t *testing.T) {
	cfg := testConfig(t, "clone", "base", "machines_dir", defaultMachinesDir)
	state, f, _ := testState(t, cfg)
	if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatal("Run went on without the machine to clone")
	}
	want := `clone: machine "base" not found in /var/lib/machines; build it first or fix "clone"`
	if err := stepError(state); err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
	if calls := f.callLog(); len(calls) != 1 || calls[0] != "image-known base" {
		t.Errorf("calls %q; want only the question about base", calls)
	}

	state, f, out := testState(t, cfg)
	f.images["base"] = true
	if action := (&stepPrepare{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("with base there: %v\n%s", stepError(state), out)
	}
}

// The step makes nothing, so its Cleanup undoes nothing: not even what
// -force removed comes back, and a failure later removes nothing more.
func TestPrepareStepCleanupDoesNothing(t *testing.T) {
	for _, outcome := range buildOutcomes {
		cfg := testConfig(t)
		state, f, out := testState(t, cfg)
		outcome.mark(state)
		makeTree(t, cfg.containerPath())
		f.running["web"] = true
		f.images["web"] = true
		(&stepPrepare{}).Cleanup(state)
		if calls := f.callLog(); len(calls) != 0 || out.Len() != 0 {
			t.Errorf("%s: Cleanup ran %q and said %q; want nothing", outcome.name, calls, out)
		}
		if !pathExists(filepath.Join(cfg.containerPath(), "etc/shadow")) {
			t.Errorf("%s: Cleanup touched the tree", outcome.name)
		}
	}
}
