package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// testBuild is one build against the fake host tools.
type testBuild struct {
	t       *testing.T
	builder *Builder
	fake    *fakeHost
	out     *bytes.Buffer
	hook    *packersdk.MockHook
	dir     string
}

// newTestBuild prepares a build named "web" whose machines_dir is a temp
// dir, so debootstrap's target is a real directory the fake fills in.
func newTestBuild(t *testing.T, kv ...interface{}) *testBuild {
	t.Helper()
	dir := t.TempDir()
	fake := newFakeHost()
	tb := &testBuild{t: t, fake: fake, out: new(bytes.Buffer), hook: new(packersdk.MockHook), dir: dir}
	tb.builder = &Builder{newHost: func(packersdk.Ui) Host { return fake }}
	args := append([]interface{}{"cache_dir", dir, "machines_dir", dir, "timeout", "2s"}, kv...)
	if _, _, err := tb.builder.Prepare(rawConfig("web", args...)); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return tb
}

func (tb *testBuild) run(ctx context.Context) (packersdk.Artifact, error) {
	ui := &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: tb.out, ErrorWriter: tb.out}
	return tb.builder.Run(ctx, ui, tb.hook)
}

// makeTree gives the fake's debootstrap a minimal tree to set up.
func makeTree(t *testing.T, dir string) {
	t.Helper()
	for path, body := range map[string]string{
		"etc/shadow":                                "root:*:19000:0:99999:7:::\n",
		"etc/hostname":                              "buildhost\n",
		"usr/share/doc/bash/copyright":              "c",
		"usr/share/doc/bash/README.gz":              "r",
		"usr/share/man/man1/bash.1.gz":              "m",
		"usr/share/info/coreutils.info":             "i",
		"etc/machine-id":                            "0123456789abcdef0123456789abcdef\n",
		"var/lib/dbus/machine-id":                   "0123456789abcdef0123456789abcdef\n",
		"var/cache/apt/archives/bash_5.2_amd64.deb": "d",
		"var/cache/apt/archives/lock":               "",
	} {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// assertCalls checks that the calls starting with each prefix happened in
// this order (other calls may come between).
func assertCalls(t *testing.T, f *fakeHost, want ...string) {
	t.Helper()
	calls := f.callLog()
	i := 0
	for _, c := range calls {
		if i < len(want) && strings.HasPrefix(c, want[i]) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("calls: missing %q in order; got:\n  %s", want[i], strings.Join(calls, "\n  "))
	}
}

func assertNoCall(t *testing.T, f *fakeHost, prefix string) {
	t.Helper()
	if f.called(prefix) {
		t.Errorf("calls: %q must not happen; got:\n  %s", prefix, strings.Join(f.callLog(), "\n  "))
	}
}

func TestDebootstrapBuildSucceeds(t *testing.T) {
	tb := newTestBuild(t, "suite", "bookworm", "variant", "minbase", "mirror", "http://127.0.0.1/debian")
	target := filepath.Join(tb.dir, "web")
	makeTreeOnDebootstrap(tb)
	art, err := tb.run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	assertCalls(t, tb.fake,
		"running web", "image-known web",
		"debootstrap --variant=minbase --include=apt-utils,dbus,iputils-ping,netbase,procps,systemd-container,systemd-resolved --cache-dir="+tb.dir+" bookworm "+target+" http://127.0.0.1/debian",
		"enable "+target+" systemd-networkd.service systemd-resolved.service",
		"link web "+target, "start web", "system-state web",
		// Its init, found once it is up, is signalled at the end.
		"init web", "poweroff web by signal", "unlink web")
	// A tree's identity is reset from outside, once it is off.
	assertNoCall(t, tb.fake, "exec web /bin/cp")
	if id, err := os.ReadFile(filepath.Join(target, "etc/machine-id")); err != nil || len(id) != 0 {
		t.Errorf("etc/machine-id after the build: %q (%v); want it empty", id, err)
	}
	assertNoCall(t, tb.fake, "remove")
	assertNoCall(t, tb.fake, "terminate")
	if !tb.hook.RunCalled || tb.hook.RunName != packersdk.HookProvision {
		t.Errorf("provision hook: called %v with %q; want %q", tb.hook.RunCalled, tb.hook.RunName, packersdk.HookProvision)
	}
	if _, ok := tb.hook.RunComm.(*communicator); !ok {
		t.Errorf("provision hook got communicator %T; want *communicator", tb.hook.RunComm)
	}
	if art.Id() != "web" || !strings.Contains(art.String(), target) {
		t.Errorf("artifact: Id %q String %q; want web in %s", art.Id(), art.String(), target)
	}
	if _, err := os.Stat(filepath.Join(target, "etc/hostname")); !os.IsNotExist(err) {
		t.Errorf("etc/hostname still in the image (err %v)", err)
	}
}

func TestExistingContainerIsLeftAloneWithoutForce(t *testing.T) {
	tb := newTestBuild(t)
	makeTree(t, filepath.Join(tb.dir, "web"))
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `container "web" already exists`) || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("Run error %v; want one saying the container exists and naming -force", err)
	}
	for _, call := range []string{"remove", "terminate", "debootstrap", "start", "poweroff"} {
		assertNoCall(t, tb.fake, call)
	}
	if _, err := os.Stat(filepath.Join(tb.dir, "web/etc/shadow")); err != nil {
		t.Errorf("existing container was touched: %v", err)
	}
}

func TestForceReplacesRunningContainer(t *testing.T) {
	tb := newTestBuild(t, "packer_force", true)
	tb.fake.running["web"] = true
	makeTree(t, filepath.Join(tb.dir, "web"))
	makeTreeOnDebootstrap(tb)
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	assertCalls(t, tb.fake, "terminate web", "remove-tree "+filepath.Join(tb.dir, "web"), "debootstrap")
}

func TestFailedDebootstrapRemovesItsTree(t *testing.T) {
	tb := newTestBuild(t)
	tb.fake.failOn["debootstrap"] = errors.New("E: no such suite")
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no such suite") {
		t.Fatalf("Run error %v; want the debootstrap failure", err)
	}
	assertCalls(t, tb.fake, "debootstrap", "remove-tree "+filepath.Join(tb.dir, "web"))
	assertNoCall(t, tb.fake, "start")
}

func TestFailedProvisioningStopsAndRemovesContainer(t *testing.T) {
	tb := newTestBuild(t)
	makeTreeOnDebootstrap(tb)
	tb.hook.RunFunc = func(context.Context) error { return errors.New("script exited with status 3") }
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "status 3") {
		t.Fatalf("Run error %v; want the provisioner's", err)
	}
	assertCalls(t, tb.fake, "start web", "terminate web", "unlink web", "remove-tree")
	if tb.fake.running["web"] {
		t.Error("container left running")
	}
}

// makeTreeOnDebootstrap lets the fake's bootstrapper leave a tree behind
// and returns that fake, to read what it found.
func makeTreeOnDebootstrap(tb *testBuild) *treeMaker {
	tmp := filepath.Join(tb.t.TempDir(), "web")
	makeTree(tb.t, tmp)
	maker := &treeMaker{fakeHost: tb.fake, from: tmp}
	tb.builder.newHost = func(packersdk.Ui) Host { return maker }
	return maker
}

// treeMaker is the fake whose debootstrap moves a prepared tree in place;
// like debootstrap, it keeps what the target already held.
type treeMaker struct {
	*fakeHost
	from string
	// What the bootstrapper found: a target, and the dpkg drop-in in it.
	targetExisted bool
	unsafeIO      string
}

func (m *treeMaker) Bootstrap(ctx context.Context, opts bootstrapOptions) error {
	if err := m.fakeHost.Bootstrap(ctx, opts); err != nil {
		return err
	}
	if _, err := os.Stat(opts.Target); err == nil {
		m.targetExisted = true
		if body, err := os.ReadFile(filepath.Join(opts.Target, unsafeIOPath)); err == nil {
			m.unsafeIO = string(body)
		}
		if err := os.CopyFS(m.from, os.DirFS(opts.Target)); err != nil {
			return err
		}
		if err := os.RemoveAll(opts.Target); err != nil {
			return err
		}
	}
	return os.Rename(m.from, opts.Target)
}

func TestAbortKeepsContainerButStopsIt(t *testing.T) {
	tb := newTestBuild(t, "packer_on_error", "abort")
	makeTreeOnDebootstrap(tb)
	tb.hook.RunFunc = func(context.Context) error { return errors.New("exit 3") }
	if _, err := tb.run(context.Background()); err == nil {
		t.Fatal("Run succeeded; want the provisioner's error")
	}
	assertNoCall(t, tb.fake, "remove")
	assertCalls(t, tb.fake, "start web", "poweroff web")
	if tb.fake.running["web"] {
		t.Error("container left running after -on-error=abort")
	}
	if !strings.Contains(tb.out.String(), "Kept container web in "+filepath.Join(tb.dir, "web")) {
		t.Errorf("abort did not say where the container is:\n%s", tb.out)
	}
}

func TestCancelDuringDebootstrapCleansUp(t *testing.T) {
	tb := newTestBuild(t)
	tb.fake.blockOn = "debootstrap"
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := tb.run(ctx); err == nil {
		t.Fatal("Run succeeded after cancel")
	}
	assertCalls(t, tb.fake, "debootstrap", "remove-tree")
	assertNoCall(t, tb.fake, "start")
}

func TestCancelDuringProvisioningStopsAndRemoves(t *testing.T) {
	tb := newTestBuild(t)
	makeTreeOnDebootstrap(tb)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancelled once provisioning has begun, however long the steps before
	// it took on a busy machine.
	tb.hook.RunFunc = func(ctx context.Context) error { cancel(); <-ctx.Done(); return ctx.Err() }
	if _, err := tb.run(ctx); err == nil {
		t.Fatal("Run succeeded after cancel")
	}
	assertCalls(t, tb.fake, "start web", "terminate web", "remove-tree")
	if tb.fake.running["web"] {
		t.Error("container left running after cancel")
	}
}

func TestStartTimesOut(t *testing.T) {
	tb := newTestBuild(t, "timeout", "300ms")
	makeTreeOnDebootstrap(tb)
	// Running, but its bus never answers: boot stuck before basic.target.
	tb.fake.failOn["system-state"] = errors.New("Failed to connect to bus: No such file or directory")
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not accept commands within timeout 300ms") || !strings.Contains(err.Error(), `raise "timeout"`) {
		t.Fatalf("Run error %v; want a timeout naming the option", err)
	}
	assertCalls(t, tb.fake, "start web", "terminate web", "remove-tree")
}

// Provisioning begins once the container's systemd answers, as a hand-run
// systemd-run would first work, not at the end of its boot.
func TestProvisioningBeginsWhileServicesStart(t *testing.T) {
	tb := newTestBuild(t)
	makeTreeOnDebootstrap(tb)
	tb.fake.states = []string{"starting"}
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	if !tb.hook.RunCalled {
		t.Error("provisioners did not run")
	}
	if n := strings.Count(strings.Join(tb.fake.callLog(), "\n"), "system-state web"); n != 1 {
		t.Errorf("asked the container's state %d times; want once", n)
	}
}

// A container that answers within aliveInterval is not also asked whether
// it died: that check is a machinectl run that delays the next poll.
func TestQuickBootIsNotCheckedForDeath(t *testing.T) {
	tb := newTestBuild(t)
	makeTreeOnDebootstrap(tb)
	tb.fake.states = []string{"not-yet", "starting"}
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	calls := strings.Join(tb.fake.callLog(), "\n")
	if !strings.Contains(calls, "start web\nsystem-state web\nsystem-state web\n") {
		t.Errorf("want two state checks straight after start, nothing between:\n%s", calls)
	}
}

func TestStartFailsAtOnceInEmergencyMode(t *testing.T) {
	tb := newTestBuild(t, "timeout", "10s")
	makeTreeOnDebootstrap(tb)
	tb.fake.states = []string{"maintenance"}
	t0 := time.Now()
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "emergency or rescue mode") {
		t.Fatalf("Run error %v; want one naming emergency mode", err)
	}
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("took %s: it waited for the timeout", took)
	}
	assertCalls(t, tb.fake, "start web", "terminate web", "remove-tree")
}

func TestStartNoticesContainerThatDied(t *testing.T) {
	tb := newTestBuild(t)
	makeTreeOnDebootstrap(tb)
	tb.fake.failOn["system-state"] = errors.New("Failed to connect to bus")
	tb.fake.failOn["start"] = nil
	// The machine goes away right after start, as one without systemd does.
	maker := tb.builder.newHost(nil).(*treeMaker)
	tb.builder.newHost = func(packersdk.Ui) Host { return &diesAtStart{treeMaker: maker} }
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "stopped while booting") {
		t.Fatalf("Run error %v; want one saying the container stopped", err)
	}
}

type diesAtStart struct{ *treeMaker }

func (d *diesAtStart) Start(ctx context.Context, name string) error {
	return d.fakeHost.record("start %s", name)
}

func TestStubbornContainerIsTerminated(t *testing.T) {
	tb := newTestBuild(t, "timeout", "200ms")
	makeTreeOnDebootstrap(tb)
	tb.fake.stubbornPoweroff = true
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertCalls(t, tb.fake, "poweroff web", "terminate web")
	if !strings.Contains(tb.out.String(), "did not stop within timeout") {
		t.Errorf("no warning about the terminate in:\n%s", tb.out)
	}
}

func TestCloneOfMissingMachineTouchesNothing(t *testing.T) {
	tb := newTestBuild(t, "clone", "base", "machines_dir", "/var/lib/machines")
	_, err := tb.run(context.Background())
	want := `clone: machine "base" not found in /var/lib/machines; build it first or fix "clone"`
	if err == nil || err.Error() != want {
		t.Fatalf("Run error %v; want %q", err, want)
	}
	for _, call := range []string{"clone", "remove", "start"} {
		assertNoCall(t, tb.fake, call)
	}
}

func TestCloneBuild(t *testing.T) {
	tb := newTestBuild(t, "clone", "base", "machines_dir", "/var/lib/machines")
	tb.fake.images["base"] = true
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertCalls(t, tb.fake, "image-known base", "clone base web", "start web", "poweroff web")
	assertNoCall(t, tb.fake, "link")
	assertNoCall(t, tb.fake, "remove")
}

func TestFailedImportRemovesPartialImage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "base.tar.zst")
	if err := os.WriteFile(src, zstdHeader, 0o644); err != nil {
		t.Fatal(err)
	}
	tb := newTestBuild(t, "import", src, "machines_dir", "/var/lib/machines")
	tb.fake.failOn["import"] = errors.New("not a tar")
	if _, err := tb.run(context.Background()); err == nil {
		t.Fatal("Run succeeded; want the import error")
	}
	assertCalls(t, tb.fake, "import import-tar-zstd "+src+" web", "image-known web", "remove web")
}

func TestArtifactDestroyRemovesContainer(t *testing.T) {
	fake := newFakeHost()
	fake.images["web"] = true
	a := &artifact{config: &Config{MachinesDir: defaultMachinesDir}, machine: fake}
	a.config.PackerBuildName = "web"
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	assertCalls(t, fake, "remove web")
}

func TestForceDoesNotFollowSymlinkOutOfMachinesDir(t *testing.T) {
	tb := newTestBuild(t, "packer_force", true)
	outside := t.TempDir()
	keep := filepath.Join(outside, "precious")
	if err := os.WriteFile(keep, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(tb.dir, "web")); err != nil {
		t.Fatal(err)
	}
	makeTreeOnDebootstrap(tb)
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("-force removed a file behind a symlink in machines_dir: %v", err)
	}
	if info, err := os.Lstat(filepath.Join(tb.dir, "web")); err != nil || !info.IsDir() {
		t.Errorf("web is not the new container tree: %v", err)
	}
}

func TestCancelledCloneFinishesThenIsRemoved(t *testing.T) {
	tb := newTestBuild(t, "clone", "base", "machines_dir", "/var/lib/machines")
	tb.fake.images["base"] = true
	ctx, cancel := context.WithCancel(context.Background())
	// The build is cancelled while machinectl clone runs.
	tb.builder.newHost = func(packersdk.Ui) Host { return &cancelsDuringClone{fakeHost: tb.fake, cancel: cancel} }
	if _, err := tb.run(ctx); err == nil {
		t.Fatal("Run succeeded after cancel")
	}
	assertCalls(t, tb.fake, "clone base web", "image-known web", "remove web")
	assertNoCall(t, tb.fake, "start")
}

type cancelsDuringClone struct {
	*fakeHost
	cancel func()
}

// Clone cancels the build and then finishes, as machined does.
func (c *cancelsDuringClone) Clone(ctx context.Context, src, name string) error {
	c.cancel()
	if ctx.Err() != nil {
		return errors.New("clone was cut short; machined would still finish it")
	}
	return c.fakeHost.Clone(ctx, src, name)
}
