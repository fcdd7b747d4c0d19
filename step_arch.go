package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepGuestArch settles the container's architecture once it exists: the
// one arch gives a bootstrapped tree, the one an imported or cloned image
// holds. A foreign one is noted for the start and the shutdown, which
// differ under emulation.
type stepGuestArch struct{}

func (s *stepGuestArch) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	ui := state.Get("ui").(packersdk.Ui)
	arch := cfg.Arch
	if !cfg.bootstraps() {
		what := fmt.Sprintf("import: %q", cfg.Import)
		if cfg.Clone != "" {
			what = fmt.Sprintf("clone: machine %q", cfg.Clone)
		}
		found, err := checkImageArch(cfg, cfg.containerPath(), what)
		if err != nil {
			return halt(state, err)
		}
		if found != "" {
			arch = found
		}
	}
	if arch != "" && !runsNatively(hostArch(), arch) {
		state.Put(stateEmulated, arch)
		ui.Say(fmt.Sprintf("Container %s is %s: this %s host runs it through its qemu-user emulator.", cfg.PackerBuildName, arch, hostArch()))
	}
	return multistep.ActionContinue
}

func (s *stepGuestArch) Cleanup(state multistep.StateBag) {}

// checkImageArch reads the architecture of the image at path, made from
// what (the option and its value), and checks it against arch and the
// host. It returns "" when the image does not say (a raw image).
func checkImageArch(cfg *Config, path, what string) (string, error) {
	found, err := treeArch(path)
	switch {
	case errors.Is(err, errNoTree):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("%s: cannot read the architecture of %s: %w", what, path, err)
	case found == "":
		return "", nil
	case cfg.Arch != "" && found != cfg.Arch:
		return "", fmt.Errorf(`arch: %s holds %s programs, not %s ones; set arch to %q or leave it unset`, what, found, cfg.Arch, found)
	}
	a, _ := lookUpArch(found)
	if err := checkRunnable(hostArch(), a); err != nil {
		return "", fmt.Errorf("%s holds %s programs, and %w", what, found, err)
	}
	return found, nil
}

// cloneSourcePath is the clone source's tree, where it is a directory.
func (c *Config) cloneSourcePath() string {
	return filepath.Join(c.MachinesDir, c.Clone)
}
