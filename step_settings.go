package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepSettings writes the build's nspawn settings file, which machinectl
// start applies, setting aside a file the user had there. Its Cleanup
// puts the user's file back as it was (a rename, so untouched).
type stepSettings struct {
	wrote, setAside bool
}

func (s *stepSettings) backupPath(cfg *Config) string {
	return cfg.settingsPath() + ".packer-builder-nspawn-saved"
}

func (s *stepSettings) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	ui := state.Get("ui").(packersdk.Ui)
	if !cfg.wantsSettings() {
		return multistep.ActionContinue
	}
	path := cfg.settingsPath()
	if err := os.MkdirAll(nspawnSettingsDir, 0o755); err != nil {
		return halt(state, fmt.Errorf("settings: %w", err))
	}
	if pathExists(path) {
		if pathExists(s.backupPath(cfg)) {
			return halt(state, fmt.Errorf("settings: %s is there from an earlier build; put it back as %s or remove it",
				s.backupPath(cfg), path))
		}
		if err := os.Rename(path, s.backupPath(cfg)); err != nil {
			return halt(state, fmt.Errorf("settings: setting %s aside: %w", path, err))
		}
		s.setAside = true
		ui.Say(fmt.Sprintf("Set %s aside for the build; it comes back afterwards.", path))
	}
	hostDNS := false
	if cfg.Network == "host" {
		if tree := cfg.treePath(); tree != "" {
			saved, err := saveResolvConf(tree)
			if err != nil {
				return halt(state, fmt.Errorf("network: reading the image's /etc/resolv.conf: %w", err))
			}
			state.Put(stateResolvConf, saved)
			hostDNS = true
		} else {
			ui.Message(`network "host": a raw image keeps its own /etc/resolv.conf; if it links to systemd-resolved's stub, names will not resolve in the build`)
		}
	}
	if err := os.WriteFile(path, []byte(cfg.nspawnSettings(hostDNS)), 0o644); err != nil {
		return halt(state, fmt.Errorf("settings: writing %s: %w", path, err))
	}
	s.wrote = true
	ui.Say(fmt.Sprintf("Wrote %s for the build.", path))
	return multistep.ActionContinue
}

func (s *stepSettings) Cleanup(state multistep.StateBag) {
	cfg := state.Get(stateConfig).(*Config)
	ui := state.Get("ui").(packersdk.Ui)
	if !s.wrote {
		return
	}
	if cfg.KeepSettings && !buildFailed(state) {
		if s.setAside {
			ui.Say(fmt.Sprintf("Kept the build's %s (keep_settings); the one that was there is %s.", cfg.settingsPath(), s.backupPath(cfg)))
		}
		return
	}
	path := cfg.settingsPath()
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		ui.Error(fmt.Sprintf("could not remove %s: %s", path, err))
		return
	}
	if s.setAside {
		if err := os.Rename(s.backupPath(cfg), path); err != nil {
			ui.Error(fmt.Sprintf("could not put %s back from %s: %s", path, s.backupPath(cfg), err))
		}
	}
}
