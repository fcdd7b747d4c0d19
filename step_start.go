package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepStart boots the container and waits until its systemd accepts
// commands, which is when provisioning can begin.
type stepStart struct{}

func (s *stepStart) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateMachine).(Machine)
	ui := state.Get("ui").(packersdk.Ui)
	name := cfg.PackerBuildName

	if cfg.ownsTree() {
		if err := m.LinkImage(name, cfg.containerPath()); err != nil {
			return halt(state, fmt.Errorf("machines_dir: cannot make %s bootable: %w", cfg.containerPath(), err))
		}
		state.Put(stateLinked, true)
	}
	ui.Say(fmt.Sprintf("Starting container %s...", name))
	state.Put(stateStarted, true)
	if err := m.Start(ctx, name); err != nil {
		return halt(state, fmt.Errorf("start %s: %w; see journalctl -u systemd-nspawn@%s", name, err, name))
	}
	if err := waitReady(ctx, m, name, cfg.timeout); err != nil {
		return halt(state, err)
	}
	// Found while provisioning runs, not before it begins.
	state.Put(stateInit, lookUpInit(ctx, m, name))
	ui.Say(fmt.Sprintf("Container %s is up.", name))
	return multistep.ActionContinue
}

// aliveInterval paces the check that a booting container still runs.
const aliveInterval = 100 * time.Millisecond

// waitReady waits, for at most timeout, until the container's systemd
// answers on its bus. It answers only once basic.target is reached (the
// bus daemon starts after it), and every command the communicator runs is
// a unit ordered after basic.target too: so provisioning starts exactly
// when a hand-run systemd-run would first work, while the services of
// multi-user.target may still be starting.
func waitReady(ctx context.Context, m Machine, name string, timeout time.Duration) error {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "not answering yet"
	// A container is given one interval before it is asked whether it
	// died: most answer sooner, and each question costs a machinectl.
	lastAlive := time.Now()
	for {
		st, err := m.SystemState(waitCtx, name)
		switch {
		case err == nil && (st == "initializing" || st == "starting" || st == "running" || st == "degraded"):
			return nil
		case err == nil && (st == "stopping" || st == "offline"):
			return fmt.Errorf("start %s: the container's systemd is %s; see journalctl -u systemd-nspawn@%s", name, st, name)
		case err == nil && st == "maintenance":
			return fmt.Errorf("start %s: the container booted into emergency or rescue mode; see journalctl -u systemd-nspawn@%s", name, name)
		case err == nil:
			last = st
		}
		// Whether it died is asked less often: while it boots, the
		// state check is the one that matters.
		if time.Since(lastAlive) >= aliveInterval {
			if up, err := m.Running(waitCtx, name); err == nil && !up {
				return fmt.Errorf("start %s: the container stopped while booting; check that the image has systemd and dbus, and see journalctl -u systemd-nspawn@%s", name, name)
			}
			lastAlive = time.Now()
		}
		select {
		case <-waitCtx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return fmt.Errorf("start %s: %w", name, ctx.Err())
			}
			return fmt.Errorf(`start %s: the container's systemd did not accept commands within timeout %s (its state: %s); raise "timeout" or see journalctl -u systemd-nspawn@%s`,
				name, timeout, last, name)
		case <-time.After(pollInterval):
		}
	}
}

// Cleanup stops the container if the build failed while it was running;
// a successful build has stopped it already.
func (s *stepStart) Cleanup(state multistep.StateBag) {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateMachine).(Machine)
	ui := state.Get("ui").(packersdk.Ui)
	if started, _ := state.Get(stateStarted).(bool); started {
		if err := stopContainer(context.Background(), m, ui, cfg, initOf(state)); err != nil {
			ui.Error(err.Error())
		} else {
			state.Put(stateStarted, false)
		}
	}
	if linked, _ := state.Get(stateLinked).(bool); linked {
		if err := m.UnlinkImage(cfg.PackerBuildName); err != nil {
			ui.Error(fmt.Sprintf("could not remove %s/%s: %s", runtimeImagesDir, cfg.PackerBuildName, err))
		}
	}
}
