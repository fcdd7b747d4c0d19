package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// baseRecipe changes whenever what a fresh tree holds changes (the
// include list, setUpImage), so no build clones a base made the old way.
const baseRecipe = "1"

// basePrefix starts every cached base's name; the dot hides the images
// from machinectl list-images and lets machinectl clean remove them.
const basePrefix = ".nspawn-base-"

// baseImageName names the cached base for what this build installs.
func (c *Config) baseImageName() string {
	o := c.bootstrapOptions()
	key := strings.Join([]string{baseRecipe, o.Tool, o.Suite, o.Variant, o.Mirror, strings.Join(o.Include, ",")}, "\n")
	// The host's own architecture goes unsaid, so bases made before arch
	// existed keep their names.
	if o.Arch != "" {
		key += "\narch=" + o.Arch
	}
	if o.Components != nil {
		key += "\ncomponents=" + strings.Join(o.Components, ",")
	}
	if o.IgnoreValidUntil {
		key += "\nignore-valid-until"
	}
	sum := sha256.Sum256([]byte(key))
	suite := c.Suite
	if len(suite) > 24 {
		suite = suite[:24]
	}
	return basePrefix + strings.Trim(suite, ".-_") + "-" + hex.EncodeToString(sum[:8])
}

// stepCachedBase makes the container as a clone of the cached base when
// there is one (cache_base); otherwise it installs the tree with install
// and keeps a read-only copy of it as that base, before any provisioner
// touches it.
type stepCachedBase struct {
	install multistep.Step
}

func (s *stepCachedBase) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)
	base, name := cfg.baseImageName(), cfg.PackerBuildName

	// Builds wanting the same base take turns, so only the first installs.
	unlock, err := lockFile(ctx, filepath.Join(lockDir, base[1:]+".lock"), func() {
		ui.Say(fmt.Sprintf("Waiting for another build to make base image %s...", base))
	})
	if err != nil {
		return halt(state, fmt.Errorf("cache_base: %w", err))
	}
	known, err := m.ImageKnown(ctx, base)
	if err != nil {
		unlock()
		return halt(state, fmt.Errorf("cache_base: cannot look up image %s: %w", base, err))
	}
	if known {
		unlock()
		ui.Say(fmt.Sprintf("Cloning cached base image %s as %s...", base, name))
		state.Put(stateCreated, true)
		// As in stepClone: machined finishes a clone even if we stop.
		if err := m.Clone(context.WithoutCancel(ctx), base, name); err != nil {
			return halt(state, fmt.Errorf("cache_base: clone %s: %w; remove it with: machinectl remove %s", base, err, base))
		}
		if err := ctx.Err(); err != nil {
			return halt(state, fmt.Errorf("cache_base: clone %s: %w", base, err))
		}
		return multistep.ActionContinue
	}
	defer unlock()
	if action := s.install.Run(ctx, state); action != multistep.ActionContinue {
		return action
	}
	keepBase(ctx, m, ui, name, base)
	return multistep.ActionContinue
}

// keepBase copies the fresh container name to the read-only image base.
// The copy is made under a temporary name and renamed, so a base is never
// half there. It only warns on failure: the build itself is fine.
func keepBase(ctx context.Context, m Host, ui packersdk.Ui, name, base string) {
	ui.Say(fmt.Sprintf("Keeping the fresh tree as base image %s for later builds (cache_base)...", base))
	partial := base + "-partial"
	warn := func(err error) {
		ui.Error(fmt.Sprintf("Warning: cache_base: could not keep base image %s: %s; the build goes on", base, err))
		if known, qerr := m.ImageKnown(context.Background(), partial); qerr == nil && known {
			_ = m.RemoveImage(context.Background(), partial)
		}
	}
	// A crashed build may have left one behind.
	if known, err := m.ImageKnown(ctx, partial); err == nil && known {
		if err := m.RemoveImage(ctx, partial); err != nil {
			warn(err)
			return
		}
	}
	if err := m.Clone(context.WithoutCancel(ctx), name, partial); err != nil {
		warn(err)
		return
	}
	if err := ctx.Err(); err != nil {
		warn(err)
		return
	}
	if err := m.RenameImage(ctx, partial, base); err != nil {
		warn(err)
		return
	}
	if err := m.SetReadOnly(ctx, base); err != nil {
		ui.Error(fmt.Sprintf("Warning: cache_base: base image %s is not read-only: %s", base, err))
	}
}

func (s *stepCachedBase) Cleanup(state multistep.StateBag) { undoCreate(state) }
