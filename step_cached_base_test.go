package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

// stubInstall stands in for the bootstrap step and counts its runs.
type stubInstall struct{ runs int }

func (s *stubInstall) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	s.runs++
	state.Put(stateCreated, true)
	return multistep.ActionContinue
}

func (s *stubInstall) Cleanup(multistep.StateBag) {}

// cachedBaseState is the state bag for stepCachedBase building web from
// bookworm; the bases live in machined's own directory.
func cachedBaseState(t *testing.T) (*multistep.BasicStateBag, *fakeHost, *Config, *bytes.Buffer) {
	t.Helper()
	cfg := testConfig(t, "suite", "bookworm", "cache_base", true, "machines_dir", defaultMachinesDir)
	state, f, out := testState(t, cfg)
	return state, f, cfg, out
}

func TestCachedBaseMissInstallsAndKeepsABase(t *testing.T) {
	state, f, cfg, out := cachedBaseState(t)
	install := new(stubInstall)
	step := &stepCachedBase{install: install}
	if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	base := cfg.baseImageName()
	if install.runs != 1 {
		t.Errorf("install ran %d times; want once", install.runs)
	}
	assertCalls(t, f, "image-known "+base, "clone web "+base+"-partial",
		"rename "+base+"-partial "+base, "read-only "+base)
	if !f.images[base] || f.images[base+"-partial"] {
		t.Errorf("images after the miss: %v; want %s and no partial one", f.images, base)
	}
}

func TestCachedBaseHitClonesWithoutInstalling(t *testing.T) {
	state, f, cfg, out := cachedBaseState(t)
	base := cfg.baseImageName()
	f.images[base] = true
	install := new(stubInstall)
	if action := (&stepCachedBase{install: install}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if install.runs != 0 {
		t.Errorf("install ran on a hit")
	}
	assertCalls(t, f, "clone "+base+" web")
	assertNoCall(t, f, "rename")
	if created, _ := state.Get(stateCreated).(bool); !created {
		t.Errorf("the clone is not marked as made by this build, so a failure would leave it")
	}
	if !strings.Contains(out.String(), "Cloning cached base image "+base) {
		t.Errorf("output does not say the base was reused:\n%s", out)
	}
}

// The cache only saves time: failing to keep the base warns, removes the
// half-made copy, and lets the build go on.
func TestCachedBaseKeepFailureOnlyWarns(t *testing.T) {
	state, f, cfg, out := cachedBaseState(t)
	base := cfg.baseImageName()
	f.failOn["rename"] = errors.New("disk full")
	if action := (&stepCachedBase{install: new(stubInstall)}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run halted: %v", stepError(state))
	}
	assertCalls(t, f, "clone web "+base+"-partial", "rename", "remove "+base+"-partial")
	if !strings.Contains(out.String(), "Warning: cache_base: could not keep base image") || !strings.Contains(out.String(), "disk full") {
		t.Errorf("no warning naming the failure:\n%s", out)
	}
}

// Its Cleanup removes the container the step made, after a failure only,
// and never the base it kept: later builds clone that.
func TestCachedBaseCleanupRemovesTheContainerNotTheBase(t *testing.T) {
	for _, outcome := range buildOutcomes {
		state, f, cfg, out := cachedBaseState(t)
		base := cfg.baseImageName()
		f.images[base] = true
		step := &stepCachedBase{install: new(stubInstall)}
		if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("%s: Run: %v\n%s", outcome.name, stepError(state), out)
		}
		before := len(f.callLog())
		outcome.mark(state)
		step.Cleanup(state)
		cleanup := f.callLog()[before:]
		if !f.images[base] {
			t.Errorf("%s: the cached base was removed; calls %q", outcome.name, cleanup)
		}
		if outcome.failed != !f.images["web"] {
			t.Errorf("%s: container web there after Cleanup: %v; want %v (calls %q)", outcome.name, f.images["web"], !outcome.failed, cleanup)
		}
		if !outcome.failed && len(cleanup) != 0 {
			t.Errorf("%s: Cleanup ran %q; want nothing", outcome.name, cleanup)
		}
	}
}

func TestBaseImageNameFollowsWhatIsInstalled(t *testing.T) {
	cfg := func(kv ...string) *Config {
		c := &Config{Suite: "bookworm", Bootstrapper: "debootstrap"}
		for i := 0; i+1 < len(kv); i += 2 {
			switch kv[i] {
			case "suite":
				c.Suite = kv[i+1]
			case "variant":
				c.Variant = kv[i+1]
			case "mirror":
				c.Mirror = kv[i+1]
			case "bootstrapper":
				c.Bootstrapper = kv[i+1]
			case "packages":
				c.Packages = strings.Split(kv[i+1], ",")
			case "components":
				c.Components = strings.Split(kv[i+1], ",")
			}
		}
		c.PackerBuildName = "any"
		return c
	}
	plain := cfg().baseImageName()
	if other := cfg().baseImageName(); other != plain {
		t.Errorf("the same base got two names: %s, %s", plain, other)
	}
	c := cfg()
	c.PackerBuildName = "other"
	if c.baseImageName() != plain {
		t.Errorf("the build name changed the base's name")
	}
	for _, kv := range [][]string{
		{"suite", "trixie"}, {"variant", "minbase"}, {"mirror", "http://127.0.0.1/debian"}, {"bootstrapper", "mmdebstrap"},
		{"packages", "curl"}, {"packages", "curl,nginx-light"}, {"components", "main,contrib"},
	} {
		if got := cfg(kv...).baseImageName(); got == plain {
			t.Errorf("%s=%s gives the same base name %s", kv[0], kv[1], got)
		}
	}
	// What the tools install anyway names no other base.
	if got := cfg("packages", "dbus", "components", "main").baseImageName(); got != plain {
		t.Errorf("packages [dbus] and components [main] gave base %s, not %s", got, plain)
	}
	long := cfg("suite", strings.Repeat("s", 80)).baseImageName()
	for _, name := range []string{plain, long} {
		if !strings.HasPrefix(name, basePrefix) || len(name) > maxNameLength || !machineName.MatchString(name[1:]) {
			t.Errorf("base name %q is not a hidden, valid machine name", name)
		}
	}
}
