package main

import (
	"context"
	"fmt"
	"strings"
	"time"

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

// includePackages is the bootstrapper's --include list for suite: the
// packages every image gets, then the user's, each once.
func includePackages(suite string, extra []string) []string {
	pkgs := append([]string(nil), basePackages...)
	if !contains(suitesWithResolvedInSystemd, suite) {
		pkgs = append(pkgs, "systemd-resolved")
	}
	for _, p := range extra {
		if !contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// defaultComponents is what both bootstrappers install from unless told.
var defaultComponents = []string{"main"}

// components is the components option with repeats dropped, or nil for
// the default.
func (c *Config) components() []string {
	var comps []string
	for _, comp := range c.Components {
		if !contains(comps, comp) {
			comps = append(comps, comp)
		}
	}
	if len(comps) == 0 || strings.Join(comps, ",") == strings.Join(defaultComponents, ",") {
		return nil
	}
	return comps
}

// stepBootstrap installs a fresh tree with debootstrap (or mmdebstrap)
// and readies it for booting with nspawn.
type stepBootstrap struct{}

func (s *stepBootstrap) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)

	target := cfg.containerPath()
	opts := cfg.bootstrapOptions()
	// The default mirror is never stale; a given one may be.
	if cfg.Mirror != "" && !opts.IgnoreValidUntil {
		if expired := expiredAtMirror(ctx, cfg.Mirror, cfg.Suite, time.Now()); expired != "" {
			return halt(state, fmt.Errorf("%s of suite %q: the mirror's Release file has expired (%s), so apt would refuse it; %s",
				cfg.Bootstrapper, cfg.Suite, expired, expiredReleaseAdvice))
		}
	}
	ui.Say(fmt.Sprintf("Installing %s into %s with %s...", cfg.Suite, target, cfg.Bootstrapper))
	// Mark first: a failed bootstrap leaves a partial tree behind.
	state.Put(stateCreated, true)
	// mmdebstrap wants an empty target: its own setup hook writes the
	// drop-in.
	if cfg.Bootstrapper == "debootstrap" {
		if err := allowUnsafeIO(target); err != nil {
			return halt(state, fmt.Errorf("preparing %s: %w", target, err))
		}
	}
	if cfg.reproducible() {
		// Known before the install, so the bootstrapper has it too.
		date := cfg.sourceDate
		if date == nil {
			d, err := mirrorReleaseDate(ctx, cfg.Mirror, cfg.Suite)
			if err != nil {
				return halt(state, fmt.Errorf("reproducible: reading the Date of %s's Release file: %w; set SOURCE_DATE_EPOCH in packer's environment to give the time yourself", cfg.Suite, err))
			}
			date = &d
		}
		opts.SourceDate = date
		state.Put(stateSourceDate, *date)
	}
	err := m.Bootstrap(ctx, opts)
	if err != nil && strings.Contains(err.Error(), "is expired") {
		return halt(state, fmt.Errorf("%s of suite %q: the mirror's Release file has expired: %w; %s", cfg.Bootstrapper, cfg.Suite, err, expiredReleaseAdvice))
	}
	if err != nil {
		return halt(state, fmt.Errorf("%s of suite %q: %w", cfg.Bootstrapper, cfg.Suite, err))
	}
	if err := endUnsafeIO(target); err != nil {
		return halt(state, fmt.Errorf("finishing %s: %w", target, err))
	}
	if opts.IgnoreValidUntil {
		if err := takeExpiredReleases(target); err != nil {
			return halt(state, fmt.Errorf("setting up %s: %w", target, err))
		}
	} else if expired := expiredRelease(target, time.Now()); expired != "" {
		return halt(state, fmt.Errorf("%s of suite %q: the mirror's Release file has expired (%s), so the image's apt would refuse it; %s",
			cfg.Bootstrapper, cfg.Suite, expired, expiredReleaseAdvice))
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

// bootstrapOptions is what the bootstrapper gets for this build.
func (c *Config) bootstrapOptions() bootstrapOptions {
	return bootstrapOptions{
		Tool:     c.Bootstrapper,
		Suite:    c.Suite,
		Target:   c.containerPath(),
		Mirror:   c.Mirror,
		Variant:  c.Variant,
		Arch:     c.bootstrapArch(),
		CacheDir: c.CacheDir,
		Include:  includePackages(c.Suite, c.Packages),
		// The default, main, goes unsaid, as both tools assume it.
		Components: c.components(),

		IgnoreValidUntil: c.CheckValidUntil.False(),
	}
}

func (s *stepBootstrap) Cleanup(state multistep.StateBag) { undoCreate(state) }
