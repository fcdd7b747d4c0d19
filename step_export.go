package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepExport writes the stopped container to each `export` file, then
// removes the container if keep_container is false.
type stepExport struct {
	written []string
}

func (s *stepExport) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)
	if len(cfg.Export) == 0 {
		return multistep.ActionContinue
	}
	tree := cfg.containerPath()
	isDir := false
	if info, err := os.Stat(tree); err == nil && info.IsDir() {
		isDir = true
	}
	if cfg.ExportOwnership == "reset" {
		if !isDir {
			return halt(state, fmt.Errorf(`export_ownership: "reset" works on directory containers, and %s is a raw image`, cfg.PackerBuildName))
		}
		ui.Say("Resetting file ownership to plain user ids...")
		if err := m.ResetOwnership(ctx, tree); err != nil {
			return halt(state, fmt.Errorf("export_ownership: %w", err))
		}
	}
	for _, path := range cfg.Export {
		format, _ := exportFormatOf(path)
		ui.Say(fmt.Sprintf("Exporting %s to %s...", cfg.PackerBuildName, path))
		// Written under another name first, so a failure or a cancel never
		// leaves a truncated file where a whole one is expected.
		partial := path + ".partial"
		_ = os.Remove(partial)
		var err error
		if format == exportRaw && isDir {
			err = m.MakeRawImage(ctx, tree, partial, rawImageSize(tree))
		} else {
			err = m.ExportImage(ctx, cfg.PackerBuildName, format, partial)
		}
		if err == nil {
			err = os.Rename(partial, path)
		}
		if err != nil {
			_ = os.Remove(partial)
			return halt(state, fmt.Errorf("export to %s: %w", path, err))
		}
		s.written = append(s.written, path)
	}
	state.Put(stateExported, append([]string(nil), s.written...))
	if !cfg.keepContainer() {
		ui.Say(fmt.Sprintf("Removing container %s (keep_container = false)...", cfg.PackerBuildName))
		if err := removeContainer(ctx, m, cfg); err != nil {
			return halt(state, fmt.Errorf("keep_container: removing %s: %w", cfg.PackerBuildName, err))
		}
	}
	return multistep.ActionContinue
}

// Cleanup removes this build's exports when the build failed.
func (s *stepExport) Cleanup(state multistep.StateBag) {
	if !buildFailed(state) {
		return
	}
	for _, path := range s.written {
		_ = os.Remove(path)
	}
}

// rawImageSize is room for the tree in ext4: its bytes and a block per
// file, a margin on top, and fixed room for the file system's own
// structures, which a tree of any size needs.
func rawImageSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		total += 4096
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total + total/5 + 64<<20
}
