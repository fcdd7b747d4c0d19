package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// builderID names this builder's artifacts for post-processors.
const builderID = "nspawn"

// artifact is the container the build left in machines_dir, and the
// files it exported.
type artifact struct {
	config  *Config
	machine Host
	files   []string
}

func (a *artifact) BuilderId() string { return builderID }

// Files are the exported files, for post-processors such as checksum,
// compress or manifest.
func (a *artifact) Files() []string { return a.files }

// Id is the container's machine name.
func (a *artifact) Id() string { return a.config.PackerBuildName }

func (a *artifact) String() string {
	var s string
	if a.config.keepContainer() {
		s = fmt.Sprintf("container %s in %s (start it with: machinectl start %s)",
			a.config.PackerBuildName, a.config.containerPath(), a.config.PackerBuildName)
	} else {
		s = fmt.Sprintf("container %s, exported", a.config.PackerBuildName)
	}
	if len(a.files) > 0 {
		s += "; exported to " + strings.Join(a.files, ", ")
	}
	return s
}

func (a *artifact) State(name string) interface{} { return nil }

// Destroy removes the container and the exported files.
func (a *artifact) Destroy() error {
	for _, f := range a.files {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if !a.config.keepContainer() {
		return nil
	}
	return removeContainer(context.Background(), a.machine, a.config)
}
