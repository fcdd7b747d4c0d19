package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepStart boots the container and waits until its systemd accepts
// commands, which is when provisioning can begin.
type stepStart struct{}

func (s *stepStart) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
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
	started := time.Now()
	if err := m.Start(ctx, name); err != nil {
		return halt(state, withJournal(ctx, m, name, started, fmt.Errorf("start %s: %w", name, err)))
	}
	var watch func(context.Context) error
	if arch, ok := state.Get(stateEmulated).(string); ok {
		watch = func(ctx context.Context) error { return emulatorFailure(ctx, m, name, arch, started) }
	}
	if err := waitReady(ctx, m, name, cfg.timeout, watch); err != nil {
		return halt(state, withJournal(ctx, m, name, started, err))
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
// multi-user.target may still be starting. watch, if set, is asked every
// watchInterval whether the boot has failed in a way the state does not
// show.
func waitReady(ctx context.Context, m Host, name string, timeout time.Duration, watch func(context.Context) error) error {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "not answering yet"
	// A container is given one interval before it is asked whether it
	// died: most answer sooner, and each question costs a machinectl.
	lastAlive := time.Now()
	lastWatch := time.Now()
	for {
		st, err := m.SystemState(waitCtx, name)
		switch {
		case err == nil && (st == "initializing" || st == "starting" || st == "running" || st == "degraded"):
			return nil
		case err == nil && (st == "stopping" || st == "offline"):
			return fmt.Errorf("start %s: the container's systemd is %s while booting", name, st)
		case err == nil && st == "maintenance":
			return fmt.Errorf("start %s: the container booted into emergency or rescue mode", name)
		case err == nil && st != "":
			last = st
		}
		// Whether it died is asked less often: while it boots, the
		// state check is the one that matters.
		if time.Since(lastAlive) >= aliveInterval {
			if up, err := m.Running(waitCtx, name); err == nil && !up {
				return fmt.Errorf("start %s: the container stopped while booting", name)
			}
			lastAlive = time.Now()
		}
		if watch != nil && time.Since(lastWatch) >= watchInterval {
			if err := watch(waitCtx); err != nil {
				return err
			}
			lastWatch = time.Now()
		}
		select {
		case <-waitCtx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return fmt.Errorf("start %s: %w", name, ctx.Err())
			}
			return fmt.Errorf(`start %s: the container's systemd did not accept commands within timeout %s (its state: %s); raise "timeout" if it needs longer`,
				name, timeout, last)
		case <-time.After(pollInterval):
		}
	}
}

// watchInterval paces the check for a boot that failed under emulation:
// a journal read, so less often than the state check.
const watchInterval = time.Second

// emulatorFailures are what a guest's systemd logs when the emulator
// cannot run what it needs to bring up its bus, which the build talks to:
// from systemd 255 on (trixie), every service is spawned through
// systemd-executor. Debian 12's qemu-user 7.2 cannot spawn it at all;
// qemu 10 and 11 run it only when registered with binfmt_misc's O flag
// (systemd-binfmt registers Debian's entries so, update-binfmts does not),
// and otherwise it dies at once, dbus.service with it.
var emulatorFailures = []string{"Failed to spawn executor", "Failed to start dbus.service"}

// terminalEscape is a colour or other terminal control sequence.
var terminalEscape = regexp.MustCompile(`\x1b\[[0-9;:?]*[A-Za-z]`)

// emulatorFailure fails when the container's journal since started shows
// its systemd unable to start its bus under the emulator. It quotes the
// bus's own failure where the journal has it.
func emulatorFailure(ctx context.Context, m Host, name, arch string, started time.Time) error {
	// Enough lines that the bus's failure has not scrolled out since the
	// last look, with every unit failing as fast as systemd starts them.
	text, err := m.Journal(ctx, name, started, 500)
	if err != nil {
		return nil
	}
	var found, bus string
	for _, line := range strings.Split(text, "\n") {
		// The console's colours reach the journal too.
		line = strings.TrimSpace(terminalEscape.ReplaceAllString(line, ""))
		if bus == "" && strings.HasPrefix(line, "dbus.service: ") {
			bus = line
		}
		for _, sign := range emulatorFailures {
			if found == "" && strings.Contains(line, sign) {
				found = line
			}
		}
	}
	if found == "" {
		return nil
	}
	if bus != "" {
		found = bus
	}
	return fmt.Errorf("start %s: the container's systemd cannot start its services under this host's emulator (%q), so its bus never answers: "+
		"systemd 255 and newer (Debian 13 trixie and later) start every service through systemd-executor, which qemu-user runs only from version 10 on "+
		"and only when registered with binfmt_misc's O flag; build bookworm or older for %s, or build on a native %s host",
		name, found, arch, arch)
}

// journalLines is how much of a failed boot's journal the error shows:
// enough for the failed unit or nspawn's complaint and what led to it.
const journalLines = 15

// journalReadTimeout bounds the reading of that journal, so a slow
// journal does not hold up the build's failure.
const journalReadTimeout = 10 * time.Second

// withJournal adds to a boot failure the last lines the container's unit
// logged since it was started, which say why: a failed unit, a missing
// init, nspawn refusing to run. A cancelled build ends at once instead.
func withJournal(ctx context.Context, m Host, name string, since time.Time, err error) error {
	if ctx.Err() != nil {
		return err
	}
	readCtx, cancel := context.WithTimeout(ctx, journalReadTimeout)
	defer cancel()
	text, jerr := m.Journal(readCtx, name, since, journalLines)
	hint := "journalctl -u " + strings.TrimSuffix(nspawnUnit(name), ".service")
	if jerr != nil {
		return fmt.Errorf("%w; its journal could not be read (%s); see %s", err, jerr, hint)
	}
	lines := strings.Split(strings.TrimRight(text, "\r\n\t "), "\n")
	if len(lines) == 1 && strings.TrimSpace(lines[0]) == "" {
		return fmt.Errorf("%w; its journal has nothing since the start; see %s", err, hint)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\n    ")
		b.WriteString(strings.TrimRight(l, "\r\t "))
	}
	return fmt.Errorf("%w; its journal (%s) ends:%s", err, hint, b.String())
}

// Cleanup stops the container if the build failed while it was running;
// a successful build has stopped it already. Cleanup runs only for a
// failed or cancelled build, and -on-error=abort skips it (Builder.Run then
// powers the kept container off cleanly).
func (s *stepStart) Cleanup(state multistep.StateBag) {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)
	if started, _ := state.Get(stateStarted).(bool); started {
		stop := stopContainer
		if created, _ := state.Get(stateCreated).(bool); created {
			// The create step's Cleanup removes it next: nothing in it is
			// worth a clean shutdown, and a boot that hung would not
			// answer one before the timeout anyway.
			stop = discardContainer
		}
		if err := stop(context.Background(), m, ui, cfg, initOf(state), emulated(state)); err != nil {
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
