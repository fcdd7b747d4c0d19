package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

func TestShutdownEmptiesTheIdentityBootWrote(t *testing.T) {
	cfg := testConfig(t)
	state, f, out := testState(t, cfg)
	target := cfg.containerPath()
	makeTree(t, target)
	f.running["web"] = true
	// As the container's first boot does.
	if err := os.WriteFile(filepath.Join(target, "etc/machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "var/lib/dbus/machine-id"), []byte("x\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	if action := (&stepShutdown{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if id, err := os.ReadFile(filepath.Join(target, "etc/machine-id")); err != nil || len(id) != 0 {
		t.Errorf("etc/machine-id: %q (%v); want it emptied", id, err)
	}
	if _, err := os.Lstat(filepath.Join(target, "var/lib/dbus/machine-id")); !os.IsNotExist(err) {
		t.Errorf("var/lib/dbus/machine-id still there (%v)", err)
	}
	assertCalls(t, f, "poweroff web")
	assertNoCall(t, f, "exec")
	if f.running["web"] {
		t.Error("container left running")
	}
	if started, _ := state.Get(stateStarted).(bool); started {
		t.Error("the stopped container is still marked as started")
	}
}

// A raw image's tree is out of reach, so its identity is reset inside,
// before poweroff.
func TestShutdownResetsARawImageInside(t *testing.T) {
	state, f, out := testState(t, testConfig(t))
	f.running["web"] = true
	if action := (&stepShutdown{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	assertCalls(t, f, "exec web /bin/cp /dev/null /etc/machine-id", "exec web /bin/rm -f /var/lib/dbus/machine-id", "poweroff web")
}

// A reset that fails inside stops the build with the command's last
// words, and leaves the container running for the start step's Cleanup.
func TestShutdownStopsWhenTheResetInsideFails(t *testing.T) {
	state, f, out := testState(t, testConfig(t))
	f.running["web"] = true
	f.exec = func(req execRequest) (int, error) {
		_, _ = req.Stderr.Write([]byte("cp: cannot create regular file '/etc/machine-id': Read-only file system\n"))
		return 1, nil
	}
	state.Put(stateStarted, true)
	if action := (&stepShutdown{}).Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatalf("Run went on after the reset failed\n%s", out)
	}
	want := "resetting the machine-id (/bin/cp): exit status 1: cp: cannot create regular file '/etc/machine-id': Read-only file system"
	if err := stepError(state); err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
	assertNoCall(t, f, "poweroff")
	if started, _ := state.Get(stateStarted).(bool); !started {
		t.Error("the running container is no longer marked as started, so nothing would stop it")
	}
}

// A build on the host's network gives the image its own /etc/resolv.conf
// back once the container is off.
func TestShutdownPutsBackTheImagesResolvConf(t *testing.T) {
	useHostResolvConf(t)
	cfg := testConfig(t)
	state, f, out := testState(t, cfg)
	tree := cfg.containerPath()
	makeTree(t, tree)
	f.running["web"] = true
	const stub = "../run/systemd/resolve/stub-resolv.conf"
	if err := os.Symlink(stub, filepath.Join(tree, resolvConfPath)); err != nil {
		t.Fatal(err)
	}
	saved, err := saveResolvConf(tree)
	if err != nil {
		t.Fatal(err)
	}
	state.Put(stateResolvConf, saved)
	replaceAsNspawnDoes(t, tree)
	if action := (&stepShutdown{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if link, err := os.Readlink(filepath.Join(tree, resolvConfPath)); err != nil || link != stub {
		t.Errorf("etc/resolv.conf links to %q (%v); want the image's %q back", link, err, stub)
	}
	if !strings.Contains(out.String(), "Put back the image's own /etc/resolv.conf") {
		t.Errorf("output does not say the file was put back:\n%s", out)
	}
}

// Shutting down undoes nothing: its Cleanup leaves the container, on or
// off, to the steps that made and started it, however the build ended.
func TestShutdownCleanupDoesNothing(t *testing.T) {
	for _, outcome := range buildOutcomes {
		cfg := testConfig(t)
		state, f, out := testState(t, cfg)
		makeTree(t, cfg.containerPath())
		f.running["web"] = true
		state.Put(stateStarted, true)
		state.Put(stateCreated, true)
		outcome.mark(state)
		(&stepShutdown{}).Cleanup(state)
		if calls := f.callLog(); len(calls) != 0 || out.Len() != 0 {
			t.Errorf("%s: Cleanup ran %q and said %q; want nothing", outcome.name, calls, out)
		}
		if id, err := os.ReadFile(filepath.Join(cfg.containerPath(), "etc/machine-id")); err != nil || len(id) == 0 {
			t.Errorf("%s: Cleanup touched the tree: etc/machine-id %q (%v)", outcome.name, id, err)
		}
		if started, _ := state.Get(stateStarted).(bool); !started {
			t.Errorf("%s: Cleanup changed what the start step's Cleanup reads", outcome.name)
		}
	}
}

// The reset is needed only for a tree; a raw image, whose tree the host
// cannot reach, has no path to give.
func TestTreePathIsATreeOnly(t *testing.T) {
	cfg := testConfig(t)
	if err := os.WriteFile(cfg.containerPath()+".raw", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cfg.treePath(); got != "" {
		t.Errorf("treePath of a raw image = %q; want none", got)
	}
	if err := os.Mkdir(cfg.containerPath(), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := cfg.treePath(); got != cfg.containerPath() {
		t.Errorf("treePath of a tree = %q; want %q", got, cfg.containerPath())
	}
}

// A reproducible build's stopped tree loses what the build made anew, and
// no time in it is later than the build's source date; a plain one keeps it.
func TestShutdownForgetsTheBuildWhenReproducible(t *testing.T) {
	for _, reproducible := range []bool{true, false} {
		cfg := testConfig(t)
		state, f, out := testState(t, cfg)
		target := cfg.containerPath()
		makeTree(t, target)
		seed := filepath.Join(target, "var/lib/systemd/random-seed")
		if err := os.MkdirAll(filepath.Dir(seed), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(seed, []byte("seed"), 0o600); err != nil {
			t.Fatal(err)
		}
		epoch := time.Unix(1_700_000_000, 0)
		if reproducible {
			state.Put(stateSourceDate, epoch)
		}
		f.running["web"] = true
		if action := (&stepShutdown{}).Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("Run: %v\n%s", stepError(state), out)
		}
		if pathExists(seed) == reproducible {
			t.Errorf("reproducible %v: the random seed is there: %v", reproducible, pathExists(seed))
		}
		info, err := os.Stat(filepath.Join(target, "etc/machine-id"))
		if err != nil {
			t.Fatal(err)
		}
		if clamped := !info.ModTime().After(epoch); clamped != reproducible {
			t.Errorf("reproducible %v: the emptied machine-id's time is %s", reproducible, info.ModTime())
		}
	}
}
