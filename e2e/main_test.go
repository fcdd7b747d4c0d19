//go:build e2e

// Package e2e proves the plugin end to end: Debian's packer, real
// debootstrap, real nested containers, each scenario inside a throwaway
// systemd host booted with systemd-nspawn, so the machine running the
// tests needs root but no systemd.
//
//	go test -tags e2e -v -count=1 -timeout 80m ./e2e/
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if err := setUp(); err != nil {
		// A run that cannot test proves nothing: fail, never skip.
		fmt.Fprintln(os.Stderr, "e2e: FAIL:", err)
		fmt.Println("0 passed, 1 failed")
		os.Exit(1)
	}
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-interrupts
		fmt.Fprintf(os.Stderr, "\ne2e: %v: stopping the throwaway hosts\n", sig)
		interruptScenarios()
		stopHostTarball()
		stopAllHosts()
		printSummary()
		os.Exit(2)
	}()
	code := m.Run()
	if _, failed, _ := printSummary(); failed > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// setUp checks the prerequisites, makes e2e/out and builds the plugin.
func setUp() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the end-to-end tests boot containers and need root")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "zstd", "packer", "tar", "nsenter", "setsid", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: apt-get install systemd-container debootstrap zstd packer", tool)
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	outDir = filepath.Join(wd, "out")
	pluginDir = filepath.Join(outDir, "bin")
	shareDir = filepath.Join(outDir, "share")
	logDir = filepath.Join(outDir, "log")
	// Each run starts with fresh logs and shared images.
	for _, dir := range []string{shareDir, logDir} {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	for _, dir := range []string{pluginDir, shareDir, logDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	start := time.Now()
	build := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "packer-builder-nspawn"), "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the plugin: %v\n%s", err, out)
	}
	fmt.Printf("e2e: built the plugin in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// outcome is one scenario's result, for the closing table.
type outcome struct {
	name   string
	result string // PASS, FAIL, SKIP
	took   time.Duration
}

var (
	outcomesMu sync.Mutex
	outcomes   []outcome
	running    = map[*testing.T]time.Time{} // scenarios started, not finished
)

// scenario enters t, a top-level test, in the closing table.
func scenario(t *testing.T) {
	start := time.Now()
	outcomesMu.Lock()
	running[t] = start
	outcomesMu.Unlock()
	t.Cleanup(func() {
		result := "PASS"
		switch {
		case t.Failed():
			result = "FAIL"
		case t.Skipped():
			result = "SKIP"
		}
		outcomesMu.Lock()
		if _, ok := running[t]; ok {
			delete(running, t)
			outcomes = append(outcomes, outcome{t.Name(), result, time.Since(start)})
		}
		outcomesMu.Unlock()
	})
}

// interruptScenarios enters the scenarios still running as failed, for an
// interrupted run.
func interruptScenarios() {
	outcomesMu.Lock()
	defer outcomesMu.Unlock()
	for t, start := range running {
		outcomes = append(outcomes, outcome{t.Name() + " (interrupted)", "FAIL", time.Since(start)})
		delete(running, t)
	}
}

// printSummary prints the per-scenario timing table and the closing count
// line, and returns the counts.
func printSummary() (passed, failed, skipped int) {
	outcomesMu.Lock()
	defer outcomesMu.Unlock()
	var total time.Duration
	fmt.Printf("\n%-44s %-6s %9s\n", "scenario", "result", "seconds")
	for _, o := range outcomes {
		fmt.Printf("%-44s %-6s %9.1f\n", o.name, o.result, o.took.Seconds())
		total += o.took
		switch o.result {
		case "PASS":
			passed++
		case "FAIL":
			failed++
		default:
			skipped++
		}
	}
	fmt.Printf("%-44s %-6s %9.1f\n\n", "total", "", total.Seconds())
	line := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		line += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Println(line)
	return passed, failed, skipped
}
