package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepPrepare makes sure the name is free before anything is created: an
// existing container stops the build, unless -force, which replaces it.
type stepPrepare struct{}

func (s *stepPrepare) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)
	name := cfg.PackerBuildName

	if cfg.Clone != "" {
		known, err := m.ImageKnown(ctx, cfg.Clone)
		if err != nil {
			return halt(state, fmt.Errorf("clone: cannot look up machine %q: %w", cfg.Clone, err))
		}
		if !known {
			return halt(state, fmt.Errorf(`clone: machine %q not found in %s; build it first or fix "clone"`, cfg.Clone, defaultMachinesDir))
		}
		// Before the copy: a source the host cannot run is not copied.
		if _, err := checkImageArch(cfg, cfg.cloneSourcePath(), fmt.Sprintf("clone: machine %q", cfg.Clone)); err != nil {
			return halt(state, err)
		}
	}

	running, err := m.Running(ctx, name)
	if err != nil {
		return halt(state, err)
	}
	known, err := m.ImageKnown(ctx, name)
	if err != nil {
		return halt(state, err)
	}
	onDisk := pathExists(cfg.containerPath()) || pathExists(cfg.containerPath()+".raw")
	if !running && !known && !onDisk {
		return multistep.ActionContinue
	}
	if !cfg.PackerForce {
		return halt(state, fmt.Errorf("container %q already exists in %s; remove it (machinectl remove %s) or run packer build -force to replace it",
			name, cfg.MachinesDir, name))
	}

	ui.Say(fmt.Sprintf("Replacing existing container %s (-force)...", name))
	if running {
		if err := m.Terminate(ctx, name); err != nil {
			return halt(state, fmt.Errorf("-force: cannot stop running container %q: %w", name, err))
		}
		if err := waitGone(ctx, m, name, cfg.timeout); err != nil {
			return halt(state, fmt.Errorf("-force: %w", err))
		}
	}
	if err := removeContainer(ctx, m, cfg); err != nil {
		return halt(state, fmt.Errorf("-force: cannot remove container %q: %w", name, err))
	}
	if cfg.ownsTree() && pathExists(cfg.containerPath()) {
		return halt(state, fmt.Errorf("-force: %s is still there after removal; remove it by hand", cfg.containerPath()))
	}
	return multistep.ActionContinue
}

func (s *stepPrepare) Cleanup(state multistep.StateBag) {}

// pathExists reports whether anything, even a dangling symlink, is at path.
func pathExists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}
