package main

import (
	"context"
	"fmt"
	"os"
	"strings"

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
	m := state.Get(stateMachine).(Machine)
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

func (s *stepImport) Cleanup(state multistep.StateBag) { undoCreate(state) }
