package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

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
		epoch, reproducible := state.Get(stateSourceDate).(time.Time)
		switch {
		case format == exportRaw && isDir:
			var fixed *rawIdentity
			if reproducible {
				fixed = &rawIdentity{UUID: fixedUUID(cfg.PackerBuildName, epoch), Epoch: epoch}
			}
			err = m.MakeRawImage(ctx, tree, partial, rawImageSize(tree), fixed)
		case reproducible && isDir:
			err = exportReproducibleTar(ctx, m, tree, format, partial, epoch)
		default:
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

// exportReproducibleTar writes the tree as writeImageTar does, compressed
// for format by its tool.
func exportReproducibleTar(ctx context.Context, m Host, tree string, format exportFormat, path string, epoch time.Time) error {
	if format == exportTar {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		err = writeImageTar(f, tree, epoch)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	// The tool reads the pipe itself: through an io.Reader, exec would
	// copy every byte once more on its way into the tool's own pipe.
	pr, pw, err := bulkPipe()
	if err != nil {
		return err
	}
	written := make(chan error, 1)
	go func() {
		err := writeImageTar(pw, tree, epoch)
		// The tool's end of file, also when the tar failed: it then
		// finishes, and the tar's error is the one reported.
		pw.Close()
		written <- err
	}()
	err = m.Compress(ctx, pr, format, path)
	// A compressor that stopped early leaves the writer blocked in a full
	// pipe: with no reader left, its write fails and it returns.
	pr.Close()
	werr := <-written
	if err != nil && errors.Is(werr, syscall.EPIPE) {
		return err
	}
	if werr != nil {
		return fmt.Errorf("writing the tar of %s: %w", tree, werr)
	}
	return err
}

// fixedUUID is a UUID (version 4 in form) drawn from the build's name and
// time instead of at random, so a reproducible raw export gets the same
// one each time.
func fixedUUID(name string, epoch time.Time) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("packer-builder-nspawn raw image %s %d", name, epoch.Unix())))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
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
