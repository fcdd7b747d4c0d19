package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

// bootstrapState is the state bag for stepBootstrap installing web with
// the options kv, on a host whose bootstrapper moves a prepared tree into
// place.
func bootstrapState(t *testing.T, kv ...interface{}) (*multistep.BasicStateBag, *treeMaker, *bytes.Buffer) {
	t.Helper()
	state, f, out := testState(t, testConfig(t, kv...))
	from := filepath.Join(t.TempDir(), "web")
	makeTree(t, from)
	maker := &treeMaker{fakeHost: f, from: from}
	state.Put(stateHost, maker)
	return state, maker, out
}

func TestBootstrapStepInstallsAndSetsUpTheTree(t *testing.T) {
	state, maker, out := bootstrapState(t, "suite", "bookworm")
	cfg := state.Get(stateConfig).(*Config)
	target := cfg.containerPath()
	if action := (&stepBootstrap{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	assertCalls(t, maker.fakeHost,
		"debootstrap --include="+strings.Join(includePackages("bookworm", nil), ",")+" --cache-dir="+cfg.CacheDir+" bookworm "+target,
		"enable "+target+" systemd-networkd.service systemd-resolved.service")
	if created, _ := state.Get(stateCreated).(bool); !created {
		t.Error("the tree is not marked as made by this build, so a failure would leave it")
	}
	// dpkg ran unsafe while installing, and is safe again in the image.
	if maker.unsafeIO != unsafeIO {
		t.Errorf("debootstrap found the drop-in %q; want %q", maker.unsafeIO, unsafeIO)
	}
	if pathExists(filepath.Join(target, unsafeIOPath)) {
		t.Errorf("%s is still in the image", unsafeIOPath)
	}
	if pathExists(filepath.Join(target, "etc/hostname")) {
		t.Error("etc/hostname is still in the image; nspawn sets the hostname from the machine name")
	}
	if !strings.Contains(out.String(), "Installing bookworm into "+target+" with debootstrap...") {
		t.Errorf("output does not say what is installed where:\n%s", out)
	}
}

// packages and components reach the bootstrapper's own run.
func TestBootstrapStepInstallsTheUsersPackages(t *testing.T) {
	state, maker, out := bootstrapState(t, "suite", "bookworm",
		"packages", []string{"nginx-light", "curl"}, "components", []string{"main", "contrib"})
	cfg := state.Get(stateConfig).(*Config)
	if action := (&stepBootstrap{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	assertCalls(t, maker.fakeHost,
		"debootstrap --include="+strings.Join(includePackages("bookworm", nil), ",")+",nginx-light,curl --components=main,contrib --cache-dir="+cfg.CacheDir+" bookworm "+cfg.containerPath())
}

// mmdebstrap wants to make the target itself: it gets none.
func TestBootstrapStepGivesMmdebstrapNoTarget(t *testing.T) {
	state, maker, out := bootstrapState(t, "bootstrapper", "mmdebstrap")
	if action := (&stepBootstrap{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	assertCalls(t, maker.fakeHost, "unshare --mount --propagation=private -- mmdebstrap --mode=root")
	if maker.targetExisted {
		t.Error("the target was there before mmdebstrap ran")
	}
}

func TestBootstrapStepFailures(t *testing.T) {
	cases := []struct {
		name, failure string
		want          []string
	}{
		{"the tool fails", "debootstrap failed (exit status 1): E: No such script: /usr/share/debootstrap/scripts/sid2",
			[]string{`debootstrap of suite "unstable": debootstrap failed (exit status 1): E: No such script`}},
		{"the mirror's Release expired", "debootstrap failed (exit status 1): E: Release file for http://m/debian/dists/unstable/InRelease is expired",
			[]string{`debootstrap of suite "unstable": the mirror's Release file has expired: `, expiredReleaseAdvice}},
	}
	for _, tc := range cases {
		state, maker, _ := bootstrapState(t)
		maker.failOn["debootstrap"] = errors.New(tc.failure)
		if action := (&stepBootstrap{}).Run(context.Background(), state); action != multistep.ActionHalt {
			t.Errorf("%s: Run went on", tc.name)
			continue
		}
		err := stepError(state)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v; want it to say %q", tc.name, err, w)
			}
		}
		// A failed bootstrap leaves part of a tree, for the Cleanup.
		if created, _ := state.Get(stateCreated).(bool); !created {
			t.Errorf("%s: the partial tree is not marked as this build's", tc.name)
		}
		assertNoCall(t, maker.fakeHost, "enable")
	}
}

// Its Cleanup removes the tree after a failure only.
func TestBootstrapStepCleanupRemovesTheTreeAfterAFailure(t *testing.T) {
	for _, outcome := range buildOutcomes {
		state, maker, out := bootstrapState(t)
		target := state.Get(stateConfig).(*Config).containerPath()
		step := &stepBootstrap{}
		if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("%s: Run: %v\n%s", outcome.name, stepError(state), out)
		}
		before := len(maker.callLog())
		outcome.mark(state)
		step.Cleanup(state)
		cleanup := maker.callLog()[before:]
		if outcome.failed {
			assertCalls(t, maker.fakeHost, "unlink web", "remove-tree "+target)
		} else if len(cleanup) != 0 {
			t.Errorf("%s: Cleanup ran %q; want nothing", outcome.name, cleanup)
		}
		if pathExists(target) == outcome.failed {
			t.Errorf("%s: the tree there after Cleanup: %v; want %v", outcome.name, pathExists(target), !outcome.failed)
		}
	}
}

// A tree the step did not make, as one there before the build, is never
// removed.
func TestBootstrapStepCleanupLeavesWhatItDidNotMake(t *testing.T) {
	state, maker, _ := bootstrapState(t)
	target := state.Get(stateConfig).(*Config).containerPath()
	makeTree(t, target)
	state.Put("error", errors.New(`container "web" already exists`))
	(&stepBootstrap{}).Cleanup(state)
	if calls := maker.callLog(); len(calls) != 0 {
		t.Errorf("Cleanup ran %q; want nothing", calls)
	}
	if _, err := os.Stat(filepath.Join(target, "etc/shadow")); err != nil {
		t.Errorf("the tree was touched: %v", err)
	}
}

// A given mirror whose Release file has expired is refused before the
// bootstrapper runs or anything is made, unless check_valid_until is
// false; a current one, or one that cannot be read, goes on to the install.
func TestBootstrapStepRefusesAStaleMirrorFirst(t *testing.T) {
	stale, current := t.TempDir(), t.TempDir()
	for dir, until := range map[string]string{stale: "Sat, 09 Nov 2024 10:16:26 UTC", current: "Sat, 09 Nov 2124 10:16:26 UTC"} {
		writeRelease(t, dir, "unstable", "Sat, 02 Nov 2024 10:16:26 UTC\nValid-Until: "+until)
	}
	cases := []struct {
		name    string
		kv      []interface{}
		refused bool
	}{
		{"stale", []interface{}{"mirror", "file://" + stale}, true},
		{"stale, taken", []interface{}{"mirror", "file://" + stale, "check_valid_until", false}, false},
		{"current", []interface{}{"mirror", "file://" + current}, false},
		{"unreadable", []interface{}{"mirror", "file://" + t.TempDir()}, false},
	}
	for _, tc := range cases {
		state, maker, out := bootstrapState(t, tc.kv...)
		action := (&stepBootstrap{}).Run(context.Background(), state)
		if !tc.refused {
			if !maker.called("debootstrap") {
				t.Errorf("%s: debootstrap did not run (%v)\n%s", tc.name, stepError(state), out)
			}
			continue
		}
		if action != multistep.ActionHalt {
			t.Fatalf("%s: Run went on", tc.name)
		}
		err := stepError(state)
		for _, w := range []string{`debootstrap of suite "unstable": the mirror's Release file has expired (file://` + stale + `/dists/unstable/InRelease was valid until Sat, 09 Nov 2024 10:16:26 UTC)`, expiredReleaseAdvice} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v; want it to say %q", tc.name, err, w)
			}
		}
		if len(maker.callLog()) != 0 {
			t.Errorf("%s: the host was touched: %v", tc.name, maker.callLog())
		}
		if created, _ := state.Get(stateCreated).(bool); created {
			t.Errorf("%s: marked as made, so the cleanup would remove what it did not make", tc.name)
		}
	}
}
