package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// resetIdentityCommands empty (machine-id) or remove (the D-Bus copy)
// the identity inside a raw image, whose tree the host cannot reach.
var resetIdentityCommands = [][]string{
	{"/bin/cp", "/dev/null", "/etc/machine-id"},
	{"/bin/rm", "-f", "/var/lib/dbus/machine-id"},
}

// stepShutdown powers the container off and resets its machine identity,
// so each container made from the image gets its own machine-id at first
// boot.
type stepShutdown struct{}

func (s *stepShutdown) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)

	tree := cfg.treePath()
	if tree == "" {
		ui.Say("Emptying the machine-id, so every copy gets its own...")
		if err := resetIdentityInside(ctx, m, cfg.PackerBuildName); err != nil {
			return halt(state, err)
		}
	}
	if err := stopContainer(ctx, m, ui, cfg, initOf(state), emulated(state)); err != nil {
		return halt(state, err)
	}
	state.Put(stateStarted, false)
	if tree != "" {
		// Done in the stopped tree, it costs no command in the container.
		ui.Say("Emptying the machine-id, so every copy gets its own...")
		if err := resetIdentityInTree(tree); err != nil {
			return halt(state, fmt.Errorf("resetting the machine-id in %s: %w", tree, err))
		}
		if saved, ok := state.Get(stateResolvConf).(*imageResolvConf); ok {
			restored, err := saved.restore(tree)
			switch {
			case err != nil:
				return halt(state, fmt.Errorf("network: putting back the image's /etc/resolv.conf in %s: %w", tree, err))
			case restored:
				ui.Say("Put back the image's own /etc/resolv.conf (the build used the host's).")
			default:
				ui.Say("Kept the /etc/resolv.conf a provisioner wrote.")
			}
		}
		// Last, so that nothing written after it escapes the clamp.
		if epoch, ok := state.Get(stateSourceDate).(time.Time); ok {
			ui.Say("Removing what the build and its boot made anew, and clamping times (reproducible)...")
			if err := forgetBuild(tree, epoch); err != nil {
				return halt(state, fmt.Errorf("reproducible: clearing %s: %w", tree, err))
			}
		}
	}
	return multistep.ActionContinue
}

// treePath is the container's directory tree, or "" for a raw image.
func (c *Config) treePath() string {
	if info, err := os.Stat(c.containerPath()); err == nil && info.IsDir() {
		return c.containerPath()
	}
	return ""
}

func resetIdentityInTree(tree string) error {
	root, err := os.OpenRoot(tree)
	if err != nil {
		return err
	}
	defer root.Close()
	return emptyMachineID(root)
}

func resetIdentityInside(ctx context.Context, m Host, name string) error {
	for _, argv := range resetIdentityCommands {
		var out tailBuffer
		out.max = 1024
		code, err := m.Exec(ctx, name, execRequest{Argv: argv, Stdout: &out, Stderr: &out})
		if err == nil && code != 0 {
			err = fmt.Errorf("exit status %d: %s", code, out.lastLine())
		}
		if err != nil {
			return fmt.Errorf("resetting the machine-id (%s): %w", argv[0], err)
		}
	}
	return nil
}

func (s *stepShutdown) Cleanup(state multistep.StateBag) {}
