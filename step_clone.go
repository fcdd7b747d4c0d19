package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepClone makes the container as a copy of an existing one (a snapshot
// on btrfs).
type stepClone struct{}

func (s *stepClone) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)

	ui.Say(fmt.Sprintf("Cloning %s as %s...", cfg.Clone, cfg.PackerBuildName))
	state.Put(stateCreated, true)
	// machined copies on after machinectl is killed, so a cancelled clone
	// would appear after our cleanup: let it finish, then stop.
	if err := m.Clone(context.WithoutCancel(ctx), cfg.Clone, cfg.PackerBuildName); err != nil {
		return halt(state, fmt.Errorf("clone %s: %w", cfg.Clone, err))
	}
	if err := ctx.Err(); err != nil {
		return halt(state, fmt.Errorf("clone %s: %w", cfg.Clone, err))
	}
	return multistep.ActionContinue
}

func (s *stepClone) Cleanup(state multistep.StateBag) { undoCreate(state) }
