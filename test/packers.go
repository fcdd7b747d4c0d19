//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// packerRelease is a Packer the tests run besides Debian's 1.6.6, built
// once per machine, cached in cacheDir, and seen by every host as
// /packers/VERSION/packer.
type packerRelease struct {
	version string
	build   func(out, version string) error
	job     backgroundJob
}

var (
	// Packer1_9 is the 1.7 to 1.9 line, which loads a flat
	// packer-plugin-nspawn; v1.9.4 is the newest the Go module proxy
	// serves.
	Packer1_9 = newPackerRelease("1.9.4", buildPackerFromProxy)
	// Packer1_16 loads plugins only in the layout of `packer plugins
	// install`, and speaks protobuf to plugins that say they can.
	Packer1_16 = newPackerRelease("1.16.0", buildPackerFromSource)
	packers    = []*packerRelease{Packer1_9, Packer1_16}
)

func newPackerRelease(version string, build func(out string, version string) error) *packerRelease {
	return &packerRelease{version: version, build: build}
}

// dir is where the binary is cached.
func (p *packerRelease) dir() string { return filepath.Join(cacheDir, "packer-"+p.version) }

// built tells whether the binary is on disk, cached or built in this run.
func (p *packerRelease) built() bool { return exists(filepath.Join(p.dir(), "packer")) }

// Path is the binary's path inside a host.
func (p *packerRelease) Path() string { return "/packers/" + p.version + "/packer" }

// Start builds the binary in the background unless it is cached, so a
// scenario can boot its host meanwhile.
func (p *packerRelease) Start() {
	p.job.start(func() error {
		if p.built() {
			return nil
		}
		start := time.Now()
		tmp := filepath.Join(mustMkdir(p.dir()), "packer.partial")
		if err := p.build(tmp, p.version); err != nil {
			os.Remove(tmp)
			return err
		}
		fmt.Printf("e2e: built Packer %s in %s\n", p.version, time.Since(start).Round(time.Second))
		return os.Rename(tmp, filepath.Join(p.dir(), "packer"))
	})
}

// Need waits for the binary, building it if no one has yet.
func (p *packerRelease) Need(t *testing.T) {
	t.Helper()
	p.Start()
	if err := p.job.wait(); err != nil {
		t.Fatalf("building Packer %s: %v", p.version, err)
	}
}

// buildPackerFromProxy builds Packer as a dependency of a module of its
// own, from the Go module proxy.
func buildPackerFromProxy(out, version string) error {
	work, err := os.MkdirTemp(mustMkdir(cacheDir), "packer-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	files := map[string]string{
		"go.mod":   "module packerbuild\n\ngo 1.21\n\nrequire github.com/hashicorp/packer v" + version + "\n",
		"tools.go": "//go:build tools\n\npackage tools\n\nimport _ \"github.com/hashicorp/packer\"\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return goCommands(work, []string{"go", "mod", "tidy", "-e"}, []string{"go", "build", "-ldflags", strippedBinary, "-o", out, "github.com/hashicorp/packer"})
}

// strippedBinary links Packer without its symbol table and debug
// information, which no test reads and the linker would spend a fresh
// machine's time on.
const strippedBinary = "-s -w"

// pluginSource is the plugin's address in required_plugins and in `packer
// plugins install`, the Makefile's PLUGIN_SOURCE.
const pluginSource = "github.com/packer-builder-nspawn/nspawn"

// defaultPluginDir is where Packer >= 1.10 installs and looks for plugins
// in the host without PACKER_PLUGIN_PATH: ~/.packer.d/plugins if
// ~/.packer.d exists, else ~/.config/packer/plugins.
func (h *Host) defaultPluginDir() string {
	if exists(h.Path("/root/.packer.d")) {
		return "/root/.packer.d/plugins"
	}
	return "/root/.config/packer/plugins"
}

// pluginFile is the plugin's file name where Packer >= 1.10 loads it and
// in a release: packer-plugin-nspawn_vVERSION_x5.0_linux_ARCH.
func pluginFile(version, arch string) string {
	return "packer-plugin-nspawn_v" + version + "_x5.0_linux_" + arch
}

// installedPlugin is the file `packer plugins install` makes for the
// plugin at version under dir.
func installedPlugin(dir, version string) string {
	return dir + "/" + pluginSource + "/" + pluginFile(version, runtime.GOARCH)
}

// packer116SourceVar names the source tarball of Packer 1.16.0, which the
// Go module proxy does not serve.
const packer116SourceVar = "PACKER_116_SRC"

// buildPackerFromSource builds Packer from its source tarball, whose
// dependencies come from the Go module proxy.
func buildPackerFromSource(out, version string) error {
	src, err := packer116Source()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(mustMkdir(cacheDir), "packer-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if b, err := backgroundCommand("tar", "-xzf", src, "-C", work).CombinedOutput(); err != nil {
		return fmt.Errorf("unpacking %s: %v: %s", src, err, b)
	}
	return goCommands(filepath.Join(work, "packer-"+version), []string{"go", "build", "-ldflags", strippedBinary, "-o", out, "."})
}

// packer116Source is $PACKER_116_SRC, or else ../shared/ beside the main
// working copy (the one whose .git the others share), or beside the local
// repository this one was cloned from.
func packer116Source() (string, error) {
	if src := os.Getenv(packer116SourceVar); src != "" {
		if _, err := os.Stat(src); err != nil {
			return "", fmt.Errorf("no source of Packer 1.16.0: %v; set %s to the path of packer-1.16.0-src.tar.gz", err, packer116SourceVar)
		}
		return src, nil
	}
	var tried []string
	for _, argv := range [][]string{
		{"rev-parse", "--path-format=absolute", "--git-common-dir"},
		{"remote", "get-url", "origin"},
	} {
		out, err := exec.Command("git", append([]string{"-C", repoRoot}, argv...)...).Output()
		if err != nil {
			continue
		}
		repo := strings.TrimSpace(string(out))
		if filepath.Base(repo) == ".git" {
			repo = filepath.Dir(repo)
		}
		if !filepath.IsAbs(repo) {
			continue // a remote URL, not a directory here
		}
		src := filepath.Join(repo, "..", "shared", "packer-1.16.0-src.tar.gz")
		if _, err := os.Stat(src); err == nil {
			return src, nil
		}
		tried = append(tried, src)
	}
	return "", fmt.Errorf("no source of Packer 1.16.0 (looked for %s); set %s to the path of packer-1.16.0-src.tar.gz",
		strings.Join(tried, ", "), packer116SourceVar)
}

// goCommands runs each argv in dir as a build without cgo, taking modules
// from the proxy.
func goCommands(dir string, argvs ...[]string) error {
	for _, argv := range argvs {
		cmd := backgroundCommand(argv...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, lastLines(string(out), 20))
		}
	}
	return nil
}
