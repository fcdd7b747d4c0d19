package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bigTree is a tree whose tar is far more than a pipe holds.
func bigTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	makeRichTree(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "big"), bytes.Repeat([]byte("x"), 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A compressor that stops before it has read everything fails the export
// with its own error, and leaves no writer behind, blocked in the pipe.
func TestReproducibleExportWhenTheCompressorStops(t *testing.T) {
	tree := bigTree(t)
	f := newFakeHost()
	stopped := errors.New("zstd: killed")
	f.failOn["compress"] = stopped
	done := make(chan error, 1)
	go func() {
		done <- exportReproducibleTar(context.Background(), f, tree, exportTarZstd, filepath.Join(t.TempDir(), "a.tar.zst"), time.Unix(1_700_000_000, 0))
	}()
	select {
	case err := <-done:
		if !errors.Is(err, stopped) {
			t.Errorf("export: %v, want the compressor's error %q", err, stopped)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("export still running after its compressor stopped")
	}
}

// zstd reads the tar from the pipe itself, and its output unpacks to the
// tar writeImageTar writes.
func TestReproducibleExportThroughZstd(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("no zstd on this host")
	}
	tree := bigTree(t)
	epoch := time.Unix(1_700_000_000, 0)
	path := filepath.Join(t.TempDir(), "a.tar.zst")
	if err := exportReproducibleTar(context.Background(), newHostTools(func(string) {}), tree, exportTarZstd, path, epoch); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command("zstd", "-d", "-c", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := writeImageTar(&want, tree, epoch); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("zstd's output unpacks to %d bytes, not the tree's tar of %d", len(got), want.Len())
	}
}

// zstd that cannot write its output fails the export with its reason.
func TestReproducibleExportWhenZstdFails(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("no zstd on this host")
	}
	tree := bigTree(t)
	err := exportReproducibleTar(context.Background(), newHostTools(func(string) {}), tree, exportTarZstd, "/dev/full", time.Unix(1_700_000_000, 0))
	if err == nil || !strings.Contains(err.Error(), "zstd failed") || !strings.Contains(err.Error(), "No space left") {
		t.Fatalf("export to /dev/full: %v, want zstd's failure and its reason", err)
	}
}
