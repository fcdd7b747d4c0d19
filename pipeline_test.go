package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func quietHost() *hostTools { return &hostTools{say: func(string) {}} }

func TestPipelinePassesData(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	err := quietHost().pipeline(context.Background(),
		[]string{"sh", "-c", "printf payload"},
		[]string{"sh", "-c", `cat > "$1"`, "sh", out})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "payload" {
		t.Errorf("the consumer got %q, want payload", got)
	}
}

func TestPipelineReportsEitherFailure(t *testing.T) {
	for name, c := range map[string]struct {
		from, to []string
		want     string
	}{
		"producer": {[]string{"sh", "-c", "echo no archive >&2; exit 3"}, []string{"cat"}, "no archive"},
		"consumer": {[]string{"sh", "-c", "printf x"}, []string{"sh", "-c", "cat >/dev/null; echo no room >&2; exit 4"}, "no room"},
	} {
		err := quietHost().pipeline(context.Background(), c.from, c.to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s fails: got %v, want an error saying %q", name, err, c.want)
		}
	}
}

// The pipe between a pipeline's tools is theirs alone: in this process's
// epoll set, it would wake the plugin for every write and read through
// it. And it is of the size a shell's pipe would be (see pipeline).
func TestPipelinePipeIsLikeAShells(t *testing.T) {
	named := filepath.Join(t.TempDir(), "stdin")
	// The consumer names its stdin, then waits until the test has looked,
	// for a bounded while, so a failed test leaves no shell behind.
	consumer := []string{"sh", "-c",
		`readlink /proc/self/fd/0 > "$1.new" && mv "$1.new" "$1" && i=0 &&
		while [ ! -e "$1.seen" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done; cat >/dev/null`,
		"sh", named}
	t.Cleanup(func() { _ = os.WriteFile(named+".seen", nil, 0o644) })
	done := make(chan error, 1)
	go func() { done <- quietHost().pipeline(context.Background(), []string{"echo", "data"}, consumer) }()
	var pipe []byte
	for deadline := time.Now().Add(10 * time.Second); len(pipe) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the consumer never named its stdin")
		}
		pipe, _ = os.ReadFile(named)
	}
	target := strings.TrimSpace(string(pipe))
	if polled(t, target) {
		t.Errorf("the runtime's poller watches the pipeline's pipe %s", target)
	}
	if got, want := pipeSizeOf(t, target), defaultPipeSize(t); got != want {
		t.Errorf("the pipeline's pipe holds %d bytes, want the default %d", got, want)
	}
	if err := os.WriteFile(named+".seen", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// pipeSizeOf is the capacity of the pipe that this process holds open and
// readlink names target.
func pipeSizeOf(t *testing.T, target string) int {
	t.Helper()
	fds := fdsNamed(t, target)
	if len(fds) == 0 {
		t.Fatalf("this process holds no %s", target)
	}
	return pipeCapacity(t, fds[0])
}

// defaultPipeSize is the capacity the kernel gives a new pipe.
func defaultPipeSize(t *testing.T) int {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	return pipeCapacity(t, fds[0])
}

// pipeCapacity is how many bytes the pipe at descriptor fd holds.
func pipeCapacity(t *testing.T, fd int) int {
	t.Helper()
	size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	return size
}

// polled reports whether an epoll set of this process watches the open
// file that readlink names target ("pipe:[1234]").
func polled(t *testing.T, target string) bool {
	t.Helper()
	for _, epoll := range fdsNamed(t, "anon_inode:[eventpoll]") {
		info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", epoll))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "tfd:" {
				if link, _ := os.Readlink("/proc/self/fd/" + f[1]); link == target {
					return true
				}
			}
		}
	}
	return false
}

// fdsNamed are this process's descriptors that readlink names target.
func fdsNamed(t *testing.T, target string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range entries {
		if link, _ := os.Readlink("/proc/self/fd/" + e.Name()); link == target {
			n, _ := strconv.Atoi(e.Name())
			fds = append(fds, n)
		}
	}
	return fds
}
