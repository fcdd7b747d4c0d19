package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// Builder builds a systemd-nspawn container.
type Builder struct {
	config *Config
	// newHost gives the host operations; tests replace it with a fake.
	newHost func(ui packersdk.Ui) Host
}

var _ packersdk.Builder = (*Builder)(nil)

func (b *Builder) ConfigSpec() hcldec.ObjectSpec {
	return new(FlatConfig).HCL2Spec()
}

// Prepare decodes and checks the configuration; nothing on the host is
// touched yet.
func (b *Builder) Prepare(raws ...interface{}) ([]string, []string, error) {
	cfg, err := decodeConfig(raws...)
	if err != nil {
		return nil, nil, err
	}
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	b.config = cfg
	return nil, nil, nil
}

func (b *Builder) Run(ctx context.Context, ui packersdk.Ui, hook packersdk.Hook) (packersdk.Artifact, error) {
	cfg := b.config
	m := b.machine(ui)

	state := new(multistep.BasicStateBag)
	state.Put(stateConfig, cfg)
	state.Put(stateHost, m)
	state.Put("ui", ui)
	state.Put("hook", hook)
	state.Put("communicator", &communicator{ctx: ctx, machine: m, name: cfg.PackerBuildName,
		user: cfg.ExecUser, group: cfg.ExecGroup})

	runner := commonsteps.NewRunner(b.steps(), cfg.PackerConfig, ui)
	runner.Run(ctx, state)

	// -on-error=abort skips every Cleanup: keep the container for
	// inspection, but never leave it running.
	if started, _ := state.Get(stateStarted).(bool); started {
		if err := stopContainer(context.Background(), m, ui, cfg, initOf(state), emulated(state)); err != nil {
			ui.Error(err.Error())
		}
	}
	if created, _ := state.Get(stateCreated).(bool); created && buildFailed(state) {
		// Only -on-error=abort (or ask) skips the removal.
		ui.Say(fmt.Sprintf("Kept container %s in %s for inspection; remove it with: machinectl remove %s",
			cfg.PackerBuildName, cfg.containerPath(), cfg.PackerBuildName))
	}
	if err, ok := state.GetOk("error"); ok {
		return nil, err.(error)
	}
	if _, ok := state.GetOk(multistep.StateCancelled); ok {
		return nil, errors.New("build was cancelled")
	}
	if _, ok := state.GetOk(multistep.StateHalted); ok {
		return nil, errors.New("build was halted")
	}
	files, _ := state.Get(stateExported).([]string)
	sboms, _ := state.Get(stateSBOM).([]string)
	return &artifact{config: cfg, machine: m, files: files, sboms: sboms}, nil
}

// steps is the build: make the container one way, boot it, provision it,
// list what it holds, shut it down.
func (b *Builder) steps() []multistep.Step {
	var create multistep.Step = &stepBootstrap{}
	switch {
	case b.config.Import != "":
		create = &stepImport{}
	case b.config.Clone != "":
		create = &stepClone{}
	case b.config.CacheBase:
		create = &stepCachedBase{install: create}
	}
	return []multistep.Step{
		&stepPrepare{},
		create,
		&stepGuestArch{},
		&stepSourceDate{},
		&stepSettings{},
		&stepStart{},
		new(commonsteps.StepProvision),
		&stepSBOM{},
		&stepShutdown{},
		&stepExport{},
	}
}

func (b *Builder) machine(ui packersdk.Ui) Host {
	if b.newHost != nil {
		return b.newHost(ui)
	}
	return newHostTools(ui.Message)
}
