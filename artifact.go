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
// files it exported and the SBOMs it wrote.
type artifact struct {
	config  *Config
	machine Host
	files   []string
	sboms   []string
}

func (a *artifact) BuilderId() string { return builderID }

// Files are the exported files, then the SBOMs, for post-processors such
// as checksum, compress or manifest.
func (a *artifact) Files() []string {
	if len(a.sboms) == 0 {
		return a.files
	}
	return append(append([]string(nil), a.files...), a.sboms...)
}

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
	if len(a.sboms) > 0 {
		s += "; SBOM in " + strings.Join(a.sboms, ", ")
	}
	return s
}

func (a *artifact) State(name string) interface{} { return nil }

// Destroy removes the container, the exported files and the SBOMs.
func (a *artifact) Destroy() error {
	for _, f := range a.Files() {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if !a.config.keepContainer() {
		return nil
	}
	return removeContainer(context.Background(), a.machine, a.config)
}
