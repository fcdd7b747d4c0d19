package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// basePackages make even a minbase image bootable by machinectl, reachable
// by systemd-run --machine, and fit for the usual provisioning scripts.
var basePackages = []string{"apt-utils", "dbus", "iputils-ping", "netbase", "procps", "systemd-container"}

// suitesWithResolvedInSystemd shipped systemd-resolved inside the systemd
// package, so asking for it by name fails there.
var suitesWithResolvedInSystemd = []string{
	"jessie", "stretch", "buster", "bullseye",
	"xenial", "bionic", "focal", "jammy", "kinetic",
}

// includePackages is debootstrap's --include list for suite.
func includePackages(suite string) []string {
	pkgs := append([]string(nil), basePackages...)
	if !contains(suitesWithResolvedInSystemd, suite) {
		pkgs = append(pkgs, "systemd-resolved")
	}
	return pkgs
}

// stepDebootstrap installs a fresh tree with debootstrap and readies it for
// booting with nspawn.
type stepDebootstrap struct{}

func (s *stepDebootstrap) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateMachine).(Machine)
	ui := state.Get("ui").(packersdk.Ui)

	target := cfg.containerPath()
	ui.Say(fmt.Sprintf("Installing %s into %s with debootstrap...", cfg.Suite, target))
	// Mark first: a failed debootstrap leaves a partial tree behind.
	state.Put(stateCreated, true)
	err := m.Debootstrap(ctx, debootstrapOptions{
		Suite:    cfg.Suite,
		Target:   target,
		Mirror:   cfg.Mirror,
		Variant:  cfg.Variant,
		CacheDir: cfg.CacheDir,
		Include:  includePackages(cfg.Suite),
	})
	if err != nil {
		return halt(state, fmt.Errorf("debootstrap of suite %q: %w", cfg.Suite, err))
	}
	ui.Say("Setting up the image for nspawn...")
	if err := m.EnableUnits(ctx, target, "systemd-networkd.service", "systemd-resolved.service"); err != nil {
		return halt(state, err)
	}
	if err := setUpImage(target); err != nil {
		return halt(state, fmt.Errorf("setting up %s: %w", target, err))
	}
	return multistep.ActionContinue
}

func (s *stepDebootstrap) Cleanup(state multistep.StateBag) { undoCreate(state) }
