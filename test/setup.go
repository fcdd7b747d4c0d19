//go:build e2e

// Package e2e proves the plugin with real Debian packer, real debootstrap
// and real containers, inside throwaway systemd hosts.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	repoRoot  string // the working copy under test
	outDir    string // test/out: logs, the plugin binary, shared images
	pluginDir string
	sharedDir string
	// pluginVersion is what the plugin the tests build reports: a release
	// build's, as make release and make deb make it, since Packer's
	// required_plugins matches no pre-release.
	pluginVersion string
)

// outcome is one scenario's result, for the closing table.
type outcome struct {
	name   string
	status string
	took   time.Duration
}

var (
	outcomesMu sync.Mutex
	outcomes   []outcome
)

// Scenario registers t for the closing table and runs it beside the
// others, when the scheduler gives it a slot (make e2e says how many at
// once): each scenario boots hosts of its own.
func Scenario(t *testing.T, traits ...Trait) {
	t.Parallel()
	giveBack := scenarios.wait(traits)
	start := time.Now()
	t.Cleanup(func() {
		giveBack()
		status := "PASS"
		switch {
		case t.Failed():
			status = "FAIL"
		case t.Skipped():
			status = "SKIP"
		}
		outcomesMu.Lock()
		outcomes = append(outcomes, outcome{t.Name(), status, time.Since(start)})
		outcomesMu.Unlock()
	})
}

// Main runs a test binary's tests, scenarios or benchmarks, in throwaway
// hosts: it checks the prerequisites, builds the plugin, starts the
// background work given, stops the hosts on an interrupt and prints the
// closing table.
func Main(m *testing.M, background ...func()) {
	wd, _ := os.Getwd()
	repoRoot = filepath.Dir(wd)
	outDir = filepath.Join(wd, "out")
	pluginDir = filepath.Join(outDir, "bin")
	sharedDir = filepath.Join(outDir, "shared")
	for _, d := range []string{outDir, pluginDir, sharedDir} {
		mustMkdir(d)
	}
	// Each run's transcripts start afresh.
	logs, _ := filepath.Glob(filepath.Join(outDir, "*.log"))
	for _, l := range logs {
		os.Remove(l)
	}
	err := prerequisites()
	if err == nil {
		err = buildPlugin()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL:", err)
		fmt.Println("0 passed, 1 failed")
		os.Exit(1)
	}

	for _, start := range background {
		start()
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(os.Stderr, "e2e: interrupted; stopping the throwaway hosts")
		stopBackground()
		stopAllHosts()
		backgroundJobs.Wait()
		unregisterInterpreters()
		os.Exit(130)
	}()

	code := m.Run()
	// A build no scenario waited for still fills the cache for the next run.
	backgroundJobs.Wait()
	unregisterInterpreters()
	passed, failed, skipped := summary()
	line := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		line += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Println(line)
	if failed > 0 || skipped > 0 {
		code = 1
	}
	os.Exit(code)
}

// prerequisites are a failure, never a skip: a run without them proves
// nothing.
func prerequisites() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the end-to-end tests need root (they boot containers)")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "zstd", "tar", "nsenter", "mkfs.ext4", "diffoscope"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: apt-get install systemd-container debootstrap zstd e2fsprogs diffoscope-minimal", tool)
		}
	}
	return nil
}

// buildPlugin builds the plugin as a release, into pluginDir, and reads
// its version from it.
func buildPlugin() error {
	binary := filepath.Join(pluginDir, "packer-builder-nspawn")
	build := exec.Command("go", "build", "-ldflags", "-X main.versionPrerelease=", "-o", binary, repoRoot)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the plugin: %v\n%s", err, out)
	}
	out, err := exec.Command(binary, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %v", binary, err)
	}
	pluginVersion = strings.TrimSpace(string(out))
	if strings.Contains(pluginVersion, "-") {
		return fmt.Errorf("the plugin built as a release reports %q, a pre-release", pluginVersion)
	}
	return nil
}

// summary prints the per-scenario timing table and counts the outcomes.
func summary() (passed, failed, skipped int) {
	outcomesMu.Lock()
	defer outcomesMu.Unlock()
	sort.SliceStable(outcomes, func(i, j int) bool { return outcomes[i].name < outcomes[j].name })
	fmt.Println("\nscenario                                              result  seconds")
	var total time.Duration
	for _, o := range outcomes {
		fmt.Printf("%-53s %-6s %8.1f\n", o.name, o.status, o.took.Seconds())
		total += o.took
		switch o.status {
		case "PASS":
			passed++
		case "FAIL":
			failed++
		default:
			skipped++
		}
	}
	fmt.Printf("%-53s %-6s %8.1f\n\n", "total", "", total.Seconds())
	return
}
