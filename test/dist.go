//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// distBuild is a make target that builds what users download, run on the
// machine once per run with DIST in the shared directory, which hosts see
// as /shared/TARGET. The working copy's own dist/ stays as it was.
type distBuild struct {
	target string
	job    backgroundJob
}

var (
	// DebPackage is make deb's Debian package.
	DebPackage = &distBuild{target: "deb"}
	// ReleaseZips are make release's zips and their checksums.
	ReleaseZips = &distBuild{target: "release"}
)

// dir is where the target writes, on the machine.
func (d *distBuild) dir() string { return filepath.Join(sharedDir, d.target) }

// Start runs make in the background, so a scenario can boot its host
// meanwhile.
func (d *distBuild) Start() {
	d.job.start(func() error {
		start := time.Now()
		if err := os.RemoveAll(d.dir()); err != nil {
			return err
		}
		// Begun with the run but needed only by its last scenarios: at the
		// lowest priority, it leaves the CPU to the host trees every
		// scenario waits for, and to the scenarios.
		cmd := backgroundCommand("nice", "-n", "19", "make", d.target, "DIST="+d.dir(), "DEB_ARCH="+runtime.GOARCH)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, lastLines(string(out), 20))
		}
		fmt.Printf("e2e: make %s took %s\n", d.target, time.Since(start).Round(time.Second))
		return nil
	})
}

// Need waits for the target's files and returns their directory on the
// machine.
func (d *distBuild) Need(t *testing.T) string {
	t.Helper()
	d.Start()
	if err := d.job.wait(); err != nil {
		t.Fatalf("make %s: %v", d.target, err)
	}
	return d.dir()
}

// inHost is where a file in the shared directory is inside a host.
func inHost(shared string) string {
	rel, err := filepath.Rel(sharedDir, shared)
	if err != nil || strings.HasPrefix(rel, "..") {
		panic(shared + " is not in " + sharedDir)
	}
	return filepath.Join("/shared", rel)
}
