package main

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

func TestHostInitFollowsTheExit(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	go func() { _ = cmd.Wait() }()
	f := newFakeHost()
	start := time.Now()
	if err := waitStopped(context.Background(), f, "web", hostInit{cmd.Process}, 5*time.Second); err != nil {
		t.Fatalf("waitStopped: %v", err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("returned after %s, before the process exited", took)
	}
}

// The signal is the one systemd takes as "power off": bash, built on
// glibc as systemd is, names it RTMIN+4.
func TestHostInitPowerOffSendsRTMINPlus4(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash:", err)
	}
	cmd := exec.Command(bash, "-c", `trap "exit 7" RTMIN+4; echo ready; while :; do sleep 0.01; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	if _, err := out.Read(make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	if err := (hostInit{cmd.Process}).PowerOff(); err != nil {
		t.Fatalf("PowerOff: %v", err)
	}
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 7 {
		t.Errorf("bash ended with %v; want exit 7, its RTMIN+4 trap", err)
	}
	if err := (hostInit{cmd.Process}).PowerOff(); err == nil {
		t.Error("PowerOff of an exited process succeeded")
	}
}

// The start step's lookup hands the shutdown the init it found, or nil
// when there was none to find or no lookup at all.
func TestInitLookupHandsOverWhatItFound(t *testing.T) {
	f := newFakeHost()
	f.running["web"] = true
	if got := lookUpInit(context.Background(), f, "web").get(); got != (fakeInit{f, "web"}) {
		t.Errorf("running container: got %v; want its init", got)
	}
	if got := lookUpInit(context.Background(), f, "gone").get(); got != nil {
		t.Errorf("container not running: got %v; want nil", got)
	}
	var none *initLookup
	if got := none.get(); got != nil {
		t.Errorf("no lookup: got %v; want nil", got)
	}
}
