package main

import (
	"context"
	"fmt"
)

// builderID names this builder's artifacts for post-processors.
const builderID = "nspawn"

// artifact is the container the build left in machines_dir.
type artifact struct {
	config  *Config
	machine Machine
}

func (a *artifact) BuilderId() string { return builderID }

// Files is empty: the container is a machine image, not a set of files.
func (a *artifact) Files() []string { return nil }

// Id is the container's machine name.
func (a *artifact) Id() string { return a.config.PackerBuildName }

func (a *artifact) String() string {
	return fmt.Sprintf("container %s in %s (start it with: machinectl start %s)",
		a.config.PackerBuildName, a.config.containerPath(), a.config.PackerBuildName)
}

func (a *artifact) State(name string) interface{} { return nil }

// Destroy removes the container.
func (a *artifact) Destroy() error {
	return removeContainer(context.Background(), a.machine, a.config)
}
