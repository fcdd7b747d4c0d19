package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// Stopping a container, shared by the shutdown step, the start step's
// Cleanup and the builder's stop after -on-error=abort.

// terminateGrace bounds the wait after machinectl terminate, which kills at
// once and so needs no user-set timeout.
const terminateGrace = 15 * time.Second

// initOf is the container's init as the start step found it, or nil.
func initOf(state multistep.StateBag) initProcess {
	l, _ := state.Get(stateInit).(*initLookup)
	return l.get()
}

// emulated reports whether the build's container runs through an
// emulator.
func emulated(state multistep.StateBag) bool {
	_, ok := state.GetOk(stateEmulated)
	return ok
}

// stopContainer powers the container off cleanly, waiting at most timeout,
// and terminates it if it does not go. init, if known, is its init;
// emulated says the container runs through an emulator.
func stopContainer(ctx context.Context, m Host, ui packersdk.Ui, cfg *Config, init initProcess, emulated bool) error {
	name := cfg.PackerBuildName
	ui.Say(fmt.Sprintf("Powering off container %s...", name))
	init, err := powerOff(ctx, m, name, init, emulated)
	unitStuck := false
	if err != nil && emulated {
		// Stopping its unit would only send the shifted signal again: a
		// container whose bus does not answer is killed below.
		if up, qerr := m.Running(ctx, name); qerr == nil && !up {
			return nil
		}
	} else if err != nil {
		// It may have stopped by itself (a provisioner's poweroff), or
		// machined may not have listed it yet: a cancelled machinectl
		// start leaves its unit starting, and machinectl terminate fails
		// on that start job. Stopping the unit covers both; what still
		// runs after it is terminated below.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.timeout)
		uerr := m.StopUnit(stopCtx, name)
		cancel()
		if up, qerr := m.Running(ctx, name); uerr == nil && qerr == nil && !up {
			return nil
		}
		if uerr != nil {
			err = fmt.Errorf("%w; stopping systemd-nspawn@%s.service: %w", err, name, uerr)
			unitStuck = true
		}
	}
	if err == nil {
		err = waitStopped(ctx, m, name, init, cfg.timeout)
	}
	if err == nil {
		ui.Say(fmt.Sprintf("Container %s is off.", name))
		return nil
	}
	if errors.Is(err, context.Canceled) {
		ctx = context.Background()
	}
	ui.Error(fmt.Sprintf("Warning: %s; terminating container %s", err, name))
	terminate := m.Terminate
	if unitStuck || emulated {
		// Its stop job still runs (a container stopped so early in its
		// boot that it missed the request), and machinectl terminate
		// would only wait on that job: its processes are killed instead.
		// So are an emulated container's: machinectl terminate stops
		// its unit, whose nspawn asks the container to halt with
		// SIGRTMIN+3, which qemu-user delivers as SIGRTMIN+1 (rescue
		// mode), and waits half a minute for it.
		terminate = m.KillUnit
	}
	if err := terminate(ctx, name); err != nil {
		if up, qerr := m.Running(ctx, name); qerr == nil && !up {
			return nil
		}
		return fmt.Errorf("terminate %s: %w; stop it with: machinectl terminate %s", name, err, name)
	}
	return waitGone(ctx, m, name, terminateGrace)
}

// discardContainer terminates a container the failed build is about to
// remove, without a clean shutdown first. machinectl terminate fails on a
// container that machined does not list yet (a cancelled machinectl start
// leaves its unit starting): its unit's processes are killed instead. An
// emulated container's are killed at once: machinectl terminate would
// wait for it to obey a halt request it receives as another signal.
func discardContainer(ctx context.Context, m Host, ui packersdk.Ui, cfg *Config, _ initProcess, emulated bool) error {
	name := cfg.PackerBuildName
	ui.Say(fmt.Sprintf("Terminating container %s, which the failed build removes...", name))
	terminate := m.Terminate
	if emulated {
		terminate = m.KillUnit
	}
	if err := terminate(ctx, name); err != nil {
		if kerr := m.KillUnit(ctx, name); kerr != nil {
			if up, qerr := m.Running(ctx, name); qerr == nil && !up {
				return nil
			}
			return fmt.Errorf("terminate %s: %w; stop it with: machinectl terminate %s", name, err, name)
		}
	}
	if err := waitGone(ctx, m, name, terminateGrace); err != nil {
		return err
	}
	// The removal comes next: its nspawn, even one machined never
	// listed, must have let go of the image.
	return waitUnitStopped(ctx, m, name, terminateGrace)
}

// waitUnitStopped waits until the container's systemd-nspawn@ unit has
// stopped, for at most timeout.
func waitUnitStopped(ctx context.Context, m Host, name string, timeout time.Duration) error {
	err := pollUntil(ctx, timeout, func(ctx context.Context) bool {
		active, err := m.UnitActive(ctx, name)
		return err == nil && !active
	})
	switch {
	case errors.Is(err, errPollTimeout):
		return fmt.Errorf("systemd-nspawn@%s.service did not stop within %s; stop it with: systemctl kill --signal=SIGKILL systemd-nspawn@%s.service", name, timeout, name)
	case err != nil:
		return fmt.Errorf("waiting for systemd-nspawn@%s.service to stop: %w", name, err)
	}
	return nil
}

// powerOff asks the container to shut down and returns its init, to
// watch, or nil. A known init is signalled directly: no machinectl run.
// Otherwise machinectl poweroff goes out while the init is looked up,
// each a machinectl run that does not need the other. An emulated
// container's systemd is asked over its bus instead: qemu-user shifts
// realtime signals, and SIGRTMIN+4, what machinectl poweroff sends too,
// reaches it as SIGRTMIN+2, which means emergency mode.
func powerOff(ctx context.Context, m Host, name string, known initProcess, emulated bool) (initProcess, error) {
	if known != nil && !emulated && known.PowerOff() == nil {
		return known, nil
	}
	found := make(chan initProcess, 1)
	go func() {
		if known != nil && !known.Exited() {
			found <- known
			return
		}
		p, _ := m.Init(ctx, name)
		found <- p
	}()
	poweroff := m.Poweroff
	if emulated {
		poweroff = m.PoweroffByBus
	}
	err := poweroff(ctx, name)
	return <-found, err
}

// exitPollInterval paces the check that a container's init has exited:
// a signal 0, no command, so it can be tight.
const exitPollInterval = time.Millisecond

// waitStopped waits, for at most timeout in all, until the container's
// init (if known) has exited and machined no longer lists it. Watching
// the init takes no commands, so the build follows it at once; machined
// has the last word.
func waitStopped(ctx context.Context, m Host, name string, init initProcess, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if init != nil {
		err := pollEvery(ctx, exitPollInterval, timeout, func(context.Context) bool { return init.Exited() })
		if errors.Is(err, errPollTimeout) {
			return fmt.Errorf(`container %s did not stop within timeout %s; raise "timeout" if it needs longer`, name, timeout)
		}
		if err != nil {
			return fmt.Errorf("waiting for %s to stop: %w", name, err)
		}
	}
	return waitGone(ctx, m, name, max(time.Until(deadline), pollInterval))
}

// waitGone waits until machined no longer lists the machine, for at most
// timeout.
func waitGone(ctx context.Context, m Host, name string, timeout time.Duration) error {
	err := pollUntil(ctx, timeout, func(ctx context.Context) bool {
		up, err := m.Running(ctx, name)
		return err == nil && !up
	})
	switch {
	case errors.Is(err, errPollTimeout):
		return fmt.Errorf(`container %s did not stop within timeout %s; raise "timeout" if it needs longer`, name, timeout)
	case err != nil:
		return fmt.Errorf("waiting for %s to stop: %w", name, err)
	}
	return nil
}
