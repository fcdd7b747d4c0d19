//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The throwaway systemd host: a bookworm tree with systemd, machined,
// debootstrap and Debian's packer, booted with systemd-nspawn -b. The
// plugin's containers nest inside it, so the tests need no systemd on the
// machine that runs them.

// hostPackages go into the host tree besides minbase.
var hostPackages = []string{
	"systemd", "systemd-sysv", "dbus", "systemd-container", "debootstrap",
	"packer", "zstd", "ca-certificates", "tar",
	"e2fsprogs", // mkfs.ext4 -d makes the raw image the import scenario needs
}

// hostRecipe names this way of making the host tree; change it whenever
// buildHostTarball or configureHostTree change, so a cached tarball of the
// old recipe is not used.
const hostRecipe = "e2e-1"

const (
	cacheDir = "/var/cache/packer-builder-nspawn-e2e"
	// aptCacheDir is shared by all hosts as their apt archive cache, so
	// debootstrap downloads each package once per machine, not per build.
	aptCacheDir = cacheDir + "/apt"
	// hostPath is the PATH of commands run inside a host.
	hostPath = "/usr/sbin:/usr/bin:/sbin:/bin"
)

// Host is a booted throwaway host, seen from one test: its helpers fail
// that test. In(t) gives the view for a subtest.
type Host struct {
	t *testing.T
	*host
}

// host is the booted host itself, shared by all views.
type host struct {
	Dir    string // its root directory, as seen from outside
	Name   string // its machine name
	nspawn *exec.Cmd
	exited chan struct{} // closed when nspawn has exited
	leader int           // its PID 1, as seen from outside
	// leaderNS is the PID namespace of the booted host's PID 1, which
	// tells that PID from a later process that reuses it.
	leaderNS string
	stop     sync.Once
}

// Where the harness keeps its files; set by TestMain.
var (
	outDir    string // e2e/out
	pluginDir string // the plugin binary, mounted read-only in every host at hostPluginDir
	shareDir  string // images shared between hosts, mounted read-only at hostShareDir
	logDir    string // host consoles and packer transcripts
)

const (
	hostPluginDir = "/e2e/plugin"
	hostShareDir  = "/e2e/share"
)

// logName is the test's name as a file name.
func logName(t *testing.T) string {
	return strings.ReplaceAll(t.Name(), "/", "_")
}

var (
	hostTarOnce sync.Once
	hostTarPath string
	hostTarErr  error
	// hostTarBuilt is closed when the build of the host tree has cleaned
	// up, so an interrupt can wait for that; nil before a build starts.
	hostTarBuilt   chan struct{}
	hostTarBuiltMu sync.Mutex
	// abortBuild stops a running build of the host tree.
	buildCtx, abortBuild = context.WithCancel(context.Background())
)

// hostTarball returns the cached host tree (a .tar.zst), building it on
// first use.
func hostTarball() (string, error) {
	hostTarOnce.Do(func() {
		sum := sha256.Sum256([]byte(strings.Join(hostPackages, ",") + "\n" + hostRecipe))
		hostTarPath = filepath.Join(cacheDir, "host-"+hex.EncodeToString(sum[:8])+".tar.zst")
		if _, err := os.Stat(hostTarPath); err == nil {
			return
		}
		start := time.Now()
		hostTarErr = buildHostTarball(hostTarPath)
		if hostTarErr == nil {
			fmt.Printf("e2e: built the host tree %s in %s\n", hostTarPath, time.Since(start).Round(time.Second))
		}
	})
	return hostTarPath, hostTarErr
}

// buildHostTarball debootstraps the host tree and packs it into out,
// through a temporary file, so an interrupted build leaves no half tarball
// under the real name.
func buildHostTarball(out string) error {
	built := make(chan struct{})
	hostTarBuiltMu.Lock()
	hostTarBuilt = built
	hostTarBuiltMu.Unlock()
	defer close(built)
	mirror, err := debianMirror()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(aptCacheDir, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		return err
	}
	tree := filepath.Join(work, "tree")
	defer func() {
		// A stopped debootstrap may leave /proc and /sys mounted in the
		// tree: detach them before removing it.
		unmountUnder(tree)
		os.RemoveAll(work)
	}()
	argv := []string{"debootstrap", "--variant=minbase", "--include=" + strings.Join(hostPackages, ","),
		"--cache-dir=" + aptCacheDir, "bookworm", tree, mirror}
	cmd := exec.CommandContext(buildCtx, argv[0], argv[1:]...)
	// On abort, stop debootstrap and what it runs (dpkg in a chroot).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tail(string(b), 20))
	}
	if err := configureHostTree(tree); err != nil {
		return err
	}
	return packTree(tree, out)
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		_ = syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

// stopHostTarball aborts a build of the host tree, if one runs, and waits
// at most a minute for it to clean up.
func stopHostTarball() {
	abortBuild()
	hostTarBuiltMu.Lock()
	built := hostTarBuilt
	hostTarBuiltMu.Unlock()
	if built == nil {
		return
	}
	select {
	case <-built:
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "e2e: the host tree build did not stop within a minute")
	}
}

// packTree packs the directory tree into the .tar.zst out, numeric
// owners kept, through a temporary file renamed when whole.
func packTree(tree, out string) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".partial-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	var stderr bytes.Buffer
	tarCmd := exec.Command("tar", "--numeric-owner", "-C", tree, "-c", ".")
	zstd := exec.Command("zstd", "-q", "-T0")
	tarCmd.Stderr, zstd.Stderr = &stderr, &stderr
	if zstd.Stdin, err = tarCmd.StdoutPipe(); err != nil {
		return err
	}
	zstd.Stdout = tmp
	if err := zstd.Start(); err != nil {
		return err
	}
	tarErr := tarCmd.Run()
	zstdErr := zstd.Wait()
	if err := errors.Join(tarErr, zstdErr, tmp.Chmod(0o644), tmp.Close()); err != nil {
		return fmt.Errorf("packing %s: %v: %s", tree, err, stderr.String())
	}
	return os.Rename(tmp.Name(), out)
}

// configureHostTree adapts the debootstrapped tree to running as a
// container without the host privileges a real machine has.
func configureHostTree(tree string) error {
	// The host lacks CAP_NET_ADMIN, so the stock --network-veth of
	// systemd-nspawn@.service fails ("Failed to add new veth interfaces"):
	// nested containers share the host's network instead. Without a veth
	// link their systemd-resolved has no DNS server, so they get the host's
	// resolv.conf (the example template runs apt-get inside). Everything
	// else is the stock line, read from the tree so it matches its systemd.
	unit, err := os.ReadFile(filepath.Join(tree, "lib/systemd/system/systemd-nspawn@.service"))
	if err != nil {
		return err
	}
	var execStart string
	for _, line := range strings.Split(string(unit), "\n") {
		if strings.HasPrefix(line, "ExecStart=") {
			execStart = line
		}
	}
	if !strings.Contains(execStart, " --network-veth ") {
		return fmt.Errorf("the stock systemd-nspawn@.service no longer says --network-veth (%q): update configureHostTree", execStart)
	}
	execStart = strings.Replace(execStart, " --network-veth ", " --resolv-conf=replace-host ", 1)
	dropIn := filepath.Join(tree, "etc/systemd/system/systemd-nspawn@.service.d")
	if err := os.MkdirAll(dropIn, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dropIn, "e2e.conf"), []byte("[Service]\nExecStart=\n"+execStart+"\n"), 0o644); err != nil {
		return err
	}
	// Nobody reads the host's passive console; a getty on it only adds a
	// process to every boot.
	return os.Symlink("/dev/null", filepath.Join(tree, "etc/systemd/system/console-getty.service"))
}

// running hosts, so an interrupted test run can stop them.
var (
	hostsMu sync.Mutex
	hosts   = map[*host]bool{}
	hostSeq int
)

// bootHost boots a fresh host from the cached tree. t.Cleanup stops it and
// removes its tree, whatever the test's outcome.
func bootHost(t *testing.T) *Host {
	t.Helper()
	tarball, err := hostTarball()
	if err != nil {
		t.Fatalf("making the host tree: %v", err)
	}
	dir, err := os.MkdirTemp("/var/tmp", "packer-builder-nspawn-e2e-host-")
	if err != nil {
		t.Fatal(err)
	}
	// MkdirTemp makes a 0700 directory; as the host's root directory that
	// keeps dbus inside from starting.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hostsMu.Lock()
	hostSeq++
	h := &Host{t: t, host: &host{Dir: dir, Name: fmt.Sprintf("e2e-%d-%d", os.Getpid(), hostSeq), exited: make(chan struct{})}}
	hostsMu.Unlock()
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := unpack(tarball, dir); err != nil {
		t.Fatalf("unpacking the host tree: %v", err)
	}
	if err := os.MkdirAll(aptCacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-b", "-D", dir, "--register=no", "--keep-unit", "-M", h.Name, "--console=passive",
		"--bind=" + aptCacheDir + ":/var/cache/apt/archives",
		"--bind-ro=" + pluginDir + ":" + hostPluginDir,
		"--bind-ro=" + shareDir + ":" + hostShareDir,
	}
	// Raw images boot from loop devices, which the host's own /dev lacks:
	// lend it the machine's.
	loops, _ := filepath.Glob("/dev/loop[0-9]*")
	for _, dev := range append([]string{"/dev/loop-control"}, loops...) {
		if _, err := os.Stat(dev); err == nil {
			args = append(args, "--bind="+dev)
		}
	}
	h.nspawn = exec.Command("systemd-nspawn", args...)
	// Its own session, so a Ctrl-C of the test run reaches only the test
	// binary, which then stops the host in order.
	h.nspawn.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if log, err := os.Create(filepath.Join(logDir, logName(t)+"-host.log")); err == nil {
		h.nspawn.Stdout, h.nspawn.Stderr = log, log
		t.Cleanup(func() { log.Close() })
	}
	if err := h.nspawn.Start(); err != nil {
		t.Fatalf("starting systemd-nspawn: %v", err)
	}
	go func() { _ = h.nspawn.Wait(); close(h.exited) }()
	hostsMu.Lock()
	hosts[h.host] = true
	hostsMu.Unlock()
	start := time.Now()
	if err := h.waitBooted(90 * time.Second); err != nil {
		t.Fatalf("booting host %s: %v", h.Name, err)
	}
	t.Logf("host %s up in %s", h.Name, time.Since(start).Round(100*time.Millisecond))
	return h
}

// waitBooted waits until the host's systemd reports running or degraded.
// Its PID 1 is nspawn's child; nspawn may fork helpers first, so the child
// is looked up again until systemd answers through it.
func (h *Host) waitBooted(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	state := "no container process yet"
	for {
		if pids := children(h.nspawn.Process.Pid); len(pids) > 0 {
			h.leader = pids[0]
			// Until dbus is up, systemctl fails at once; --wait then waits
			// for the boot to finish.
			out, _ := h.Command(ctx, "systemctl", "is-system-running", "--wait").Output()
			state = strings.TrimSpace(string(out))
			if state == "running" || state == "degraded" {
				h.leaderNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", h.leader))
				return nil
			}
		}
		select {
		case <-h.exited:
			return fmt.Errorf("systemd-nspawn exited: %v (see %s-host.log)", h.nspawn.ProcessState, logName(h.t))
		case <-ctx.Done():
			return fmt.Errorf("not up within %s; systemd says %q", timeout, state)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// In is the host as seen from test t (a subtest, usually).
func (h *Host) In(t *testing.T) *Host {
	return &Host{t: t, host: h.host}
}

// Stop powers the host off by signalling only the systemd-nspawn it
// started, then removes its tree.
func (h *host) Stop() error {
	var err error
	h.stop.Do(func() {
		hostsMu.Lock()
		delete(hosts, h)
		hostsMu.Unlock()
		if h.nspawn != nil && h.nspawn.Process != nil {
			_ = h.nspawn.Process.Signal(syscall.SIGTERM)
			select {
			case <-h.exited:
			case <-time.After(60 * time.Second):
				// A killed nspawn leaves the host's PID 1 running: kill it
				// too, which ends everything in its PID namespace.
				_ = h.nspawn.Process.Kill()
				if ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", h.leader)); h.leaderNS != "" && ns == h.leaderNS {
					_ = syscall.Kill(h.leader, syscall.SIGKILL)
				}
				<-h.exited
			}
		}
		if rmErr := os.RemoveAll(h.Dir); rmErr != nil {
			err = fmt.Errorf("removing host tree %s: %v", h.Dir, rmErr)
		}
	})
	return err
}

// stopAllHosts stops every host still running, for an interrupted run.
func stopAllHosts() {
	hostsMu.Lock()
	list := make([]*host, 0, len(hosts))
	for h := range hosts {
		list = append(list, h)
	}
	hostsMu.Unlock()
	var wg sync.WaitGroup
	for _, h := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "e2e:", err)
			}
		}()
	}
	wg.Wait()
}

// Command prepares argv to run inside the host, in /root.
func (h *Host) Command(ctx context.Context, argv ...string) *exec.Cmd {
	return h.CommandIn(ctx, "/root", argv...)
}

// CommandIn prepares argv to run inside the host in directory dir (a path
// inside the host), with a clean environment. --wdns, not --wd: util-linux
// 2.38 resolves --wd's directory before entering the host's mounts.
func (h *Host) CommandIn(ctx context.Context, dir string, argv ...string) *exec.Cmd {
	full := append([]string{"-t", strconv.Itoa(h.leader), "-a", "--wdns=" + dir, "--",
		"env", "-i", "HOME=/root", "PATH=" + hostPath, "LANG=C.UTF-8"}, argv...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Run runs argv inside the host and returns its combined output.
func (h *Host) Run(ctx context.Context, argv ...string) (string, error) {
	out, err := h.Command(ctx, argv...).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("in host: %s: %w\n%s", strings.Join(argv, " "), err, tail(string(out), 20))
	}
	return string(out), err
}

// MustRun runs argv inside the host, bounded by ten minutes, and fails the
// test if it fails.
func (h *Host) MustRun(argv ...string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := h.Run(ctx, argv...)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// Process is a command running in the background inside a host.
type Process struct {
	cmd   *exec.Cmd
	out   *syncBuffer
	done  chan struct{}
	inner int           // the command itself (nsenter's child), seen from outside
	Took  time.Duration // set when done
	Code  int           // set when done
	start time.Time
}

// Start starts argv inside the host in dir, in a session of its own (as a
// shell runs a foreground job), and returns at once. t.Cleanup kills what
// is left of it.
func (h *Host) Start(dir string, argv ...string) *Process {
	h.t.Helper()
	// setsid: the command leads its own process group, so Interrupt can
	// signal that group the way a terminal's Ctrl-C does, without hitting
	// nsenter (which would die of it and lose the exit status).
	cmd := h.CommandIn(context.Background(), dir, append([]string{"setsid"}, argv...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p := &Process{cmd: cmd, out: new(syncBuffer), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting %s in host: %v", strings.Join(argv, " "), err)
	}
	go func() {
		err := cmd.Wait()
		p.Took = time.Since(p.start)
		p.Code = exitCode(err)
		close(p.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for p.inner == 0 && time.Now().Before(deadline) {
		if pids := children(cmd.Process.Pid); len(pids) > 0 {
			p.inner = pids[0]
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if p.inner == 0 {
		h.t.Fatalf("%s: nsenter started no command within 10s", strings.Join(argv, " "))
	}
	h.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.inner, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
			}
		}
	})
	return p
}

// PID is the command's process ID, as seen from outside the host.
func (p *Process) PID() int { return p.inner }

// Output is what the command has printed so far (stdout and stderr).
func (p *Process) Output() string { return p.out.String() }

// Interrupt sends SIGINT to the command's process group, as Ctrl-C does.
func (p *Process) Interrupt() error {
	err := syscall.Kill(-p.inner, syscall.SIGINT)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// Wait waits at most limit for the command to exit and reports whether it
// did.
func (p *Process) Wait(limit time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(limit):
		return false
	}
}

// WaitFor waits at most limit until the output contains text.
func (p *Process) WaitFor(text string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !strings.Contains(p.Output(), text) {
		select {
		case <-p.done:
			return strings.Contains(p.Output(), text)
		default:
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// Path is where a path inside the host is, seen from outside.
func (h *Host) Path(inside string) string {
	return filepath.Join(h.Dir, inside)
}

// MachinePath is where a file of a nested container in /var/lib/machines
// is, seen from outside.
func (h *Host) MachinePath(machine, inside string) string {
	return filepath.Join(h.Dir, "var/lib/machines", machine, inside)
}

// WriteFile writes a file inside the host (from outside, as root),
// making its directory.
func (h *Host) WriteFile(inside string, data []byte) {
	h.t.Helper()
	if err := os.MkdirAll(filepath.Dir(h.Path(inside)), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(h.Path(inside), data, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// ReadFile reads a file inside the host; for a nested container's file
// give "/var/lib/machines/NAME/...".
func (h *Host) ReadFile(inside string) ([]byte, error) {
	return os.ReadFile(h.Path(inside))
}

// Processes lists the command lines of the processes running inside the
// host: those in its PID namespace (which nsenter puts commands in) and
// their descendants (nested containers have namespaces of their own).
func (h *Host) Processes() []string {
	hostNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", h.leader))
	if err != nil {
		return nil
	}
	var list []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !inNamespaceTree(pid, hostNS) {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && len(cmdline) > 0 {
			list = append(list, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
		}
	}
	return list
}

// inNamespaceTree reports whether pid or one of its ancestors is in the
// PID namespace ns.
func inNamespaceTree(pid int, ns string) bool {
	for i := 0; i < 64 && pid > 0; i++ {
		if other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil && other == ns {
			return true
		}
		pid = parentPID(pid)
	}
	return false
}

func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name in parentheses may hold spaces: parse after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// children lists the child processes of pid.
func children(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// unpack unpacks a .tar.zst into dir.
func unpack(tarball, dir string) error {
	cmd := exec.Command("tar", "--numeric-owner", "-I", "zstd", "-C", dir, "-xpf", tarball)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tar -x %s: %v: %s", tarball, err, b)
	}
	return nil
}

// exitCode is the exit status in err, 0 for nil, -1 if it did not exit.
func exitCode(err error) int {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return exitErr.ExitCode()
	default:
		return -1
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
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
	return b.buf.String()
}
