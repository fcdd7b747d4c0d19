package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

func TestWaitStoppedGivesUpAtTimeout(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	f := newFakeHost()
	f.running["web"] = true
	err := waitStopped(context.Background(), f, "web", hostInit{cmd.Process}, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), `container web did not stop within timeout 100ms; raise "timeout"`) {
		t.Errorf("got %v; want a timeout naming the option", err)
	}
	assertNoCall(t, f, "running")
}

// A known init is signalled: machinectl runs only to see the machine go.
func TestStopContainerSignalsAKnownInit(t *testing.T) {
	f := newFakeHost()
	f.running["web"] = true
	out := stopWeb(t, f, fakeInit{f, "web"})
	assertCalls(t, f, "poweroff web by signal", "running web")
	for _, c := range f.callLog() {
		if c == "poweroff web" || strings.HasPrefix(c, "init") {
			t.Errorf("calls: %q with the init known; got:\n  %s", c, strings.Join(f.callLog(), "\n  "))
		}
	}
	if !strings.Contains(out, "Container web is off.") {
		t.Errorf("output does not say the container is off:\n%s", out)
	}
}

// Without it, or once it has gone (a reboot starts a new one), machinectl
// powers the container off while the init is looked up.
func TestStopContainerFallsBackToMachinectl(t *testing.T) {
	for name, known := range map[string]func(*fakeHost) initProcess{
		"unknown": func(*fakeHost) initProcess { return nil },
		"gone":    func(f *fakeHost) initProcess { return fakeInit{f, "old"} },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeHost()
			f.running["web"] = true
			stopWeb(t, f, known(f))
			assertCalls(t, f, "poweroff web", "running web")
			if !f.called("init web") {
				t.Errorf("the container's init was not looked up:\n  %s", strings.Join(f.callLog(), "\n  "))
			}
			assertNoCall(t, f, "terminate")
		})
	}
}

// When poweroff fails, the unit is stopped: a cancelled machinectl start
// leaves it starting before machined lists the machine, and machined may
// list it between the failed poweroff and the check, while the unit's
// start job, which machinectl terminate fails on, is still pending.
func TestStopContainerStopsTheUnitWhenPoweroffFails(t *testing.T) {
	for _, listed := range []bool{false, true} {
		t.Run(fmt.Sprintf("listed=%v", listed), func(t *testing.T) {
			f := newFakeHost()
			f.running["web"] = listed
			f.failOn["poweroff"] = errors.New("No machine 'web' known")
			stopWeb(t, f, nil)
			assertCalls(t, f, "poweroff web", "stop-unit web", "running web")
			assertNoCall(t, f, "terminate")
		})
	}
}

// A unit that will not stop in time has its processes killed: its stop
// job still pends, and machinectl terminate would only join it.
func TestStopContainerKillsWhatTheUnitStopLeaves(t *testing.T) {
	f := newFakeHost()
	f.running["web"] = true
	f.failOn["poweroff"] = errors.New("No machine 'web' known")
	f.failOn["stop-unit"] = errors.New("timed out")
	out := stopWeb(t, f, nil)
	assertCalls(t, f, "poweroff web", "stop-unit web", "running web", "kill-unit web")
	assertNoCall(t, f, "terminate")
	if !strings.Contains(out, "stopping systemd-nspawn@web.service: timed out") {
		t.Errorf("the warning does not say the unit stop failed:\n%s", out)
	}
}

// A container the failed build removes is terminated, not asked to power
// off: a boot that hung would not answer before the timeout.
func TestDiscardTerminatesAtOnce(t *testing.T) {
	f := newFakeHost()
	f.running["web"] = true
	f.stubbornPoweroff = true
	stopWith(t, discardContainer, f)
	assertCalls(t, f, "terminate web")
	assertNoCall(t, f, "poweroff")
	if f.running["web"] {
		t.Error("container left running")
	}
}

// machinectl terminate fails on a container machined does not list yet;
// its unit's processes are killed instead.
func TestDiscardKillsTheUnitWhenTerminateFails(t *testing.T) {
	f := newFakeHost()
	f.running["web"] = true
	f.failOn["terminate"] = errors.New("No machine 'web' known")
	stopWith(t, discardContainer, f)
	assertCalls(t, f, "terminate web", "kill-unit web")
	if f.running["web"] {
		t.Error("container left running")
	}
}

// A cancelled machinectl start leaves the unit starting, with no machine
// for machined to list: the removal that follows waits until the unit has
// stopped and its nspawn let go of the image.
func TestDiscardWaitsForAStartingUnit(t *testing.T) {
	f := newFakeHost()
	f.failOn["terminate"] = errors.New("No machine 'web' known")
	f.unitLingers = 2
	stopWith(t, discardContainer, f)
	assertCalls(t, f, "terminate web", "kill-unit web", "unit-active web", "unit-active web", "unit-active web")
	if f.unitLingers != 0 {
		t.Errorf("discard returned while the unit was still active")
	}
}

// One that stopped by itself is no error.
func TestDiscardOfAStoppedContainer(t *testing.T) {
	f := newFakeHost()
	f.failOn["terminate"] = errors.New("No machine 'web' known")
	f.failOn["kill-unit"] = errors.New("Unit systemd-nspawn@web.service not loaded")
	stopWith(t, discardContainer, f)
	assertCalls(t, f, "terminate web", "kill-unit web", "running web")
}

// stopWeb runs stopContainer on the container "web", whose init is init,
// with a one-second timeout and returns what it said.
func stopWeb(t *testing.T, f *fakeHost, init initProcess) string {
	t.Helper()
	return stopWith(t, func(ctx context.Context, m Host, ui packersdk.Ui, cfg *Config, _ initProcess, _ bool) error {
		return stopContainer(ctx, m, ui, cfg, init, false)
	}, f)
}

// An emulated container's systemd is asked over its bus, known init or
// not: a signal would reach it shifted (SIGRTMIN+4 as SIGRTMIN+2,
// emergency mode). Its init is still watched to see it go.
func TestStopContainerAsksAnEmulatedOneOverItsBus(t *testing.T) {
	for name, known := range map[string]func(*fakeHost) initProcess{
		"init known":   func(f *fakeHost) initProcess { return fakeInit{f, "web"} },
		"init unknown": func(*fakeHost) initProcess { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeHost()
			f.running["web"] = true
			out := stopWith(t, func(ctx context.Context, m Host, ui packersdk.Ui, cfg *Config, _ initProcess, _ bool) error {
				return stopContainer(ctx, m, ui, cfg, known(f), true)
			}, f)
			assertCalls(t, f, "poweroff-by-bus web")
			for _, c := range f.callLog() {
				if strings.HasPrefix(c, "poweroff web") || strings.HasPrefix(c, "terminate") || strings.HasPrefix(c, "stop-unit") {
					t.Errorf("%s: call %q for an emulated container; got:\n  %s", name, c, strings.Join(f.callLog(), "\n  "))
				}
			}
			if !strings.Contains(out, "Container web is off.") {
				t.Errorf("%s: output does not say the container is off:\n%s", name, out)
			}
		})
	}
}

// stopWith stops the container "web" with stop, given a one-second
// timeout, and returns what it said.
func stopWith(t *testing.T, stop func(context.Context, Host, packersdk.Ui, *Config, initProcess, bool) error, f *fakeHost) string {
	t.Helper()
	cfg := &Config{timeout: time.Second}
	cfg.PackerBuildName = "web"
	var out strings.Builder
	ui := &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: &out, ErrorWriter: &out}
	if err := stop(context.Background(), f, ui, cfg, nil, false); err != nil {
		t.Fatalf("stopping web: %v", err)
	}
	return out.String()
}

// An emulated container is killed, never stopped through its unit or
// machinectl terminate: both make nspawn send SIGRTMIN+3, which qemu-user
// delivers as SIGRTMIN+1 (rescue mode), and wait for it to halt.
func TestEmulatedContainerIsKilledNotStopped(t *testing.T) {
	emulatedStop := func(stop func(context.Context, Host, packersdk.Ui, *Config, initProcess, bool) error) func(context.Context, Host, packersdk.Ui, *Config, initProcess, bool) error {
		return func(ctx context.Context, m Host, ui packersdk.Ui, cfg *Config, init initProcess, _ bool) error {
			return stop(ctx, m, ui, cfg, init, true)
		}
	}
	cases := []struct {
		name  string
		stop  func(context.Context, Host, packersdk.Ui, *Config, initProcess, bool) error
		setup func(f *fakeHost)
		want  []string
	}{
		{"discarded", discardContainer, func(f *fakeHost) {}, []string{"kill-unit web"}},
		{"bus does not answer", stopContainer, func(f *fakeHost) {
			f.failOn["poweroff-by-bus"] = errors.New("Failed to connect to bus: Connection refused")
		}, []string{"poweroff-by-bus web", "kill-unit web"}},
		{"does not stop", stopContainer, func(f *fakeHost) { f.stubbornPoweroff = true }, []string{"poweroff-by-bus web", "kill-unit web"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHost()
			f.running["web"] = true
			tc.setup(f)
			stopWith(t, emulatedStop(tc.stop), f)
			assertCalls(t, f, tc.want...)
			for _, verb := range []string{"terminate", "stop-unit", "poweroff web"} {
				assertNoCall(t, f, verb)
			}
			if f.running["web"] {
				t.Error("container left running")
			}
		})
	}
}
