//go:build bench

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// TestCommunicatorBench times the communicator alone, without Packer's
// RPC, against the running container NSPAWN_BENCH_MACHINE: bench/ builds
// this test binary and runs it inside its throwaway host. The command rows
// take turns with raw.sh (NSPAWN_BENCH_RAW) doing the same calls in the same
// container, a tenth at a time, so both sides meet the same moments of a
// noisy machine; so do the directory uploads (NSPAWN_BENCH_DIR, one big
// file, and NSPAWN_BENCH_SMALLDIR, many small ones) and the
// file's (NSPAWN_BENCH_FILE) uploads and downloads, one at a time. It
// prints "RESULT name value" lines, the raw side's named "raw-...".
// NSPAWN_BENCH_COMMANDS_ONLY runs the command rows alone (for a container
// of another architecture, whose transfers would time its emulator), each
// name followed by NSPAWN_BENCH_SUFFIX.
func TestCommunicatorBench(t *testing.T) {
	name := os.Getenv("NSPAWN_BENCH_MACHINE")
	file := os.Getenv("NSPAWN_BENCH_FILE")
	dir := os.Getenv("NSPAWN_BENCH_DIR")
	smallDir := os.Getenv("NSPAWN_BENCH_SMALLDIR")
	raw := os.Getenv("NSPAWN_BENCH_RAW")
	// The download goes next to the file, on the same disk as raw.sh's.
	out := file + ".comm.out"
	count, _ := strconv.Atoi(os.Getenv("NSPAWN_BENCH_COUNT"))
	commandsOnly := os.Getenv("NSPAWN_BENCH_COMMANDS_ONLY") != ""
	suffix := os.Getenv("NSPAWN_BENCH_SUFFIX")
	if name == "" || raw == "" || count < turns || !commandsOnly && (file == "" || dir == "" || smallDir == "") {
		t.Fatalf("set NSPAWN_BENCH_MACHINE, NSPAWN_BENCH_FILE, NSPAWN_BENCH_DIR, NSPAWN_BENCH_SMALLDIR, NSPAWN_BENCH_RAW and NSPAWN_BENCH_COUNT (at least %d); bench/ does", turns)
	}
	c := &communicator{ctx: context.Background(), machine: quietHost(), name: name}
	start := func(command string) {
		cmd := &packersdk.RemoteCmd{Command: command}
		if err := c.Start(context.Background(), cmd); err != nil {
			t.Fatal(err)
		}
		if code := cmd.Wait(); code != 0 {
			t.Fatalf("%s: exit status %d", command, code)
		}
	}
	timed := func(label string, work func()) {
		t0 := time.Now()
		work()
		fmt.Printf("RESULT %s %.3f\n", label, time.Since(t0).Seconds())
	}

	// What Packer's shell provisioner asks of a communicator: its script
	// arrives as a stream with the local file's details.
	const script = "/tmp/script.sh"
	info := os.FileInfo(fakeInfo{mode: 0o600})
	shell := func() {
		if err := c.Upload(script, strings.NewReader("#!/bin/sh\ntrue\n"), &info); err != nil {
			t.Fatal(err)
		}
		start("chmod 0755 " + script)
		start("chmod +x " + script + "; " + script)
		start("rm -f " + script)
	}
	single := func() { start("true") }
	for _, kind := range []struct {
		label, raw string
		call       func()
	}{{"comm-commands", "shell", shell}, {"comm-true", "true", single}} {
		var plugin, rawSeconds float64
		for turn := 0; turn < turns; turn++ {
			n := count / turns
			if turn == turns-1 {
				n = count - n*(turns-1)
			}
			pluginTurn := func() {
				t0 := time.Now()
				for i := 0; i < n; i++ {
					kind.call()
				}
				plugin += time.Since(t0).Seconds()
			}
			rawTurn := func() {
				rawSeconds += rawSide(t, raw, "raw-"+kind.raw, "calls", name, strconv.Itoa(n), kind.raw)
			}
			inTurn(turn, pluginTurn, rawTurn)
		}
		fmt.Printf("RESULT %s%s %.3f\nRESULT raw-%s%s %.3f\n", kind.label, suffix, plugin, kind.label, suffix, rawSeconds)
	}
	if commandsOnly {
		return
	}
	// Directory uploads, of one big file and of many small ones, each side
	// in turn, into an emptied destination.
	const dst = "/tmp/updir"
	for _, tree := range []struct{ label, src string }{{"comm-uploaddir", dir}, {"comm-uploadsmall", smallDir}} {
		for turn := 0; turn < transferTurns; turn++ {
			pluginTurn := func() {
				timed(tree.label, func() {
					if err := c.UploadDir(dst, tree.src+"/", nil); err != nil {
						t.Fatal(err)
					}
				})
				start("rm -rf " + dst)
			}
			rawTurn := func() {
				fmt.Printf("RESULT raw-%s %.3f\n", tree.label, rawSide(t, raw, "raw-uploaddir", "uploaddir", name, tree.src, dst))
				start("rm -rf " + dst)
			}
			inTurn(turn, pluginTurn, rawTurn)
		}
	}
	// The file up and down again, each side in turn, each download to a
	// file of its own.
	const inside = "/tmp/big"
	rawOut := file + ".raw.out"
	defer os.Remove(out)
	defer os.Remove(rawOut)
	for turn := 0; turn < transferTurns; turn++ {
		inTurn(turn, func() {
			timed("comm-upload", func() { uploadFile(t, c, file, inside) })
		}, func() {
			fmt.Printf("RESULT raw-comm-upload %.3f\n", rawSide(t, raw, "raw-upload", "upload", name, file, inside))
		})
	}
	for turn := 0; turn < transferTurns; turn++ {
		inTurn(turn, func() {
			timed("comm-download", func() { downloadFile(t, c, inside, out) })
		}, func() {
			fmt.Printf("RESULT raw-comm-download %.3f\n", rawSide(t, raw, "raw-download", "download", name, inside, rawOut))
		})
	}
	for _, got := range []string{out, rawOut} {
		if same, err := sameFiles(file, got); err != nil || !same {
			t.Fatalf("the download %s differs from the uploaded file (%v)", got, err)
		}
	}
	fmt.Printf("RESULT comm-rss-kib %d\n", peakRSSKiB())
}

// turns is how many pieces the command rows are cut into, each side
// taking its turn with each.
const turns = 10

// inTurn runs both sides, the plugin's first on even turns, so neither
// always meets the machine as the other left it.
func inTurn(turn int, plugin, raw func()) {
	if turn%2 == 0 {
		plugin()
		raw()
	} else {
		raw()
		plugin()
	}
}

// transferTurns is how many times each side moves the directory, and the
// file each way, per run: even, so each side goes first as often as the
// other.
const transferTurns = 4

// uploadFile uploads the file at from to the container's path to, as
// Packer's file provisioner does, with the file's details.
func uploadFile(t *testing.T, c *communicator, from, to string) {
	f, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(to, f, &fi); err != nil {
		t.Fatal(err)
	}
}

// downloadFile writes the container's file from to the file at to.
func downloadFile(t *testing.T, c *communicator, from, to string) {
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := c.Download(from, f); err != nil {
		t.Fatal(err)
	}
}

// rawSide runs raw.sh with args and returns the seconds it reports as
// label, its own start-up not counted.
func rawSide(t *testing.T, raw, label string, args ...string) float64 {
	t.Helper()
	out, err := exec.Command("sh", append([]string{raw}, args...)...).Output()
	if err != nil {
		t.Fatalf("raw.sh %s: %v", args[0], err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "RESULT" && f[1] == label {
			seconds, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				t.Fatalf("raw.sh %s: %q: %v", args[0], line, err)
			}
			return seconds
		}
	}
	t.Fatalf("raw.sh %s reported no %s: %q", args[0], label, out)
	return 0
}

func sameFiles(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || string(ba[:na]) != string(bb[:nb]) {
			return false, nil
		}
		if ea != nil || eb != nil {
			return ea == eb || (ea == io.ErrUnexpectedEOF && eb == io.ErrUnexpectedEOF), nil
		}
	}
}

// peakRSSKiB is this process's largest resident set so far.
func peakRSSKiB() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
