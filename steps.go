package main

import (
	"context"
	"path/filepath"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// halt records err as the build's error, shows it, and stops the build.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put("error", err)
	state.Get("ui").(packersdk.Ui).Error(err.Error())
	return multistep.ActionHalt
}

// buildFailed reports whether the build failed or was cancelled, the only
// times a step's Cleanup undoes its work.
func buildFailed(state multistep.StateBag) bool {
	_, failed := state.GetOk("error")
	_, cancelled := state.GetOk(multistep.StateCancelled)
	_, halted := state.GetOk(multistep.StateHalted)
	return failed || cancelled || halted
}

// containerPath is where the container's tree lives.
func (c *Config) containerPath() string {
	return filepath.Join(c.MachinesDir, c.PackerBuildName)
}

// ownsTree reports whether the builder manages the container's directory
// itself rather than through machined: machines_dir outside its search path.
func (c *Config) ownsTree() bool {
	return c.MachinesDir != defaultMachinesDir
}

// removeContainer deletes the build's container, whatever made it.
func removeContainer(ctx context.Context, m Host, cfg *Config) error {
	name := cfg.PackerBuildName
	if cfg.ownsTree() {
		if err := m.UnlinkImage(name); err != nil {
			return err
		}
		return m.RemoveTree(cfg.containerPath())
	}
	known, err := m.ImageKnown(ctx, name)
	if err != nil || !known {
		return err
	}
	return m.RemoveImage(ctx, name)
}

// undoCreate is the Cleanup shared by the steps that create the container:
// on failure it removes the container, and only if this build made it.
func undoCreate(state multistep.StateBag) {
	if created, _ := state.Get(stateCreated).(bool); !created || !buildFailed(state) {
		return
	}
	cfg := state.Get(stateConfig).(*Config)
	ui := state.Get("ui").(packersdk.Ui)
	ui.Say("Removing container " + cfg.PackerBuildName + "...")
	if err := removeContainer(context.Background(), state.Get(stateHost).(Host), cfg); err != nil {
		ui.Error("could not remove container " + cfg.PackerBuildName + ": " + err.Error() +
			"; remove it with: machinectl remove " + cfg.PackerBuildName)
		return
	}
	state.Put(stateCreated, false)
}
