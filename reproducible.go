package main

import (
	"fmt"
	"os"
)

// reproducible reports whether the build's exports must be reproducible:
// asked for, or SOURCE_DATE_EPOCH in Packer's environment.
func (c *Config) reproducible() bool {
	return c.Reproducible || c.sourceDate != nil
}

// validateReproducible reads SOURCE_DATE_EPOCH and refuses a source that
// can only give a raw image, whose tree the plugin cannot reach.
func (c *Config) validateReproducible() []error {
	var errs []error
	t, err := sourceDateFromEnv()
	if err != nil {
		errs = append(errs, err)
	}
	c.sourceDate = t
	if !c.reproducible() || c.Import == "" {
		return errs
	}
	info, statErr := os.Stat(c.Import)
	kind := classifyImport(c.Import, statErr == nil && info.IsDir())
	if kind == importRaw || kind == pullRaw {
		errs = append(errs, fmt.Errorf(`reproducible: %q is a raw image, and reproducible exports (reproducible = true, or SOURCE_DATE_EPOCH in the environment) need a directory container; import a tar or a directory`, c.Import))
	}
	return errs
}
