package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

// bootJournal is what the fake's journal of a failed boot holds.
const bootJournal = "Spawning container web on /var/lib/machines/web.\n" +
	"Detected unsupported legacy cgroup hierarchy, refusing execution.\n" +
	"systemd-nspawn@web.service: Failed with result 'exit-code'.\n"

// bootJournalShown is bootJournal as a boot failure shows it.
const bootJournalShown = "; its journal (journalctl -u systemd-nspawn@web) ends:\n" +
	"    Spawning container web on /var/lib/machines/web.\n" +
	"    Detected unsupported legacy cgroup hierarchy, refusing execution.\n" +
	"    systemd-nspawn@web.service: Failed with result 'exit-code'."

// startState is the state bag for stepStart on the container web in
// /var/lib/machines, which machined finds without a link.
func startState(t *testing.T, timeout time.Duration) (*multistep.BasicStateBag, *fakeHost) {
	t.Helper()
	cfg := testConfig(t, "machines_dir", defaultMachinesDir)
	cfg.timeout = timeout
	state, f, _ := testState(t, cfg)
	return state, f
}

// runStart runs stepStart in state and returns the error it put there.
func runStart(ctx context.Context, state multistep.StateBag) error {
	if (&stepStart{}).Run(ctx, state) == multistep.ActionContinue {
		return nil
	}
	return stepError(state)
}

// Every way a boot fails ends in the container's journal, after a
// sentence saying what happened.
func TestBootFailureShowsJournal(t *testing.T) {
	busDown := errors.New("Failed to connect to bus: No such file or directory")
	cases := []struct {
		name    string
		setup   func(f *fakeHost) Host
		timeout time.Duration
		want    string
	}{
		{"machinectl start fails", func(f *fakeHost) Host {
			f.failOn["start web"] = errors.New("machinectl start failed (exit status 1): Job for systemd-nspawn@web.service failed")
			return f
		}, 5 * time.Second, "start web: machinectl start failed (exit status 1): Job for systemd-nspawn@web.service failed"},
		{"stopped while booting", func(f *fakeHost) Host {
			f.failOn["system-state"] = busDown
			return &diesAtStart{&treeMaker{fakeHost: f}}
		}, 5 * time.Second, "start web: the container stopped while booting"},
		{"stopping", func(f *fakeHost) Host {
			f.states = []string{"stopping"}
			return f
		}, 5 * time.Second, "start web: the container's systemd is stopping while booting"},
		{"offline", func(f *fakeHost) Host {
			f.states = []string{"offline"}
			return f
		}, 5 * time.Second, "start web: the container's systemd is offline while booting"},
		{"emergency mode", func(f *fakeHost) Host {
			f.states = []string{"maintenance"}
			return f
		}, 5 * time.Second, "start web: the container booted into emergency or rescue mode"},
		{"timeout", func(f *fakeHost) Host {
			f.failOn["system-state"] = busDown
			return f
		}, 200 * time.Millisecond, `start web: the container's systemd did not accept commands within timeout 200ms (its state: not answering yet); raise "timeout"`},
	}
	for _, tc := range cases {
		state, f := startState(t, tc.timeout)
		f.journal = bootJournal
		state.Put(stateHost, tc.setup(f))
		err := runStart(context.Background(), state)
		if err == nil {
			t.Errorf("%s: the step succeeded; want %q and the journal", tc.name, tc.want)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, tc.want) || !strings.HasSuffix(msg, bootJournalShown) {
			t.Errorf("%s: error\n%s\nwant it to start with\n%s\nand end with the journal:\n%s", tc.name, msg, tc.want, bootJournalShown)
		}
		if !f.called("journal web") {
			t.Errorf("%s: the journal was not read; calls %q", tc.name, f.callLog())
		}
	}
}

// A journal that cannot be read, or holds nothing, still leaves the user
// the command to read it with.
func TestBootFailureWithoutJournalGivesHint(t *testing.T) {
	cases := []struct {
		name    string
		journal string
		failure error
		want    string
	}{
		{"unreadable", bootJournal, errors.New("journalctl failed (exit status 1): No journal files were found."),
			"start web: the container booted into emergency or rescue mode; its journal could not be read (journalctl failed (exit status 1): No journal files were found.); see journalctl -u systemd-nspawn@web"},
		{"empty", "\n", nil,
			"start web: the container booted into emergency or rescue mode; its journal has nothing since the start; see journalctl -u systemd-nspawn@web"},
	}
	for _, tc := range cases {
		state, f := startState(t, 5*time.Second)
		f.journal = tc.journal
		f.states = []string{"maintenance"}
		if tc.failure != nil {
			f.failOn["journal"] = tc.failure
		}
		err := runStart(context.Background(), state)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s journal: error\n%v\nwant\n%s", tc.name, err, tc.want)
		}
	}
}

// A cancelled build ends at once: it neither waits for nor reads the
// journal.
func TestCancelledBootDoesNotReadJournal(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fakeHost, cancel context.CancelFunc)
	}{
		{"while waiting for the boot", func(f *fakeHost, cancel context.CancelFunc) {
			f.blockOn = "system-state"
			time.AfterFunc(50*time.Millisecond, cancel)
		}},
		{"while machinectl start runs", func(f *fakeHost, cancel context.CancelFunc) {
			f.failOn["start"] = context.Canceled
			cancel()
		}},
	}
	for _, tc := range cases {
		state, f := startState(t, 5*time.Second)
		f.journal = bootJournal
		ctx, cancel := context.WithCancel(context.Background())
		tc.setup(f, cancel)
		err := runStart(ctx, state)
		cancel()
		if err == nil || !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "journal") {
			t.Errorf("%s: error %v; want the cancel alone, no journal", tc.name, err)
		}
		if f.called("journal") {
			t.Errorf("%s: the journal was read after the cancel", tc.name)
		}
	}
}

func TestJournalArgv(t *testing.T) {
	since := time.Unix(1700000000, 123456789)
	got := journalArgv("web", since)
	want := []string{"journalctl", "--unit=systemd-nspawn@web.service", "--since=@1700000000.123456",
		"--no-pager", "--quiet", "--output=cat"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestJournalTailIsTheEnd(t *testing.T) {
	cases := []struct {
		name, written string
		max, n        int
		want          string
	}{
		{"fewer lines than asked", "a\nb\n", 1024, 15, "a\nb"},
		{"the last of many", "1\n2\n3\n4\n", 1024, 2, "3\n4"},
		{"a line cut by the buffer is dropped", "first line\nsecond\nthird\n", 12, 15, "third"},
	}
	for _, tc := range cases {
		tail := &tailBuffer{max: tc.max}
		tail.Write([]byte(tc.written))
		if got := tail.lastLines(tc.n); got != tc.want {
			t.Errorf("%s: got %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestStartBootsAndFindsTheInit(t *testing.T) {
	cfg := testConfig(t)
	state, f, out := testState(t, cfg)
	if action := (&stepStart{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	// machines_dir is not machined's: the tree is linked where it looks.
	assertCalls(t, f, "link web "+cfg.containerPath(), "start web", "system-state web")
	if started, _ := state.Get(stateStarted).(bool); !started {
		t.Error("the container is not marked as started, so a failure would leave it running")
	}
	if linked, _ := state.Get(stateLinked).(bool); !linked {
		t.Error("the link is not marked, so it would outlive the build")
	}
	if initOf(state) == nil {
		t.Errorf("the container's init was not found; calls %q", f.callLog())
	}
	if !strings.Contains(out.String(), "Container web is up.") {
		t.Errorf("output does not say the container is up:\n%s", out)
	}
}

// The start step's Cleanup stops only a container it left running: after
// a failure, one this build made is terminated (its create step removes
// it next), one it did not make is powered off cleanly. The link, which
// only the build needs, goes in every case.
func TestStartCleanupStopsWhatItStarted(t *testing.T) {
	for _, outcome := range buildOutcomes {
		for _, created := range []bool{true, false} {
			name := fmt.Sprintf("%s, created=%v", outcome.name, created)
			state, f, out := testState(t, testConfig(t))
			f.running["web"] = outcome.failed
			// A build that succeeded has shut the container down.
			state.Put(stateStarted, outcome.failed)
			state.Put(stateLinked, true)
			state.Put(stateCreated, created)
			outcome.mark(state)
			(&stepStart{}).Cleanup(state)
			var want []string
			switch {
			case !outcome.failed:
				want = []string{"unlink web"}
			case created:
				want = []string{"terminate web", "running web", "unlink web"}
			default:
				want = []string{"poweroff web", "running web", "unlink web"}
			}
			for _, w := range want {
				if !f.called(w) {
					t.Errorf("%s: no %q; calls %q", name, w, f.callLog())
				}
			}
			if !outcome.failed && len(f.callLog()) != 1 {
				t.Errorf("%s: calls %q; want the unlink alone", name, f.callLog())
			}
			if outcome.failed && created && f.called("poweroff") {
				t.Errorf("%s: a container the build removes was asked to power off; calls %q", name, f.callLog())
			}
			if f.running["web"] {
				t.Errorf("%s: container left running\n%s", name, out)
			}
			if started, _ := state.Get(stateStarted).(bool); started {
				t.Errorf("%s: still marked as started", name)
			}
		}
	}
}

// A start that failed before it linked or started anything leaves its
// Cleanup nothing to do.
func TestStartCleanupAfterNothingStartedDoesNothing(t *testing.T) {
	state, f, _ := testState(t, testConfig(t))
	f.failOn["link"] = errors.New("read-only file system")
	if action := (&stepStart{}).Run(context.Background(), state); action != multistep.ActionHalt {
		t.Fatalf("Run went on after the link failed")
	}
	(&stepStart{}).Cleanup(state)
	if calls := f.callLog(); len(calls) != 1 {
		t.Errorf("calls %q; want only the failed link", calls)
	}
}

// An emulated guest whose systemd cannot start its services (trixie under
// qemu-user) fails as soon as its journal says so, not at the timeout,
// with the journal's reason and the cause; a native one is never watched.
func TestEmulatedBootFailsAtOnceWithTheCause(t *testing.T) {
	const journal = "Spawning container web on /var/lib/machines/web.\n" +
		"\x1b[0;1;31mrun-lock.mount: Failed to spawn executor: Invalid argument\x1b[0m\n" +
		"[FAILED] Failed to mount run-lock.mount - Legacy Locks Directory /run/lock.\n" +
		"\x1b[0;1;31mdbus.service: Failed to spawn executor: Invalid argument\x1b[0m\n"
	state, f := startState(t, 20*time.Second)
	f.journal = journal
	f.failOn["system-state"] = errors.New("Failed to connect to bus: No such file or directory")
	state.Put(stateEmulated, "arm64")
	start := time.Now()
	err := runStart(context.Background(), state)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the failure took %s; want it within seconds, long before the timeout", took)
	}
	want := `start web: the container's systemd cannot start its services under this host's emulator ("dbus.service: Failed to spawn executor: Invalid argument"), so its bus never answers: ` +
		`systemd 255 and newer (Debian 13 trixie and later) start every service through systemd-executor`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "build bookworm or older for arm64, or build on a native arm64 host") ||
		!strings.Contains(err.Error(), "run-lock.mount: Failed to spawn executor: Invalid argument\x1b[0m\n") {
		t.Errorf("error\n%v\nwant it to start with\n%s\nand carry the fix and the journal", err, want)
	}

	// qemu 10 without the O flag: the executor dies, and the bus with it.
	state, f = startState(t, 20*time.Second)
	f.journal = "dbus.service: Main process exited, code=exited, status=1/FAILURE\n" +
		"dbus.service: Failed with result 'exit-code'.\n" +
		"\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mdbus.service\x1b[0m - D-Bus System Message Bus.\n"
	f.failOn["system-state"] = errors.New("Failed to connect to bus: No such file or directory")
	state.Put(stateEmulated, "arm64")
	err = runStart(context.Background(), state)
	if want := `emulator ("dbus.service: Main process exited, code=exited, status=1/FAILURE")`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("qemu 10 without O: got %v; want it to quote %s", err, want)
	}

	// The same journal from a native container is no verdict: it waits.
	state, f = startState(t, 300*time.Millisecond)
	f.journal = journal
	f.failOn["system-state"] = errors.New("Failed to connect to bus: No such file or directory")
	err = runStart(context.Background(), state)
	if err == nil || !strings.Contains(err.Error(), "did not accept commands within timeout") {
		t.Errorf("native container: got %v; want the timeout", err)
	}
}
