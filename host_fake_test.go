package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// fakeHost stands in for the host tools: it records every call as a
// line ("start base"), keeps a small model of images and running machines,
// and fails any call whose line starts with a key of failOn.
type fakeHost struct {
	mu      sync.Mutex
	calls   []string
	images  map[string]bool
	running map[string]bool
	failOn  map[string]error
	// states are what SystemState answers, one per call; the last repeats.
	states []string
	// stubbornPoweroff keeps the machine running after poweroff.
	stubbornPoweroff bool
	// lastBootstrap is what Bootstrap was last asked for.
	lastBootstrap bootstrapOptions
	// exec answers Exec; nil means exit 0 with no output.
	exec func(req execRequest) (int, error)
	// noInit makes Init fail, as for a container machined no longer has.
	noInit bool
	// blockOn makes the named call wait for its context to end.
	blockOn string
	// journal is what Journal answers.
	journal string
	// unitLingers is how many more UnitActive calls answer that the unit
	// is still active (a start job that outlived machinectl start).
	unitLingers int
}

func newFakeHost() *fakeHost {
	return &fakeHost{images: map[string]bool{}, running: map[string]bool{}, failOn: map[string]error{}}
}

// record logs a call and returns the failure configured for it.
func (f *fakeHost) record(format string, args ...interface{}) error {
	line := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.calls = append(f.calls, line)
	f.mu.Unlock()
	for prefix, err := range f.failOn {
		if strings.HasPrefix(line, prefix) {
			return err
		}
	}
	return nil
}

func (f *fakeHost) block(ctx context.Context, verb string) error {
	if f.blockOn != verb {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeHost) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// called reports whether any call line starts with prefix.
func (f *fakeHost) called(prefix string) bool {
	for _, c := range f.callLog() {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

func (f *fakeHost) ImageKnown(ctx context.Context, name string) (bool, error) {
	if err := f.record("image-known %s", name); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.images[name], nil
}

func (f *fakeHost) Running(ctx context.Context, name string) (bool, error) {
	if err := f.record("running %s", name); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running[name], nil
}

func (f *fakeHost) Bootstrap(ctx context.Context, opts bootstrapOptions) error {
	err := f.record("%s", strings.Join(bootstrapArgv(opts), " "))
	if err == nil {
		err = f.block(ctx, "debootstrap")
	}
	f.mu.Lock()
	f.lastBootstrap = opts
	f.images[pathBase(opts.Target)] = true
	f.mu.Unlock()
	return err
}

func (f *fakeHost) EnableUnits(ctx context.Context, root string, units ...string) error {
	return f.record("enable %s %s", root, strings.Join(units, " "))
}

func (f *fakeHost) Import(ctx context.Context, src importSource, name string) error {
	err := f.record("import %s %s %s", src.Kind, src.Path, name)
	f.mu.Lock()
	f.images[name] = true
	f.mu.Unlock()
	return err
}

// ExportImage writes a small file, so the step's rename has something.
func (f *fakeHost) ExportImage(ctx context.Context, name string, format exportFormat, path string) error {
	if err := f.record("export %s %s %s", name, format, path); err != nil {
		return err
	}
	return os.WriteFile(path, []byte("export of "+name), 0o644)
}

func (f *fakeHost) Importing(ctx context.Context, name string) (bool, error) {
	return false, f.record("importing %s", name)
}

func (f *fakeHost) MakeRawImage(ctx context.Context, dir, path string, size int64, fixed *rawIdentity) error {
	call := fmt.Sprintf("make-raw %s %s", dir, path)
	if fixed != nil {
		call += fmt.Sprintf(" uuid=%s epoch=%d", fixed.UUID, fixed.Epoch.Unix())
	}
	if err := f.record("%s", call); err != nil {
		return err
	}
	return os.WriteFile(path, []byte("raw"), 0o644)
}

// Compress stores src as it is: the tests read the tar back.
func (f *fakeHost) Compress(ctx context.Context, src *os.File, format exportFormat, path string) error {
	if err := f.record("compress %s %s", format, path); err != nil {
		return err
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (f *fakeHost) ResetOwnership(ctx context.Context, dir string) error {
	return f.record("reset-ownership %s", dir)
}

func (f *fakeHost) Clone(ctx context.Context, src, name string) error {
	if err := f.record("clone %s %s", src, name); err != nil {
		return err
	}
	f.mu.Lock()
	f.images[name] = true
	f.mu.Unlock()
	return nil
}

func (f *fakeHost) RenameImage(ctx context.Context, name, to string) error {
	if err := f.record("rename %s %s", name, to); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.images, name)
	f.images[to] = true
	return nil
}

func (f *fakeHost) SetReadOnly(ctx context.Context, name string) error {
	return f.record("read-only %s", name)
}

func (f *fakeHost) Start(ctx context.Context, name string) error {
	if err := f.record("start %s", name); err != nil {
		return err
	}
	f.mu.Lock()
	f.running[name] = true
	f.mu.Unlock()
	return nil
}

func (f *fakeHost) Journal(ctx context.Context, name string, since time.Time, lines int) (string, error) {
	if err := f.record("journal %s", name); err != nil {
		return "", err
	}
	return f.journal, nil
}

func (f *fakeHost) SystemState(ctx context.Context, name string) (string, error) {
	if err := f.record("system-state %s", name); err != nil {
		return "", err
	}
	if err := f.block(ctx, "system-state"); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.states) == 0 {
		return "running", nil
	}
	st := f.states[0]
	if len(f.states) > 1 {
		f.states = f.states[1:]
	}
	return st, nil
}

// Init answers a fakeInit for a running machine, unless told not to.
func (f *fakeHost) Init(ctx context.Context, name string) (initProcess, error) {
	if err := f.record("init %s", name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noInit || !f.running[name] {
		return nil, fmt.Errorf("no machine %s", name)
	}
	return fakeInit{f, name}, nil
}

// fakeInit is the init of the fake's machine name: signalled, it stops
// the machine as a poweroff does; it has exited once the machine stops.
type fakeInit struct {
	f    *fakeHost
	name string
}

func (i fakeInit) PowerOff() error {
	if err := i.f.record("poweroff %s by signal", i.name); err != nil {
		return err
	}
	return i.f.powerOff(i.name)
}

func (i fakeInit) Exited() bool {
	i.f.mu.Lock()
	defer i.f.mu.Unlock()
	return !i.f.running[i.name]
}

func (f *fakeHost) StopUnit(ctx context.Context, name string) error {
	return f.stop("stop-unit", name)
}

// stop records verb and, unless told to fail, stops the machine.
func (f *fakeHost) stop(verb, name string) error {
	if err := f.record("%s %s", verb, name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.running, name)
	return nil
}

func (f *fakeHost) Poweroff(ctx context.Context, name string) error {
	if err := f.record("poweroff %s", name); err != nil {
		return err
	}
	return f.powerOff(name)
}

// powerOff stops the machine name, unless it is stubborn; one not
// running cannot be powered off.
func (f *fakeHost) powerOff(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running[name] {
		return fmt.Errorf("no machine %s", name)
	}
	if !f.stubbornPoweroff {
		delete(f.running, name)
	}
	return nil
}

func (f *fakeHost) PoweroffByBus(ctx context.Context, name string) error {
	if err := f.record("poweroff-by-bus %s", name); err != nil {
		return err
	}
	return f.powerOff(name)
}

func (f *fakeHost) KillUnit(ctx context.Context, name string) error {
	return f.stop("kill-unit", name)
}

// UnitActive says the unit runs while the machine does, or while told
// that its start job still runs after machined stopped listing it.
func (f *fakeHost) UnitActive(ctx context.Context, name string) (bool, error) {
	if err := f.record("unit-active %s", name); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unitLingers > 0 {
		f.unitLingers--
		return true, nil
	}
	return f.running[name], nil
}

func (f *fakeHost) Terminate(ctx context.Context, name string) error {
	return f.stop("terminate", name)
}

func (f *fakeHost) RemoveImage(ctx context.Context, name string) error {
	if err := f.record("remove %s", name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.images, name)
	return nil
}

// RemoveTree really removes: tests point machines_dir at a temp dir.
func (f *fakeHost) RemoveTree(path string) error {
	if err := f.record("remove-tree %s", path); err != nil {
		return err
	}
	if err := os.RemoveAll(path); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.images, pathBase(path))
	return nil
}

func (f *fakeHost) LinkImage(name, path string) error {
	return f.record("link %s %s", name, path)
}

func (f *fakeHost) UnlinkImage(name string) error {
	return f.record("unlink %s", name)
}

func (f *fakeHost) Exec(ctx context.Context, name string, req execRequest) (int, error) {
	if err := f.record("exec %s %s", name, strings.Join(req.Argv, " ")); err != nil {
		return -1, err
	}
	if err := f.block(ctx, "exec"); err != nil {
		return -1, err
	}
	if f.exec != nil {
		return f.exec(req)
	}
	if req.Stdin != nil {
		_, _ = io.Copy(io.Discard, req.Stdin)
	}
	return 0, nil
}

func pathBase(p string) string {
	return p[strings.LastIndex(p, "/")+1:]
}
