package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// stepSourceDate settles, for a reproducible build, the one time the build
// may write into the image: SOURCE_DATE_EPOCH from Packer's environment,
// else the date of the mirror state the image came from (read at the
// mirror by the bootstrap step, or in the image's package lists). Provisioner
// commands get it in their environment, as reproducible-builds tools read
// it (Python's byte-compiling, for one).
type stepSourceDate struct{}

func (s *stepSourceDate) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	ui := state.Get("ui").(packersdk.Ui)
	if !cfg.reproducible() {
		return multistep.ActionContinue
	}
	tree := cfg.treePath()
	if tree == "" {
		return halt(state, fmt.Errorf(`reproducible: container %s is a raw image, and reproducible exports need a directory container; import or clone a directory one`, cfg.PackerBuildName))
	}
	var epoch time.Time
	from := "SOURCE_DATE_EPOCH in the environment"
	known, fromMirror := state.Get(stateSourceDate).(time.Time)
	switch {
	case cfg.sourceDate != nil:
		epoch = *cfg.sourceDate
	case fromMirror:
		// The bootstrapper got it, read before the install.
		epoch, from = known, "the Date of the suite's Release file at the mirror"
	default:
		date, ok := releaseDate(tree)
		if !ok {
			return halt(state, fmt.Errorf(`reproducible: %s has no Release file in var/lib/apt/lists to take the time from; set SOURCE_DATE_EPOCH in packer's environment`, tree))
		}
		epoch, from = date, "the Date of the image's newest Release file"
	}
	state.Put(stateSourceDate, epoch)
	if c, ok := state.Get("communicator").(*communicator); ok {
		c.env = []string{sourceDateEpochEnv + "=" + strconv.FormatInt(epoch.Unix(), 10)}
	}
	ui.Say(fmt.Sprintf("Reproducible build: SOURCE_DATE_EPOCH=%d (%s), from %s.", epoch.Unix(), epoch.Format(time.RFC3339), from))
	return multistep.ActionContinue
}

func (s *stepSourceDate) Cleanup(multistep.StateBag) {}
