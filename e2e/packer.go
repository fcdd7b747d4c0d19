//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Running Debian's packer inside a host, as a user does: a directory with
// the template and the plugin symlinked beside it, packer run there.

// Result is one finished packer run.
type Result struct {
	Args []string
	Out  string // stdout and stderr as they came, colour codes removed
	Code int
	Took time.Duration
}

var colour = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Project makes the directory /root/work/NAME inside the host with files
// (relative name → content) and the plugin symlinked beside them, the way
// Debian's packer 1.6.6 finds it. It returns the directory's path inside
// the host.
func (h *Host) Project(name string, files map[string]string) string {
	h.t.Helper()
	dir := path.Join("/root/work", name)
	if err := os.MkdirAll(h.Path(dir), 0o755); err != nil {
		h.t.Fatal(err)
	}
	for file, content := range files {
		h.WriteFile(path.Join(dir, file), []byte(content))
	}
	link := h.Path(path.Join(dir, "packer-builder-nspawn"))
	if err := os.Symlink(path.Join(hostPluginDir, "packer-builder-nspawn"), link); err != nil && !errors.Is(err, os.ErrExist) {
		h.t.Fatal(err)
	}
	return dir
}

// Packer runs packer ARGS in dir (inside the host) and waits for it, at
// most 20 minutes.
func (h *Host) Packer(dir string, args ...string) Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := h.CommandIn(ctx, dir, append([]string{"packer"}, args...)...)
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Out: colour.ReplaceAllString(out.String(), ""), Code: exitCode(err), Took: time.Since(start)}
	if ctx.Err() != nil {
		h.t.Errorf("packer %s: still running after 20 minutes; killed", strings.Join(args, " "))
	}
	logPacker(h.t, r)
	h.t.Logf("packer %s: exit %d in %s", strings.Join(args, " "), r.Code, r.Took.Round(100*time.Millisecond))
	return r
}

// Build runs packer build ARGS in dir.
func (h *Host) Build(dir string, args ...string) Result {
	h.t.Helper()
	return h.Packer(dir, append([]string{"build"}, args...)...)
}

// Validate runs packer validate ARGS in dir.
func (h *Host) Validate(dir string, args ...string) Result {
	h.t.Helper()
	return h.Packer(dir, append([]string{"validate"}, args...)...)
}

// StartPacker starts packer ARGS in dir in the background, as a terminal's
// foreground job, for tests that interrupt it. Its transcript is logged
// when the test ends.
func (h *Host) StartPacker(dir string, args ...string) *Process {
	h.t.Helper()
	p := h.Start(dir, append([]string{"packer"}, args...)...)
	go func() {
		<-p.done
		logPacker(h.t, Result{Args: args, Out: colour.ReplaceAllString(p.Output(), ""), Code: p.Code, Took: p.Took})
	}()
	return p
}

// logPacker appends a packer transcript to the test's log file in logDir.
func logPacker(t *testing.T, r Result) {
	f, err := os.OpenFile(filepath.Join(logDir, logName(t)+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "$ packer %s\n%s\n[exit %d after %s]\n\n", strings.Join(r.Args, " "), r.Out, r.Code, r.Took.Round(100*time.Millisecond))
}

// Machines lists the machines running in the host's machined.
func (h *Host) Machines() []string {
	h.t.Helper()
	return fields0(h.MustRun("machinectl", "list", "--no-legend", "--no-pager"))
}

// Images lists the host's machine images.
func (h *Host) Images() []string {
	h.t.Helper()
	return fields0(h.MustRun("machinectl", "list-images", "--no-legend", "--no-pager"))
}

// HasImage reports whether the host has a machine image called name.
func (h *Host) HasImage(name string) bool {
	h.t.Helper()
	for _, n := range h.Images() {
		if n == name {
			return true
		}
	}
	return false
}

// fields0 is the first word of every non-empty line.
func fields0(s string) []string {
	var words []string
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			words = append(words, f[0])
		}
	}
	return words
}
