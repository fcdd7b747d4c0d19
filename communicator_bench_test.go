//go:build bench

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// TestCommunicatorBench times the communicator alone, without Packer's
// RPC, against the running container NSPAWN_BENCH_MACHINE: bench/ builds
// this test binary and runs it inside its throwaway host, next to raw.sh
// doing the same work. It prints "RESULT name value" lines.
func TestCommunicatorBench(t *testing.T) {
	name := os.Getenv("NSPAWN_BENCH_MACHINE")
	file := os.Getenv("NSPAWN_BENCH_FILE")
	// The download goes next to the file, on the same disk as raw.sh's.
	out := file + ".comm.out"
	count, _ := strconv.Atoi(os.Getenv("NSPAWN_BENCH_COUNT"))
	if name == "" || file == "" || count <= 0 {
		t.Fatal("set NSPAWN_BENCH_MACHINE, NSPAWN_BENCH_FILE and NSPAWN_BENCH_COUNT; bench/ does")
	}
	c := &communicator{ctx: context.Background(), machine: &hostMachine{say: func(string) {}}, name: name}
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

	// What Packer's shell provisioner asks of a communicator, count times:
	// its script arrives as a stream with the local file's details.
	const script = "/tmp/script.sh"
	info := os.FileInfo(fakeInfo{mode: 0o600})
	timed("comm-commands", func() {
		for i := 0; i < count; i++ {
			if err := c.Upload(script, strings.NewReader("#!/bin/sh\ntrue\n"), &info); err != nil {
				t.Fatal(err)
			}
			start("chmod 0755 " + script)
			start("chmod +x " + script + "; " + script)
			start("rm -f " + script)
		}
	})
	timed("comm-true", func() {
		for i := 0; i < count; i++ {
			start("true")
		}
	})
	timed("comm-upload", func() {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// As Packer's file provisioner does, with the file's details.
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Upload("/tmp/big", f, &fi); err != nil {
			t.Fatal(err)
		}
	})
	defer os.Remove(out)
	timed("comm-download", func() {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := c.Download("/tmp/big", f); err != nil {
			t.Fatal(err)
		}
	})
	if same, err := sameFiles(file, out); err != nil || !same {
		t.Fatalf("the downloaded file differs from the uploaded one (%v)", err)
	}
	fmt.Printf("RESULT comm-rss-kib %d\n", peakRSSKiB())
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
