package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// importKind is the machinectl verb that reads a source, named as machinectl
// names it.
type importKind string

const (
	pullTar       importKind = "pull-tar"
	pullRaw       importKind = "pull-raw"
	importTar     importKind = "import-tar"
	importTarZstd importKind = "import-tar-zstd"
	importRaw     importKind = "import-raw"
	importFS      importKind = "import-fs"
)

// importSource is a classified `import` value.
type importSource struct {
	Kind   importKind
	Path   string
	Verify string
}

// tarSuffixes are the archives machinectl import-tar and pull-tar unpack.
var tarSuffixes = []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2"}

func (k importKind) isPull() bool { return k == pullTar || k == pullRaw }

func isURL(source string) bool {
	return strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://")
}

// classifyImport picks the machinectl verb for source from its form and
// suffix; isDir says whether a local source is a directory.
func classifyImport(source string, isDir bool) importKind {
	if isURL(source) {
		path := source
		if i := strings.IndexAny(path, "?#"); i >= 0 {
			path = path[:i]
		}
		// importd unpacks zstd itself when pulling; only local imports
		// need the pipe through zstd.
		if hasTarSuffix(path) || hasZstdTarSuffix(path) {
			return pullTar
		}
		return pullRaw
	}
	switch {
	case isDir:
		return importFS
	case hasZstdTarSuffix(source):
		return importTarZstd
	case hasTarSuffix(source):
		return importTar
	default:
		return importRaw
	}
}

func hasZstdTarSuffix(path string) bool {
	lower := strings.ToLower(path)
	return strings.HasSuffix(lower, ".tar.zst") || strings.HasSuffix(lower, ".tzst")
}

func hasTarSuffix(path string) bool {
	lower := strings.ToLower(path)
	for _, suffix := range tarSuffixes {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	return false
}

// stepImport makes the container from the `import` source.
type stepImport struct{}

func (s *stepImport) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)

	isDir := false
	if info, err := os.Stat(cfg.Import); err == nil && info.IsDir() {
		isDir = true
	}
	src := importSource{Kind: classifyImport(cfg.Import, isDir), Path: cfg.Import, Verify: cfg.ImportVerify}
	ui.Say(fmt.Sprintf("Importing %s as %s (%s)...", cfg.Import, cfg.PackerBuildName, src.Kind))
	// Mark first: a failed import can leave a partial image behind.
	state.Put(stateCreated, true)
	if err := m.Import(ctx, src, cfg.PackerBuildName); err != nil {
		return halt(state, fmt.Errorf("import %s: %w", cfg.Import, err))
	}
	return multistep.ActionContinue
}

// Cleanup waits for a cancelled transfer to wind down and removes what it
// left half-written, before the shared removal of the container.
func (s *stepImport) Cleanup(state multistep.StateBag) {
	if created, _ := state.Get(stateCreated).(bool); created && buildFailed(state) {
		cfg := state.Get(stateConfig).(*Config)
		m := state.Get(stateHost).(Host)
		ui := state.Get("ui").(packersdk.Ui)
		if err := waitTransferGone(m, cfg.PackerBuildName, cfg.timeout); err != nil {
			ui.Error(err.Error())
		}
		for _, p := range partialImports(defaultMachinesDir, cfg.PackerBuildName) {
			if err := m.RemoveTree(p); err != nil {
				ui.Error(fmt.Sprintf("could not remove the partial import %s: %s", p, err))
			}
		}
	}
	undoCreate(state)
}

// partialImports are importd's work files for name in dir: it works in
// ".#NAME" and 16 random hex digits, and renames at the end, so a killed
// transfer can leave one behind.
func partialImports(dir, name string) []string {
	own := regexp.MustCompile(`^\.#` + regexp.QuoteMeta(name) + `[0-9a-f]{16}$`)
	entries, _ := os.ReadDir(dir)
	var paths []string
	for _, e := range entries {
		if own.MatchString(e.Name()) {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	return paths
}

// waitTransferGone waits until machined lists no transfer into name.
func waitTransferGone(m Host, name string, timeout time.Duration) error {
	err := pollUntil(context.Background(), timeout, func(ctx context.Context) bool {
		busy, err := m.Importing(ctx, name)
		return err == nil && !busy
	})
	if err != nil {
		return fmt.Errorf("the import into %s is still running after %s; see machinectl list-transfers", name, timeout)
	}
	return nil
}
