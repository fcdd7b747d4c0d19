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

func TestWaitProcessGoneFollowsTheExit(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	go func() { _ = cmd.Wait() }()
	start := time.Now()
	if err := waitProcessGone(context.Background(), cmd.Process.Pid, 5*time.Second); err != nil {
		t.Fatalf("waitProcessGone: %v", err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("returned after %s, before the process exited", took)
	}
}

func TestWaitProcessGoneGivesUpAtTimeout(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	f := newFakeMachine()
	f.running["web"] = true
	err := waitStopped(context.Background(), f, "web", cmd.Process.Pid, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), `container web did not stop within timeout 100ms; raise "timeout"`) {
		t.Errorf("got %v; want a timeout naming the option", err)
	}
	assertNoCall(t, f, "running")
}

func TestStopContainerWatchesTheLeader(t *testing.T) {
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Skip("no true:", err)
	}
	f := newFakeMachine()
	f.running["web"] = true
	f.leader = done.Process.Pid // exited: the wait ends at once
	out := stopWeb(t, f)
	assertCalls(t, f, "poweroff web", "running web")
	if !f.called("leader web") {
		t.Errorf("the container's init was not looked up:\n  %s", strings.Join(f.callLog(), "\n  "))
	}
	assertNoCall(t, f, "terminate")
	if !strings.Contains(out, "Container web is off.") {
		t.Errorf("output does not say the container is off:\n%s", out)
	}
}

// When poweroff fails, the unit is stopped: a cancelled machinectl start
// leaves it starting before machined lists the machine, and machined may
// list it between the failed poweroff and the check, while the unit's
// start job, which machinectl terminate fails on, is still pending.
func TestStopContainerStopsTheUnitWhenPoweroffFails(t *testing.T) {
	for _, listed := range []bool{false, true} {
		t.Run(fmt.Sprintf("listed=%v", listed), func(t *testing.T) {
			f := newFakeMachine()
			f.running["web"] = listed
			f.failOn["poweroff"] = errors.New("No machine 'web' known")
			stopWeb(t, f)
			assertCalls(t, f, "poweroff web", "stop-unit web", "running web")
			assertNoCall(t, f, "terminate")
		})
	}
}

// A unit that will not stop in time is terminated.
func TestStopContainerTerminatesWhatTheUnitStopLeaves(t *testing.T) {
	f := newFakeMachine()
	f.running["web"] = true
	f.failOn["poweroff"] = errors.New("No machine 'web' known")
	f.failOn["stop-unit"] = errors.New("timed out")
	out := stopWeb(t, f)
	assertCalls(t, f, "poweroff web", "stop-unit web", "running web", "terminate web")
	if !strings.Contains(out, "stopping systemd-nspawn@web.service: timed out") {
		t.Errorf("the warning does not say the unit stop failed:\n%s", out)
	}
}

// stopWeb runs stopContainer on the container "web" with a one-second
// timeout and returns what it said.
func stopWeb(t *testing.T, f *fakeMachine) string {
	t.Helper()
	cfg := &Config{timeout: time.Second}
	cfg.PackerBuildName = "web"
	var out strings.Builder
	ui := &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: &out, ErrorWriter: &out}
	if err := stopContainer(context.Background(), f, ui, cfg); err != nil {
		t.Fatalf("stopContainer: %v", err)
	}
	return out.String()
}
