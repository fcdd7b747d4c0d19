//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// result is one packer run inside a host.
type result struct {
	out  string // combined output, colour codes removed
	code int
	took time.Duration
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Project makes /root/NAME in the host with the given files and the plugin
// symlinked beside them, as a Debian user sets it up.
func (h *Host) Project(name string, files map[string]string) string {
	h.t.Helper()
	inside := h.Files(name, files)
	if err := os.Symlink("/plugin/packer-builder-nspawn", h.Path(inside+"/packer-builder-nspawn")); err != nil && !errors.Is(err, os.ErrExist) {
		h.t.Fatal(err)
	}
	return inside
}

// Files makes /root/NAME in the host with the given files, for a Packer
// that finds the plugin where it is installed.
func (h *Host) Files(name string, files map[string]string) string {
	h.t.Helper()
	inside := "/root/" + name
	dir := h.Path(inside)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	for file, body := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
	return inside
}

// packer runs Debian's packer ARGS in the project directory dir and waits
// for it.
func (h *Host) packer(dir string, args ...string) result {
	h.t.Helper()
	return h.runIn(dir, append([]string{"packer"}, args...)...)
}

// packerOf runs Packer p ARGS in dir, with env added to its environment.
func (h *Host) packerOf(p *packerRelease, dir string, env []string, args ...string) result {
	h.t.Helper()
	argv := append(append([]string{"env", "CHECKPOINT_DISABLE=1"}, env...), p.Path())
	return h.runIn(dir, append(argv, args...)...)
}

// runIn runs a command line (packer, make) in dir, waits for it and keeps
// its transcript.
func (h *Host) runIn(dir string, argv ...string) result {
	h.t.Helper()
	timeout := h.runTimeout
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := h.CmdIn(ctx, dir, argv...)
	cmd.ExtraFiles = strayFiles
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := result{out: ansi.ReplaceAllString(out.String(), ""), took: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		h.t.Fatalf("running %s: %v", strings.Join(argv, " "), err)
	}
	logCommand(h.t, argv, r)
	return r
}

// strayFiles leave descriptors 3 to 10 open in packer, as shells and CI
// runners can; the plugin must keep them from the tools it runs.
var strayFiles = func() []*os.File {
	null, err := os.Open(os.DevNull)
	if err != nil {
		panic(err)
	}
	files := make([]*os.File, 8)
	for i := range files {
		files[i] = null
	}
	return files
}()

// running is a packer started in the background.
type running struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startPacker starts packer in its own session, as a terminal would run
// it, so an interrupt can go to its whole process group like a Ctrl-C.
func (h *Host) startPacker(dir string, args ...string) *running {
	h.t.Helper()
	cmd := h.CmdIn(context.Background(), dir, append([]string{"packer"}, args...)...)
	cmd.ExtraFiles = strayFiles
	r := &running{cmd: cmd, out: new(syncBuffer), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(r.done) }()
	h.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
		logCommand(h.t, append([]string{"packer"}, args...), result{out: r.out.String()})
	})
	return r
}

// cancelBuild starts packer build ARGS in dir, waits (at most wait) for
// waitFor in its output, then presses Ctrl-C and fails the test unless
// packer exits within limit.
func (h *Host) cancelBuild(t *testing.T, dir, waitFor string, wait, limit time.Duration, args ...string) {
	t.Helper()
	p := h.startPacker(dir, append([]string{"build"}, args...)...)
	p.waitFor(t, waitFor, wait)
	took := p.interrupt(t, limit)
	t.Logf("packer exited %s after SIGINT", took.Round(100*time.Millisecond))
}

// waitFor waits until the output contains text.
func (r *running) waitFor(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(r.out.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("packer never printed %q within %s; output:\n%s", text, timeout, lastLines(r.out.String(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// interrupt sends SIGINT to packer's process group, as Ctrl-C does, and
// returns how long packer took to exit, or fails after limit.
func (r *running) interrupt(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil && err != syscall.ESRCH {
		t.Fatal(err)
	}
	select {
	case <-r.done:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("packer still running %s after SIGINT; output:\n%s", limit, lastLines(r.out.String(), 30))
		return 0
	}
}

// interruptTwice sends two SIGINTs a second apart, as an impatient user
// does, and waits for packer to exit.
func (r *running) interruptTwice(t *testing.T, limit time.Duration) {
	t.Helper()
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	r.interrupt(t, limit)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return ansi.ReplaceAllString(b.buf.String(), "")
}

// logCommand keeps each transcript in the test's log file.
func logCommand(t *testing.T, argv []string, r result) {
	name := strings.ReplaceAll(t.Name(), "/", "_")
	f, err := os.OpenFile(filepath.Join(outDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString("$ " + strings.Join(argv, " ") + "\n" + r.out + "\n")
}

// expectSuccess fails the test unless packer exited 0.
func expectSuccess(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("packer exited %d; want 0. Output:\n%s", r.code, lastLines(r.out, 40))
	}
}

// expectFailure fails the test unless packer exited non-zero saying want.
func expectFailure(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("packer exited 0; want a failure. Output:\n%s", lastLines(r.out, 40))
	}
	for _, w := range want {
		if !strings.Contains(r.out, w) {
			t.Errorf("packer output lacks %q:\n%s", w, lastLines(r.out, 40))
		}
	}
}

// noMachinesRunning fails the test if anything runs in the host's machined.
func (h *Host) noMachinesRunning() {
	h.t.Helper()
	if out := h.Run("machinectl", "list", "--no-legend"); strings.TrimSpace(out) != "" {
		h.t.Errorf("machines left running:\n%s", out)
	}
}

// images lists the host's machine images.
func (h *Host) images() []string {
	h.t.Helper()
	var names []string
	for _, line := range strings.Split(h.Run("machinectl", "list-images", "--no-legend"), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func (h *Host) hasImage(name string) bool {
	for _, n := range h.images() {
		if n == name {
			return true
		}
	}
	return false
}

func fileContains(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if !strings.Contains(string(b), want) {
		t.Errorf("%s lacks %q; it holds:\n%s", path, want, b)
	}
}

func fileLacks(t *testing.T, path, unwanted string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if strings.Contains(string(b), unwanted) {
		t.Errorf("%s holds %q", path, unwanted)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
