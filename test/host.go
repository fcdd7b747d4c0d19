//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// HostRelease is one kind of throwaway systemd host: a Debian release set
// up as its users set theirs up, with systemd, machined, the bootstrappers
// and Debian's packer, booted with systemd-nspawn -b. Nested containers
// run inside it, so the tests need no systemd on the machine.
type HostRelease struct {
	Name  string // as the README's table names it
	Suite string
	// Packages are what debootstrap installs; AptPackages are installed
	// with apt afterwards, since debootstrap's --include cannot order
	// their dependencies.
	Packages, AptPackages []string
	// PackerDeb installs bookworm's packer package with dpkg -i, as users
	// of a release without packer do.
	PackerDeb bool
	// Resolved runs systemd-resolved, as on hosts set up for the veth
	// network (its upstream servers are the machine's, as DHCP would give).
	Resolved bool
	// Interpreters are qemu-user-static's binfmt entries (qemu-aarch64,
	// ...) the host runs foreign programs with: registered on the machine
	// for the run (hosts and their containers use the kernel's
	// registration), and binfmt_misc mounted in the host, as systemd
	// mounts it on a user's host (in a container it does not).
	Interpreters []string
}

// basePackages are on every host; pgrep (procps) is for the checks that no
// tool is left running, make for the README's make install and make base,
// unzip for a release's zip.
var basePackages = []string{
	"systemd", "systemd-sysv", "dbus", "systemd-container", "debootstrap",
	"zstd", "ca-certificates", "tar", "e2fsprogs", "mmdebstrap", "procps",
	"make", "unzip",
}

var (
	// Debian12 is bookworm with its own packer; Packer's ansible
	// provisioner runs ansible-playbook over ssh. No systemd-resolved, as
	// on a default install. arch-test is for foreign architectures:
	// mmdebstrap needs it for a foreign tree, and debootstrap uses it to
	// see that it can run one.
	Debian12 = HostRelease{Name: "Debian 12", Suite: "bookworm",
		Packages:    append([]string{"packer", "arch-test"}, basePackages...),
		AptPackages: []string{"ansible-core", "openssh-client"}}
	// Debian13 is trixie, which has no packer: bookworm's package is
	// installed, as its users do; and systemd-resolved runs.
	Debian13 = HostRelease{Name: "Debian 13", Suite: "trixie",
		Packages:  append([]string{"systemd-resolved"}, basePackages...),
		PackerDeb: true, Resolved: true}
	// Debian12Foreign is Debian12 running foreign programs through the
	// machine's interpreters: qemu-user-static's binfmt entries have the F
	// flag, so the kernel opened them when they were registered. The host
	// has no binfmt-support: its unit would register every format in the
	// machine's kernel at the host's boot and remove them all, the
	// harness's too, at its shutdown.
	Debian12Foreign = func() HostRelease {
		rel := Debian12
		rel.Name = "Debian 12, foreign architectures"
		rel.Interpreters = []string{"qemu-aarch64", "qemu-arm"}
		return rel
	}()
)

// hostRecipe changes whenever the way the host tree is made changes, so
// the cached tarball is rebuilt.
const hostRecipe = "4"

var (
	cacheDir    = "/var/cache/packer-builder-nspawn-e2e"
	aptCacheDir = filepath.Join(cacheDir, "apt")
	hostTarsMu  sync.Mutex
	hostTars    = map[string]*hostTree{}
)

// hostTree is a release's cached tree, built at most once per run.
type hostTree struct {
	once sync.Once
	path string
	err  error
}

// Host is one booted throwaway systemd host.
type Host struct {
	t       *testing.T
	release HostRelease
	dir     string // its root directory, seen from outside
	nspawn  *exec.Cmd
	leader  int    // its PID 1, seen from outside
	cgroup  string // its own, in the cgroup2 hierarchy
	// runTimeout bounds each packer or make run in it; 20 minutes if 0.
	runTimeout time.Duration
	// releaseResolved gives up resolvedHost, for a host that holds it.
	releaseResolved func()
}

// resolvedHost is held by the one host that runs systemd-resolved. Hosts
// share this machine's network namespace (no veth links without
// CAP_NET_ADMIN), so they share 127.0.0.53: a second resolved finds it
// taken and turns its stub off, its containers ask the first host's, and
// they lose every name when that host stops. A user's host has one.
var resolvedHost = make(chan struct{}, 1)

// hostTarball returns the release's cached host tree, building it on first
// use.
func hostTarball(t *testing.T, rel HostRelease) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%s|%v|%v|%s", rel.Suite, strings.Join(rel.Packages, ","),
		strings.Join(rel.AptPackages, ","), rel.PackerDeb, rel.Resolved, hostRecipe)))
	path := filepath.Join(cacheDir, "host-"+rel.Suite+"-"+hex.EncodeToString(sum[:6])+".tar.zst")
	// Releases that differ only in how they boot share a tree.
	hostTarsMu.Lock()
	tree := hostTars[path]
	if tree == nil {
		tree = &hostTree{path: path}
		hostTars[path] = tree
	}
	hostTarsMu.Unlock()
	tree.once.Do(func() {
		if _, err := os.Stat(tree.path); err == nil {
			return
		}
		tree.err = buildHostTarball(rel, tree.path)
	})
	if tree.err != nil {
		t.Fatalf("building the %s host tree: %v", rel.Name, tree.err)
	}
	return tree.path
}

func buildHostTarball(rel HostRelease, out string) error {
	start := time.Now()
	dir, err := os.MkdirTemp(mustMkdir(cacheDir), "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tree := filepath.Join(dir, "tree")
	argv := []string{"debootstrap", "--variant=minbase", "--include=" + strings.Join(rel.Packages, ","),
		"--cache-dir=" + mustMkdir(aptCacheDir), rel.Suite, tree, DebianMirror()}
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, lastLines(string(out), 20))
	}
	// systemd-nspawn runs a command in a tree without systemd on the machine.
	inTree := []string{"systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "-D", tree,
		"--setenv=DEBIAN_FRONTEND=noninteractive", "--"}
	var steps [][]string
	if rel.PackerDeb {
		deb, err := packerDeb(dir)
		if err != nil {
			return err
		}
		if err := os.Rename(deb, filepath.Join(tree, "root", filepath.Base(deb))); err != nil {
			return err
		}
		steps = append(steps, []string{"dpkg", "-i", "/root/" + filepath.Base(deb)},
			[]string{"rm", "/root/" + filepath.Base(deb)})
	}
	if len(rel.AptPackages) > 0 {
		steps = append(steps, []string{"apt-get", "update"},
			append([]string{"apt-get", "install", "-y", "--no-install-recommends"}, rel.AptPackages...),
			[]string{"apt-get", "clean"})
	}
	if rel.Resolved {
		steps = append(steps, []string{"ln", "-sf", "../run/systemd/resolve/stub-resolv.conf", "/etc/resolv.conf"})
	}
	for _, argv := range steps {
		full := append(append([]string{}, inTree...), argv...)
		cmd := exec.Command(full[0], full[1:]...)
		if out, err := combinedOutputInCgroup(cmd, "e2e-build-"+filepath.Base(dir)); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, lastLines(string(out), 20))
		}
	}
	tmp := out + ".partial"
	tarCmd := exec.Command("tar", "--numeric-owner", "--zstd", "-C", tree, "-cf", tmp, ".")
	if b, err := tarCmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("packing the host tree: %v: %s", err, b)
	}
	fmt.Printf("e2e: built the %s host tree in %s\n", rel.Name, time.Since(start).Round(time.Second))
	return os.Rename(tmp, out)
}

// packerDeb downloads Debian's packer package into dir with this machine's
// apt (bookworm's sources), as a trixie user fetches it.
func packerDeb(dir string) (string, error) {
	cmd := exec.Command("apt-get", "download", "packer")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download packer: %v\n%s", err, lastLines(string(out), 10))
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "packer_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download packer left %v", debs)
	}
	return debs[0], nil
}

// DebianMirror reads the Debian mirror from this machine's apt sources.
func DebianMirror() string {
	if b, err := os.ReadFile("/etc/apt/sources.list.d/debian.sources"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "URIs:" {
				return f[1]
			}
		}
	}
	if b, err := os.ReadFile("/etc/apt/sources.list"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "deb" {
				if strings.HasPrefix(f[1], "[") {
					return f[2]
				}
				return f[1]
			}
		}
	}
	panic("no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list")
}

func mustMkdir(dir string) string {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	return dir
}

// spareLoopDevices is how many loop device nodes the machine gets.
const spareLoopDevices = 16

// running hosts, so an interrupt of the test run can stop them.
var (
	hostsMu sync.Mutex
	hosts   = map[*Host]bool{}
)

// BootHost boots a fresh Debian 12 host from the cached tree; t.Cleanup
// stops and removes it, whatever the test's outcome.
func BootHost(t *testing.T) *Host {
	t.Helper()
	return bootHost(t, Debian12, true)
}

// BootHostOf boots a fresh host of the release rel.
func BootHostOf(t *testing.T, rel HostRelease) *Host {
	t.Helper()
	return bootHost(t, rel, true)
}

// bootHost boots a host; with retry, a host that does not come up (rare:
// its boot can stall on a loaded machine) is replaced by a fresh one once.
func bootHost(t *testing.T, rel HostRelease, retry bool) *Host {
	t.Helper()
	tarball := hostTarball(t, rel)
	var releaseResolved func()
	if rel.Resolved {
		resolvedHost <- struct{}{}
		releaseResolved = sync.OnceFunc(func() { <-resolvedHost })
		// Also when the boot fails before the host can stop.
		t.Cleanup(releaseResolved)
	}
	if len(rel.Interpreters) > 0 {
		registerInterpreters(t, rel.Interpreters)
	}
	dir, err := os.MkdirTemp("/var/tmp", "nspawn-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	// A 0700 root, as MkdirTemp makes, keeps dbus inside from starting.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &Host{t: t, release: rel, dir: dir, releaseResolved: releaseResolved}
	t.Cleanup(h.stop)
	// Known from the start, so an interrupt removes even a half-unpacked one.
	hostsMu.Lock()
	hosts[h] = true
	hostsMu.Unlock()
	if out, err := exec.Command("tar", "--numeric-owner", "--zstd", "-C", dir, "-xf", tarball).CombinedOutput(); err != nil {
		t.Fatalf("unpacking the host: %v: %s", err, out)
	}
	if err := lendPackages(dir); err != nil {
		t.Fatalf("lending the host the package cache: %v", err)
	}
	if rel.Resolved {
		h.configureResolved()
	}
	name := "e2e-" + strconv.Itoa(os.Getpid()) + "-" + filepath.Base(dir)[len("nspawn-e2e-"):]
	args := []string{"-b", "-D", dir, "--register=no", "--keep-unit",
		// read-only: nspawn copies the host's console to the log. With
		// passive no one reads it, and once its buffer is full the host's
		// PID 1 blocks on its next status line: a boot slow enough to
		// print "A start job is running" never finished.
		"-M", name, "--console=read-only",
		"--bind-ro=" + pluginDir + ":/plugin",
		"--bind=" + mustMkdir(sharedDir) + ":/shared",
		// A capability nspawn does not give by default, for nested
		// containers to ask for.
		"--capability=CAP_IPC_LOCK"}
	for _, p := range packers {
		args = append(args, "--bind-ro="+mustMkdir(p.dir())+":"+filepath.Dir(p.Path()))
	}
	goBinds, err := goToolchainBinds()
	if err != nil {
		t.Fatalf("lending the host the Go toolchain: %v", err)
	}
	args = append(args, goBinds...)
	// Raw images boot from loop devices, which the host's private /dev
	// lacks; lend it the machine's, with spare nodes for when the first
	// ones are busy (a new one has no node in the host otherwise).
	for n := 0; n < spareLoopDevices; n++ {
		dev := fmt.Sprintf("/dev/loop%d", n)
		if !exists(dev) {
			_ = syscall.Mknod(dev, syscall.S_IFBLK|0o660, 7<<8|n)
		}
	}
	loops, _ := filepath.Glob("/dev/loop[0-9]*")
	for _, dev := range append([]string{"/dev/loop-control"}, loops...) {
		if exists(dev) {
			args = append(args, "--bind="+dev)
		}
	}
	h.nspawn = exec.Command("systemd-nspawn", args...)
	// Users' Debian 12 and 13 hosts have the unified cgroup hierarchy
	// only; this machine's hybrid one, passed on, keeps newer guests'
	// systemd from booting at all.
	h.nspawn.Env = append(os.Environ(), "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")
	cgroup, cgroupFD, err := hostCgroup(name)
	if err != nil {
		t.Fatalf("making the host's cgroup: %v", err)
	}
	h.cgroup = cgroup
	defer cgroupFD.Close()
	h.nspawn.SysProcAttr = &syscall.SysProcAttr{Setsid: true, UseCgroupFD: true, CgroupFD: int(cgroupFD.Fd())}
	log, err := os.Create(filepath.Join(outDir, t.Name()+"-host.log"))
	if err == nil {
		h.nspawn.Stdout, h.nspawn.Stderr = log, log
		t.Cleanup(func() { log.Close() })
	}
	if err := h.nspawn.Start(); err != nil {
		t.Fatalf("starting systemd-nspawn: %v", err)
	}
	if err := h.waitBooted(90 * time.Second); err != nil {
		if retry {
			t.Logf("booting the host: %v; trying once more with a fresh one", err)
			h.stop()
			return bootHost(t, rel, false)
		}
		t.Fatalf("booting the host: %v", err)
	}
	if len(rel.Interpreters) > 0 {
		h.Run("mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc")
	}
	return h
}

// configureResolved gives the host's systemd-resolved the machine's name
// servers, as DHCP gives a user's host its own.
func (h *Host) configureResolved() {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		h.t.Fatal(err)
	}
	var servers []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
			servers = append(servers, f[1])
		}
	}
	dropIn := h.Path("/etc/systemd/resolved.conf.d")
	conf := "[Resolve]\nDNS=" + strings.Join(servers, " ") + "\n"
	if err := os.MkdirAll(dropIn, 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropIn, "uplink.conf"), []byte(conf), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// waitBooted finds the host's PID 1 and waits until its systemd is up.
func (h *Host) waitBooted(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	pid := h.nspawn.Process.Pid
	// nspawn's first child sets the container up and goes; its PID 1 is
	// the child in a PID namespace of its own. Taking the first child
	// for it, a host on a loaded machine was waited for in vain.
	ownNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return err
	}
	for h.leader == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("systemd-nspawn started no container within %s", timeout)
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		for _, child := range strings.Fields(string(b)) {
			if ns, err := os.Readlink("/proc/" + child + "/ns/pid"); err == nil && ns != ownNS {
				h.leader, _ = strconv.Atoi(child)
				break
			}
		}
		if h.leader == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for {
		out, _ := h.Cmd(ctx, "systemctl", "is-system-running", "--wait").CombinedOutput()
		state := strings.TrimSpace(string(out))
		if state == "running" || state == "degraded" {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("host not up within %s (systemd: %q)%s", timeout, state, h.bootReport())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// bootReport says where a host's boot stands, from outside its bus as far
// as it can: the jobs still queued, the end of its journal, what its PID 1
// waits in, and the machine's load.
func (h *Host) bootReport() string {
	var b strings.Builder
	for _, argv := range [][]string{
		{"systemctl", "list-jobs", "--no-pager"},
		{"journalctl", "-b", "--no-pager", "-n", "30", "-o", "short-monotonic"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := h.Cmd(ctx, argv...).CombinedOutput()
		cancel()
		fmt.Fprintf(&b, "\n--- %s (%v):\n%s", strings.Join(argv, " "), err, lastLines(string(out), 30))
	}
	for _, f := range []string{"wchan", "stack"} {
		out, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", h.leader, f))
		fmt.Fprintf(&b, "\n--- its PID 1's %s:\n%s", f, out)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "\n--- machine load: %s", load)
	return b.String()
}

// stop powers the host off by signalling only the nspawn it started,
// and removes its tree.
func (h *Host) stop() {
	hostsMu.Lock()
	delete(hosts, h)
	hostsMu.Unlock()
	if h.nspawn != nil && h.nspawn.Process != nil {
		// importd keeps hidden, immutable copies of pulled images.
		if h.leader != 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = h.Cmd(ctx, "machinectl", "clean").Run()
			cancel()
		}
		_ = h.nspawn.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = h.nspawn.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = h.nspawn.Process.Kill()
			<-done
		}
	}
	if h.cgroup != "" {
		if err := removeCgroupWhenEmpty(h.cgroup); err != nil {
			h.t.Errorf("removing the host's cgroup: %v", err)
		}
	}
	if h.leader != 0 {
		if err := takeBackPackages(h.dir); err != nil {
			h.t.Logf("keeping the host's packages in the cache: %v", err)
		}
	}
	if err := os.RemoveAll(h.dir); err != nil {
		// Immutable files (read-only images) need their flag cleared.
		_ = exec.Command("chattr", "-R", "-i", h.dir).Run()
		if err := os.RemoveAll(h.dir); err != nil {
			h.t.Errorf("removing the host tree %s: %v", h.dir, err)
		}
	}
	if h.releaseResolved != nil {
		h.releaseResolved()
	}
}

// stopAllHosts is for an interrupted run.
func stopAllHosts() {
	hostsMu.Lock()
	list := make([]*Host, 0, len(hosts))
	for h := range hosts {
		list = append(list, h)
	}
	hostsMu.Unlock()
	for _, h := range list {
		h.stop()
	}
}

// Cmd prepares argv to run inside the host, in /root.
func (h *Host) Cmd(ctx context.Context, argv ...string) *exec.Cmd {
	return h.CmdIn(ctx, "/root", argv...)
}

func (h *Host) CmdIn(ctx context.Context, dir string, argv ...string) *exec.Cmd {
	full := append([]string{"-t", strconv.Itoa(h.leader), "-a", "--wdns=" + dir, "--",
		"env", "-i", "HOME=/root", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}, argv...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// Run runs argv inside the host and returns its combined output; a failure
// fails the test.
func (h *Host) Run(argv ...string) string {
	h.t.Helper()
	out, err := h.Cmd(context.Background(), argv...).CombinedOutput()
	if err != nil {
		h.t.Fatalf("in host: %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// Path is where a path inside the host is, seen from outside.
func (h *Host) Path(inside string) string {
	return filepath.Join(h.dir, inside)
}

// machine is where a nested container's file is, seen from outside.
func (h *Host) machine(name, inside string) string {
	return filepath.Join(h.dir, "var/lib/machines", name, inside)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
