package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// exportFormat is an export file's format, named by its suffix.
type exportFormat string

const (
	exportTar     exportFormat = ".tar"
	exportTarGz   exportFormat = ".tar.gz"
	exportTarXz   exportFormat = ".tar.xz"
	exportTarZstd exportFormat = ".tar.zst"
	exportRaw     exportFormat = ".raw"
)

var exportFormats = []exportFormat{exportTarZstd, exportTarGz, exportTarXz, exportTar, exportRaw}

// exportFormatOf picks the format from path's suffix; ok is false when
// no format matches.
func exportFormatOf(path string) (exportFormat, bool) {
	lower := strings.ToLower(path)
	for _, f := range exportFormats {
		if strings.HasSuffix(lower, string(f)) {
			return f, true
		}
	}
	return "", false
}

// compression is export-tar's --format for the formats importd
// compresses itself.
func (f exportFormat) compression() string {
	switch f {
	case exportTarGz:
		return "gzip"
	case exportTarXz:
		return "xz"
	default:
		return "uncompressed"
	}
}

// keepContainer is keep_container with its default, true.
func (c *Config) keepContainer() bool {
	return !c.KeepContainer.False()
}

// validateOutputFiles checks the files an option writes: each of a known
// kind (suffixes says which), named once, in a directory that exists, and
// not there already unless -force.
func (c *Config) validateOutputFiles(option string, paths []string, suffixes string, known func(string) bool) []error {
	var errs []error
	seen := map[string]bool{}
	for _, path := range paths {
		if !known(path) {
			errs = append(errs, fmt.Errorf(`%s: %q has no known suffix; end it in %s`, option, path, suffixes))
			continue
		}
		if seen[path] {
			errs = append(errs, fmt.Errorf(`%s: %q is listed twice`, option, path))
		}
		seen[path] = true
		if info, err := os.Stat(filepath.Dir(path)); err != nil || !info.IsDir() {
			errs = append(errs, fmt.Errorf(`%s: the directory of %q does not exist; create it first`, option, path))
		} else if pathExists(path) && !c.PackerForce {
			errs = append(errs, fmt.Errorf(`%s: %q exists; remove it or run packer build -force to replace it`, option, path))
		}
	}
	return errs
}

// validateExport checks export, export_ownership and keep_container.
func (c *Config) validateExport() []error {
	errs := c.validateOutputFiles("export", c.Export, ".tar, .tar.gz, .tar.xz, .tar.zst or .raw",
		func(path string) bool { _, ok := exportFormatOf(path); return ok })
	switch c.ExportOwnership {
	case "", "keep":
	case "reset":
		if len(c.Export) == 0 {
			errs = append(errs, fmt.Errorf(`export_ownership: "reset" works on exports; add "export" or drop it`))
		}
	default:
		errs = append(errs, fmt.Errorf(`export_ownership: %q is neither "keep" nor "reset"`, c.ExportOwnership))
	}
	if !c.keepContainer() && len(c.Export) == 0 {
		errs = append(errs, fmt.Errorf(`keep_container: false with no "export" would leave nothing; add "export" or keep the container`))
	}
	return errs
}
