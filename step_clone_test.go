package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

// cloneState is the state bag for stepClone making web from the machine
// base, which machined has.
func cloneState(t *testing.T) (*multistep.BasicStateBag, *fakeHost, *bytes.Buffer) {
	t.Helper()
	state, f, out := testState(t, testConfig(t, "clone", "base", "machines_dir", defaultMachinesDir))
	f.images["base"] = true
	return state, f, out
}

func TestCloneStepCopiesTheSource(t *testing.T) {
	state, f, out := cloneState(t)
	if action := (&stepClone{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if calls := f.callLog(); len(calls) != 1 || calls[0] != "clone base web" {
		t.Errorf("calls %q; want the clone alone", calls)
	}
	if created, _ := state.Get(stateCreated).(bool); !created {
		t.Error("the clone is not marked as made by this build, so a failure would leave it")
	}
	if !strings.Contains(out.String(), "Cloning base as web...") {
		t.Errorf("output does not say what is cloned:\n%s", out)
	}
}

// A failed clone may have left part of a copy: it is marked as this
// build's, for the Cleanup to remove.
func TestCloneStepFailureMarksThePartialCopy(t *testing.T) {
	state, f, _ := cloneState(t)
	f.failOn["clone"] = errors.New("machinectl clone failed (exit status 1): No space left on device")
	if action := (&stepClone{}).Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatal("Run went on after the clone failed")
	}
	want := "clone base: machinectl clone failed (exit status 1): No space left on device"
	if err := stepError(state); err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
	if created, _ := state.Get(stateCreated).(bool); !created {
		t.Error("the partial copy is not marked as this build's")
	}
}

// machined finishes a clone whose machinectl was stopped: the step lets
// it finish, so the Cleanup finds the copy, then stops the build.
func TestCloneStepCancelledFinishesTheCopy(t *testing.T) {
	state, f, _ := cloneState(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	state.Put(stateHost, &cancelsDuringClone{fakeHost: f, cancel: cancel})
	if action := (&stepClone{}).Run(ctx, state); action != multistep.ActionHalt {
		t.Fatal("Run went on after the cancel")
	}
	if err := stepError(state); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "clone base: ") {
		t.Errorf("error %v; want the cancel, naming the source", err)
	}
	if !f.images["web"] {
		t.Error("the clone was cut short; machined would have finished it after our Cleanup")
	}
}

// Its Cleanup removes the copy after a failure only, and never the
// machine it copied.
func TestCloneStepCleanupRemovesOnlyTheCopy(t *testing.T) {
	for _, outcome := range buildOutcomes {
		state, f, _ := cloneState(t)
		step := &stepClone{}
		if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
			t.Fatalf("%s: Run: %v", outcome.name, stepError(state))
		}
		outcome.mark(state)
		step.Cleanup(state)
		cleanup := f.callLog()[1:]
		if outcome.failed {
			assertCalls(t, f, "clone base web", "image-known web", "remove web")
		} else if len(cleanup) != 0 {
			t.Errorf("%s: Cleanup ran %q; want nothing", outcome.name, cleanup)
		}
		if f.images["web"] == outcome.failed {
			t.Errorf("%s: web there after Cleanup: %v; want %v", outcome.name, f.images["web"], !outcome.failed)
		}
		if !f.images["base"] || f.called("remove base") {
			t.Errorf("%s: the source was removed; calls %q", outcome.name, cleanup)
		}
	}
}

// A container the step did not make, as one there before the build, is
// never removed.
func TestCloneStepCleanupLeavesWhatItDidNotMake(t *testing.T) {
	state, f, _ := cloneState(t)
	f.images["web"] = true
	state.Put("error", errors.New("container \"web\" already exists"))
	(&stepClone{}).Cleanup(state)
	if calls := f.callLog(); len(calls) != 0 || !f.images["web"] {
		t.Errorf("Cleanup ran %q; web there: %v; want nothing done", calls, f.images["web"])
	}
}

// A removal that fails says how to finish it by hand, and the container
// stays marked as this build's.
func TestCloneStepCleanupSaysWhatItCouldNotRemove(t *testing.T) {
	state, f, out := cloneState(t)
	step := &stepClone{}
	if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	f.failOn["remove web"] = errors.New("Device or resource busy")
	state.Put("error", errors.New("a later step failed"))
	step.Cleanup(state)
	if want := "could not remove container web: Device or resource busy; remove it with: machinectl remove web"; !strings.Contains(out.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, out)
	}
	if created, _ := state.Get(stateCreated).(bool); !created {
		t.Error("the container left behind is no longer marked as this build's")
	}
}
