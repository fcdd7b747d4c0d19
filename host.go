package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Host is every host operation the builder needs. hostTools runs the
// real tools; tests use a fake that records calls and fails on demand.
type Host interface {
	// ImageKnown reports whether machined knows an image of that name.
	ImageKnown(ctx context.Context, name string) (bool, error)
	// Running reports whether machined has a running machine of that name.
	Running(ctx context.Context, name string) (bool, error)
	// Bootstrap installs a Debian tree into opts.Target with opts.Tool.
	Bootstrap(ctx context.Context, opts bootstrapOptions) error
	// EnableUnits enables systemd units in the offline tree at root.
	EnableUnits(ctx context.Context, root string, units ...string) error
	// Import makes the image name from src, as importctl import-*/pull-* do.
	Import(ctx context.Context, src importSource, name string) error
	// ExportImage writes the stopped image name to path in format.
	ExportImage(ctx context.Context, name string, format exportFormat, path string) error
	// MakeRawImage writes the tree at dir as an ext4 image of size bytes;
	// with fixed set, one that depends on the tree alone.
	MakeRawImage(ctx context.Context, dir, path string, size int64, fixed *rawIdentity) error
	// Compress writes what src yields to path, compressed for format
	// (.tar.gz, .tar.xz or .tar.zst) by that format's tool. src is the
	// tool's standard input itself, so nothing is copied on the way; it
	// stays open for the caller to close.
	Compress(ctx context.Context, src *os.File, format exportFormat, path string) error
	// ResetOwnership shifts the tree at dir back to plain user ids.
	ResetOwnership(ctx context.Context, dir string) error
	// Importing reports whether machined still runs a transfer into name.
	Importing(ctx context.Context, name string) (bool, error)
	// Clone copies the image src to the new image name.
	Clone(ctx context.Context, src, name string) error
	// RenameImage gives the image name the name to.
	RenameImage(ctx context.Context, name, to string) error
	// SetReadOnly marks the image name read-only.
	SetReadOnly(ctx context.Context, name string) error
	// Start boots the image name with machinectl start.
	Start(ctx context.Context, name string) error
	// Journal is the last lines the container's systemd-nspawn@ unit logged since then.
	Journal(ctx context.Context, name string, since time.Time, lines int) (string, error)
	// SystemState asks the container's systemd, through its bus, how far
	// it has booted ("starting", "running", "degraded", ...); it fails
	// while that bus does not answer.
	SystemState(ctx context.Context, name string) (string, error)
	// Init finds the container's init on this host and holds on to it.
	Init(ctx context.Context, name string) (initProcess, error)
	// Poweroff asks the container to shut down cleanly.
	Poweroff(ctx context.Context, name string) error
	// PoweroffByBus asks the container's systemd, over its bus, to start
	// what SIGRTMIN+4 starts: poweroff.target, replacing every other job.
	// It works where the signal does not: qemu-user shifts realtime
	// signals, and an emulated systemd takes SIGRTMIN+4 for another one.
	PoweroffByBus(ctx context.Context, name string) error
	// StopUnit stops the container's systemd-nspawn@ unit, even one still
	// starting that machined does not list yet.
	StopUnit(ctx context.Context, name string) error
	// Terminate kills the container at once.
	Terminate(ctx context.Context, name string) error
	// KillUnit kills every process of the container's systemd-nspawn@
	// unit, first replacing whatever job the unit has pending with a stop
	// job, so a start still queued does not run nspawn after the kill.
	KillUnit(ctx context.Context, name string) error
	// UnitActive reports whether the container's systemd-nspawn@ unit is
	// starting, running or stopping: its nspawn may hold the image.
	UnitActive(ctx context.Context, name string) (bool, error)
	// RemoveImage deletes an image known to machined.
	RemoveImage(ctx context.Context, name string) error
	// RemoveTree deletes a directory tree that the build made itself.
	RemoveTree(path string) error
	// LinkImage makes the tree at path bootable as name by machinectl.
	LinkImage(name, path string) error
	// UnlinkImage removes what LinkImage made.
	UnlinkImage(name string) error
	// Exec runs argv inside the running container name.
	Exec(ctx context.Context, name string, cmd execRequest) (int, error)
}

// execRequest is one command to run in a container, with its streams and,
// if set, the user and group to run it as.
type execRequest struct {
	Argv        []string
	User, Group string
	// Env is set in the command's environment, each "NAME=VALUE".
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// bootstrapOptions are the inputs of one debootstrap or mmdebstrap run.
type bootstrapOptions struct {
	Tool, Suite, Target, Mirror, Variant, CacheDir string
	// Arch is the tree's Debian architecture, or "" for the host's.
	Arch    string
	Include []string
	// Components are the archive components, or nil for main alone.
	Components []string
	// IgnoreValidUntil takes a mirror whose Release file has expired.
	IgnoreValidUntil bool
	// SourceDate, if set, is given to the bootstrapper as
	// SOURCE_DATE_EPOCH (a reproducible build).
	SourceDate *time.Time
}

// runtimeImagesDir is searched by machined and cleared at boot, so a link
// there never outlives the host's uptime.
const runtimeImagesDir = "/run/machines"

// stopGrace is how long a cancelled tool gets between SIGTERM and SIGKILL.
const stopGrace = 10 * time.Second

// hostTools runs the host's tools. Output of the long-running ones goes
// to say, one line at a time, as it comes.
type hostTools struct {
	say func(line string)
	// imports runs the imports, pulls and exports.
	imports importTool
}

func newHostTools(say func(line string)) *hostTools {
	return &hostTools{say: say, imports: hostImportTool()}
}

// importTool is the tool that asks importd for imports, pulls and
// exports: importctl where the host has it (systemd 256 and later, whose
// machinectl only redirects those verbs there, saying so each time),
// machinectl elsewhere.
type importTool string

const (
	machinectlTool importTool = "machinectl"
	importctlTool  importTool = "importctl"
)

func hostImportTool() importTool {
	if _, err := exec.LookPath(string(importctlTool)); err == nil {
		return importctlTool
	}
	return machinectlTool
}

// command begins the tool's command line for verb. importctl serves
// several classes of images and refuses to guess which one is meant.
func (t importTool) command(verb string) []string {
	if t == importctlTool {
		return []string{string(t), "--class=machine", verb}
	}
	return []string{string(t), verb}
}

func (h *hostTools) ImageKnown(ctx context.Context, name string) (bool, error) {
	return h.known(ctx, "show-image", name)
}

func (h *hostTools) Running(ctx context.Context, name string) (bool, error) {
	return h.known(ctx, "show", name)
}

// known runs a machinectl query that fails exactly when name is unknown.
func (h *hostTools) known(ctx context.Context, verb, name string) (bool, error) {
	out, err := h.output(ctx, "machinectl", verb, "--property=Name", "--", name)
	if err == nil {
		return true, nil
	}
	if strings.Contains(out, "No machine") || strings.Contains(out, "No image") ||
		strings.Contains(out, "not known") || strings.Contains(out, "No such") {
		return false, nil
	}
	return false, fmt.Errorf("machinectl %s %s: %w: %s", verb, name, err, strings.TrimSpace(out))
}

func (h *hostTools) Bootstrap(ctx context.Context, opts bootstrapOptions) error {
	unlock, err := lockCache(ctx, opts.CacheDir, opts.Tool, h.say)
	if err != nil {
		return err
	}
	defer unlock()
	return h.run(ctx, nil, bootstrapEnv(opts), bootstrapArgv(opts))
}

func (h *hostTools) EnableUnits(ctx context.Context, root string, units ...string) error {
	return h.stream(ctx, nil, append([]string{"systemctl", "--root=" + root, "enable", "--"}, units...)...)
}

func (h *hostTools) Import(ctx context.Context, src importSource, name string) error {
	argv := importArgv(h.imports, src, name)
	if src.Kind != importTarZstd {
		return h.stream(ctx, nil, argv...)
	}
	// importd reads no zstd: decompress in a pipe, never to a temp file.
	return h.pipeline(ctx, []string{"zstd", "-dc", "--", src.Path}, argv)
}

func (h *hostTools) ExportImage(ctx context.Context, name string, format exportFormat, path string) error {
	argv := exportArgv(h.imports, name, format, path)
	if format != exportTarZstd {
		return h.stream(ctx, nil, argv...)
	}
	// machinectl has no zstd format (Debian 12's: "Unknown format"); one
	// pipe serves both tools alike.
	return h.pipeline(ctx, argv, []string{"zstd", "-q", "-T0", "-f", "-o", path})
}

func (h *hostTools) Importing(ctx context.Context, name string) (bool, error) {
	// With its header, which says where the LOCAL column is.
	argv := append(h.imports.command("list-transfers"), "--no-pager")
	out, err := h.output(ctx, argv...)
	if err != nil {
		return false, fmt.Errorf("%s list-transfers: %w: %s", h.imports, err, strings.TrimSpace(out))
	}
	return transferInto(out, name), nil
}

// transferInto reports whether a list-transfers listing has a transfer
// whose local name is name. The header finds the LOCAL column:
// machinectl's columns are ID PERCENT TYPE LOCAL REMOTE, importctl's
// have CLASS before LOCAL.
func transferInto(listing, name string) bool {
	local := -1
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if local < 0 {
			local = slices.Index(f, "LOCAL")
			continue
		}
		if len(f) > local && f[local] == name {
			return true
		}
	}
	return false
}

func (h *hostTools) MakeRawImage(ctx context.Context, dir, path string, size int64, fixed *rawIdentity) error {
	argv, env := makeRawImageArgv(dir, path, size, fixed)
	if err := h.run(ctx, nil, env, argv); err != nil || fixed == nil {
		return err
	}
	// mkfs.ext4 -d copies each file's access and change times, which no
	// one can set in the tree: debugfs sets them in the image instead.
	script, err := debugfsTimesScript(dir, fixed.Epoch)
	if err != nil {
		return err
	}
	return h.run(ctx, strings.NewReader(script), env, []string{"debugfs", "-w", "-f", "-", path})
}

// rawIdentity is what mkfs.ext4 would otherwise draw at random or read
// from the clock: the file system's UUID (also its directory hash seed)
// and its times.
type rawIdentity struct {
	UUID  string
	Epoch time.Time
}

// makeRawImageArgv is mkfs.ext4's command line, and what it needs in its
// environment, for MakeRawImage.
func makeRawImageArgv(dir, path string, size int64, fixed *rawIdentity) (argv, env []string) {
	argv = []string{"mkfs.ext4", "-q", "-F", "-d", dir}
	if fixed != nil {
		argv = append(argv, "-U", fixed.UUID, "-E", "hash_seed="+fixed.UUID)
		env = []string{"E2FSPROGS_FAKE_TIME=" + strconv.FormatInt(fixed.Epoch.Unix(), 10)}
	}
	return append(argv, "--", path, fmt.Sprintf("%dK", size/1024)), env
}

func (h *hostTools) Compress(ctx context.Context, src *os.File, format exportFormat, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	argv := compressArgv(format)
	cmd := h.command(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout = src, f
	errOut := &tailBuffer{max: 2048}
	cmd.Stderr = errOut
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s failed (%w): %s", argv[0], err, errOut.reason())
	}
	return nil
}

// compressArgv compresses standard input to standard output for format,
// the same bytes for the same input on any host: gzip without the name
// and time it would record, xz in one thread (its threaded mode cuts the
// stream in blocks), zstd in its threaded mode, whose output does not
// depend on the number of threads.
func compressArgv(format exportFormat) []string {
	switch format {
	case exportTarGz:
		return []string{"gzip", "-n", "-c"}
	case exportTarXz:
		return []string{"xz", "-c", "-T1"}
	default:
		return []string{"zstd", "-q", "-c", "-T0"}
	}
}

func (h *hostTools) ResetOwnership(ctx context.Context, dir string) error {
	// No --keep-unit: nspawn gets a scope of its own from systemd, since
	// the caller's cgroup (packer's) may not be one it can nest in.
	return h.stream(ctx, nil, "systemd-nspawn", "--quiet", "--register=no",
		"--private-users=0", "--private-users-ownership=chown", "-D", dir, "--", "/bin/true")
}

func (h *hostTools) Clone(ctx context.Context, src, name string) error {
	return h.stream(ctx, nil, "machinectl", "clone", "--", src, name)
}

func (h *hostTools) RenameImage(ctx context.Context, name, to string) error {
	return h.stream(ctx, nil, "machinectl", "rename", "--", name, to)
}

func (h *hostTools) SetReadOnly(ctx context.Context, name string) error {
	return h.stream(ctx, nil, "machinectl", "read-only", "--", name, "true")
}

func (h *hostTools) Start(ctx context.Context, name string) error {
	return h.stream(ctx, nil, "machinectl", "start", "--", name)
}

// unitSettleTimeout bounds Journal's wait for a stopped container's unit
// to finish stopping.
const unitSettleTimeout = 2 * time.Second

func (h *hostTools) Journal(ctx context.Context, name string, since time.Time, lines int) (string, error) {
	// The last lines of a container that died (nspawn's own "Failed to
	// ...", systemd's verdict on the unit) are logged while its unit
	// stops: read once the unit has stopped, not the instant the machine
	// is gone. A running container's lines are there already.
	if up, err := h.Running(ctx, name); err == nil && !up {
		_ = pollUntil(ctx, unitSettleTimeout, func(ctx context.Context) bool {
			active, err := h.UnitActive(ctx, name)
			return err != nil || !active
		})
	}
	argv := journalArgv(name, since)
	// journalctl's --lines counts from --since onwards, not back from the
	// end: the tail is kept here.
	tail := &tailBuffer{max: 64 << 10}
	var stderr bytes.Buffer
	cmd := h.command(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = tail, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("journalctl failed (%w): %s", err, strings.TrimSpace(stderr.String()))
	}
	return tail.lastLines(lines), nil
}

// dpkgArchitecture is the host's Debian architecture, as dpkg says.
func dpkgArchitecture() (string, error) {
	out, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// nspawnUnit is the host's unit that runs the container name.
func nspawnUnit(name string) string {
	return "systemd-nspawn@" + name + ".service"
}

// journalArgv reads the container's unit's journal since then, messages
// only: the container's console goes there, as machinectl start runs
// nspawn with no terminal.
func journalArgv(name string, since time.Time) []string {
	return []string{"journalctl", "--unit=" + nspawnUnit(name),
		fmt.Sprintf("--since=@%d.%06d", since.Unix(), since.Nanosecond()/1000),
		"--no-pager", "--quiet", "--output=cat"}
}

func (h *hostTools) SystemState(ctx context.Context, name string) (string, error) {
	out, err := h.output(ctx, "systemctl", "--machine="+name, "is-system-running")
	state := strings.TrimSpace(out)
	// is-system-running exits non-zero for every state but "running".
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return "", err
	}
	if strings.ContainsAny(state, " \n") {
		return "", fmt.Errorf("systemctl --machine=%s is-system-running: %s", name, state)
	}
	return state, nil
}

func (h *hostTools) Init(ctx context.Context, name string) (initProcess, error) {
	pid, err := h.leader(ctx, name)
	if err != nil {
		return nil, err
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil, err
	}
	init := hostInit{p}
	// The handle was taken after the lookup: the same answer again proves
	// it holds the init the lookup named, not a later process given its
	// PID.
	if again, err := h.leader(ctx, name); err != nil || again != pid || init.Exited() {
		p.Release()
		return nil, fmt.Errorf("the init of %s exited while it was looked up", name)
	}
	return init, nil
}

// leader is the PID, on this host, of the container's init.
func (h *hostTools) leader(ctx context.Context, name string) (int, error) {
	out, err := h.output(ctx, "machinectl", "show", "--property=Leader", "--value", "--", name)
	if err != nil {
		return 0, fmt.Errorf("machinectl show %s: %w: %s", name, err, strings.TrimSpace(out))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("machinectl show %s: no leader in %q", name, out)
	}
	return pid, nil
}

func (h *hostTools) Poweroff(ctx context.Context, name string) error {
	return h.stream(ctx, nil, "machinectl", "poweroff", "--", name)
}

func (h *hostTools) PoweroffByBus(ctx context.Context, name string) error {
	return h.stream(ctx, nil, poweroffByBusArgv(name)...)
}

// poweroffByBusArgv starts poweroff.target in the container as its systemd
// does on SIGRTMIN+4, without waiting for the job, which ends with the bus.
func poweroffByBusArgv(name string) []string {
	return []string{"systemctl", "--machine=" + name, "--no-block", "--job-mode=replace-irreversibly", "start", "poweroff.target"}
}

func (h *hostTools) StopUnit(ctx context.Context, name string) error {
	return h.stream(ctx, nil, "systemctl", "stop", "--", nspawnUnit(name))
}

func (h *hostTools) KillUnit(ctx context.Context, name string) error {
	if err := h.stream(ctx, nil, "systemctl", "stop", "--no-block", "--", nspawnUnit(name)); err != nil {
		return err
	}
	return h.stream(ctx, nil, "systemctl", "kill", "--signal=SIGKILL", "--", nspawnUnit(name))
}

func (h *hostTools) UnitActive(ctx context.Context, name string) (bool, error) {
	// is-active exits non-zero for every state but active: its word says.
	out, err := h.output(ctx, "systemctl", "is-active", "--", nspawnUnit(name))
	switch st := strings.TrimSpace(out); st {
	case "active", "activating", "deactivating", "reloading", "refreshing":
		return true, nil
	case "inactive", "failed", "unknown":
		return false, nil
	default:
		return false, fmt.Errorf("systemctl is-active %s: %q (%v)", nspawnUnit(name), st, err)
	}
}

func (h *hostTools) Terminate(ctx context.Context, name string) error {
	return h.stream(ctx, nil, "machinectl", "terminate", "--", name)
}

func (h *hostTools) RemoveImage(ctx context.Context, name string) error {
	return h.stream(ctx, nil, "machinectl", "remove", "--", name)
}

func (h *hostTools) RemoveTree(path string) error {
	return os.RemoveAll(path)
}

func (h *hostTools) LinkImage(name, path string) error {
	if err := os.MkdirAll(runtimeImagesDir, 0o755); err != nil {
		return err
	}
	return os.Symlink(path, filepath.Join(runtimeImagesDir, name))
}

func (h *hostTools) UnlinkImage(name string) error {
	err := os.Remove(filepath.Join(runtimeImagesDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (h *hostTools) Exec(ctx context.Context, name string, req execRequest) (int, error) {
	argv := execArgv(name, req)
	cmd := h.command(ctx, argv[0], argv[1:]...)
	// Output nobody reads goes to /dev/null, not through a pipe we copy.
	if req.Stdout != io.Discard {
		cmd.Stdout = req.Stdout
	}
	if req.Stderr != io.Discard {
		cmd.Stderr = req.Stderr
	}
	stdin, done, err := detachedStdin(req.Stdin)
	if err != nil {
		return -1, err
	}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	err = cmd.Run()
	done()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && ctx.Err() == nil {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("systemd-run --machine=%s: %w", name, err)
	}
	return 0, nil
}

// detachedStdin feeds r to a command through a pipe of our own. os/exec
// would wait for r to reach EOF before Wait returns, and some callers
// (Packer's SSH adapter for ansible) close their side only after the
// command has exited. done, called once the command has exited, closes
// the pipe and lets the copy end.
func detachedStdin(r io.Reader) (stdin *os.File, done func(), err error) {
	if r == nil {
		return nil, func() {}, nil
	}
	if f, ok := r.(*os.File); ok {
		return f, func() {}, nil
	}
	pr, pw, err := bulkPipe()
	if err != nil {
		return nil, nil, err
	}
	go func() {
		buf := copyBuffers.Get().(*[]byte)
		defer copyBuffers.Put(buf)
		// Hiding pw's ReadFrom makes the copy use the large buffer.
		_, _ = io.CopyBuffer(struct{ io.Writer }{pw}, r, *buf)
		pw.Close()
	}()
	return pr, func() { pr.Close() }, nil
}

// command prepares a tool in its own process group, so cancelling the
// build stops the tool and every child it started (dpkg, wget, ...).
func (h *hostTools) command(ctx context.Context, name string, args ...string) *hostCmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	return &hostCmd{Cmd: cmd, ctx: ctx}
}

// hostCmd is a command hostTools runs, every one passing here, those the
// communicator runs in the container too. Packer's log (PACKER_LOG=1)
// gets its command line before it starts, quoted so a user can paste it
// into a shell, and how it ended.
type hostCmd struct {
	*exec.Cmd
	// ctx is the command's context, whose end the log gives as the
	// reason a command was stopped.
	ctx context.Context
	// env is what the command has in its environment beyond ours.
	env     []string
	id      uint64
	started time.Time
}

// hostCmdCount numbers the commands in the log, so that each one's end
// is found from its start while several run at once.
var hostCmdCount atomic.Uint64

// setEnv gives the command env in addition to our environment.
func (c *hostCmd) setEnv(env []string) {
	c.env = env
	c.Env = append(os.Environ(), env...)
}

func (c *hostCmd) Start() error {
	c.id = hostCmdCount.Add(1)
	log.Printf("host command %d: %s", c.id, shellQuote(c.env, c.Args))
	c.started = time.Now()
	if err := c.Cmd.Start(); err != nil {
		log.Printf("host command %d: did not start: %s", c.id, err)
		return err
	}
	return nil
}

func (c *hostCmd) Wait() error {
	err := c.Cmd.Wait()
	log.Printf("host command %d: %s after %s", c.id, endOf(c.ProcessState, err, c.ctx.Err()), time.Since(c.started).Round(time.Millisecond))
	return err
}

func (c *hostCmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// endOf says how a command ended: its exit status or signal, and what
// else went wrong or stopped it, such as the build being cancelled.
func endOf(state *os.ProcessState, err, ctxErr error) string {
	if state == nil {
		return err.Error()
	}
	var exitErr *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exitErr):
		return fmt.Sprintf("%s (%s)", state, err)
	case ctxErr != nil && !state.Success():
		return fmt.Sprintf("%s (%s)", state, ctxErr)
	}
	return state.String()
}

// shellQuote writes env and argv as one shell command line that runs
// argv with env added to its environment: a word a shell would change is
// put in single quotes.
func shellQuote(env, argv []string) string {
	words := make([]string, 0, len(env)+len(argv))
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		words = append(words, name+"="+quoteWord(value))
	}
	for _, w := range argv {
		words = append(words, quoteWord(w))
	}
	return strings.Join(words, " ")
}

// quoteWord is w as a shell reads it back: untouched if the shell would
// take it as it is, else in single quotes, a quote in it written as a
// quote that ends them, an escaped quote and one that begins them again.
func quoteWord(w string) string {
	plain := w != "" && strings.IndexFunc(w, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0
	if plain {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// stream runs argv with its output sent to the UI line by line.
func (h *hostTools) stream(ctx context.Context, stdin io.Reader, argv ...string) error {
	return h.run(ctx, stdin, nil, argv)
}

// run is stream with env added to the tool's environment.
func (h *hostTools) run(ctx context.Context, stdin io.Reader, env, argv []string) error {
	cmd := h.command(ctx, argv[0], argv[1:]...)
	if env != nil {
		cmd.setEnv(env)
	}
	out := &lineWriter{emit: h.say}
	tail := &tailBuffer{max: 2048}
	cmd.Stdin = stdin
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(out, tail)
	err := cmd.Run()
	out.Flush()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", argv[0], ctx.Err())
		}
		return fmt.Errorf("%s failed (%w): %s", toolName(argv), err, tail.reason())
	}
	return nil
}

// toolName names a command line in messages by its first two words, past
// a leading "unshare ... --".
func toolName(argv []string) string {
	if argv[0] == "unshare" {
		for i, a := range argv {
			if a == "--" && i+1 < len(argv) {
				argv = argv[i+1:]
				break
			}
		}
	}
	return strings.Join(argv[:min(2, len(argv))], " ")
}

// pipeline runs from | to through a pipe of its own, both tools' messages
// on the UI. The pipe is of the default size, as a shell's: the consumer
// then reads what the producer wrote while it is still in the CPU's cache,
// where a bulk pipe made an import's unpacking slower (the import row of
// BENCHMARKS.md holds this pipeline to the shell's).
// The consumer's failure says most (it saw the data), so it wins; a
// producer that failed while the consumer took a short stream still fails
// the whole.
func (h *hostTools) pipeline(ctx context.Context, from, to []string) error {
	pr, pw, err := blockingPipe()
	if err != nil {
		return err
	}
	producer := h.command(ctx, from[0], from[1:]...)
	producer.Stdout = pw
	out := &lineWriter{emit: h.say}
	tail := &tailBuffer{max: 2048}
	producer.Stderr = io.MultiWriter(out, tail)
	if err := producer.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("%s: %w", from[0], err)
	}
	pw.Close()
	consumerErr := h.stream(ctx, pr, to...)
	pr.Close()
	producerErr := producer.Wait()
	out.Flush()
	if consumerErr != nil {
		return consumerErr
	}
	if producerErr != nil {
		return fmt.Errorf("%s failed (%w): %s", toolName(from), producerErr, tail.lastLine())
	}
	return nil
}

// output runs a short query and returns its combined output.
func (h *hostTools) output(ctx context.Context, argv ...string) (string, error) {
	var buf bytes.Buffer
	cmd := h.command(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// importArgv is tool's command line that makes image name from src; a
// .tar.zst is read from standard input.
func importArgv(tool importTool, src importSource, name string) []string {
	switch src.Kind {
	case pullTar, pullRaw:
		argv := tool.command(string(src.Kind))
		if src.Verify != "" {
			argv = append(argv, "--verify="+src.Verify)
		}
		return append(argv, "--", src.Path, name)
	case importTarZstd:
		return append(tool.command("import-tar"), "--", "-", name)
	default:
		return append(tool.command(string(src.Kind)), "--", src.Path, name)
	}
}

// exportArgv is tool's command line that writes the image name to path in
// format; a .tar.zst is written uncompressed to standard output, for zstd.
func exportArgv(tool importTool, name string, format exportFormat, path string) []string {
	switch format {
	case exportRaw:
		return append(tool.command("export-raw"), "--format=uncompressed", "--", name, path)
	case exportTarZstd:
		return append(tool.command("export-tar"), "--format=uncompressed", "--", name, "-")
	default:
		return append(tool.command("export-tar"), "--format="+format.compression(), "--", name, path)
	}
}

// execArgv runs argv in the container through the service manager, with
// our pipes as its streams and its exit status as ours.
func execArgv(name string, req execRequest) []string {
	argv := []string{"systemd-run", "--machine=" + name, "--pipe", "--wait", "--quiet", "--collect"}
	if req.User != "" {
		argv = append(argv, "--uid="+req.User)
	}
	if req.Group != "" {
		argv = append(argv, "--gid="+req.Group)
	}
	for _, kv := range req.Env {
		argv = append(argv, "--setenv="+kv)
	}
	argv = append(argv, "--")
	// The container's service manager replaces $NAME and ${NAME} in a
	// command's arguments with its environment's (systemd.service(5),
	// "Command lines"), and Debian 12's systemd-run cannot turn that off:
	// every $ is doubled, which reaches the command as one.
	for _, a := range req.Argv {
		argv = append(argv, strings.ReplaceAll(a, "$", "$$"))
	}
	return argv
}
