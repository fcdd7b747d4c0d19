package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

func TestSourceDateFromEnv(t *testing.T) {
	t.Setenv(sourceDateEpochEnv, "1700000000")
	got, err := sourceDateFromEnv()
	if err != nil || got == nil || got.Unix() != 1_700_000_000 {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"yesterday", "-5", "1.5"} {
		t.Setenv(sourceDateEpochEnv, bad)
		if _, err := sourceDateFromEnv(); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH: ") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
	t.Setenv(sourceDateEpochEnv, "")
	if got, err := sourceDateFromEnv(); got != nil || err != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
}

// The newest Release file's Date stands for the mirror state.
func TestReleaseDateIsTheNewest(t *testing.T) {
	dir := t.TempDir()
	lists := filepath.Join(dir, "var/lib/apt/lists")
	if err := os.MkdirAll(lists, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, date := range map[string]string{
		"deb.example_debian_dists_bookworm_InRelease":                  "Sat, 09 Nov 2024 10:16:26 UTC",
		"deb.example_debian_dists_bookworm-updates_InRelease":          "Sun, 10 Nov 2024 08:00:00 UTC",
		"deb.example_debian_dists_bookworm_main_binary-amd64_Packages": "",
	} {
		body := "Origin: Debian\n"
		if date != "" {
			body += "Date: " + date + "\nValid-Until: Sat, 16 Nov 2024 08:00:00 UTC\n"
		}
		if err := os.WriteFile(filepath.Join(lists, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, ok := releaseDate(dir)
	if want := time.Date(2024, 11, 10, 8, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("got %s %v, want %s", got, ok, want)
	}
	if _, ok := releaseDate(t.TempDir()); ok {
		t.Error("a tree without lists has a date")
	}
}

// writeRelease makes a mirror at dir whose suite's InRelease is dated date.
func writeRelease(t *testing.T, dir, suite, date string) {
	t.Helper()
	p := filepath.Join(dir, "dists", suite, "InRelease")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("Origin: Debian\nDate: "+date+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMirrorReleaseDate(t *testing.T) {
	dir := t.TempDir()
	writeRelease(t, dir, "trixie", "Sat, 09 Nov 2024 10:16:26 UTC")
	want := time.Date(2024, 11, 9, 10, 16, 26, 0, time.UTC)
	server := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer server.Close()
	for _, mirror := range []string{"file://" + dir, server.URL + "/"} {
		got, err := mirrorReleaseDate(context.Background(), mirror, "trixie")
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %s, %v; want %s", mirror, got, err, want)
		}
	}
	if _, err := mirrorReleaseDate(context.Background(), server.URL, "bookworm"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a suite the mirror lacks: %v", err)
	}
}

// With no mirror set, the date comes from the mirror debootstrap would use.
func TestDebootstrapDefaultMirror(t *testing.T) {
	scripts, program := t.TempDir(), filepath.Join(t.TempDir(), "debootstrap")
	defer func(s, p string) { debootstrapScripts, debootstrapProgram = s, p }(debootstrapScripts, debootstrapProgram)
	debootstrapScripts, debootstrapProgram = scripts, program
	if err := os.WriteFile(program, []byte("#!/bin/sh\nDEF_MIRROR=\"http://mirror.invalid/debian\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scripts, "noble"), []byte("case \"$ARCH\" in\n\tamd64|i386)\n\tdefault_mirror http://other.invalid/ubuntu\n\t;;\nesac\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for suite, want := range map[string]string{"trixie": "http://mirror.invalid/debian", "noble": "http://other.invalid/ubuntu"} {
		if got, err := debootstrapDefaultMirror(suite); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", suite, got, err, want)
		}
	}
	debootstrapProgram = filepath.Join(scripts, "none")
	if _, err := debootstrapDefaultMirror("trixie"); err == nil || !strings.Contains(err.Error(), `set "mirror" or SOURCE_DATE_EPOCH`) {
		t.Errorf("no debootstrap: %v", err)
	}
}

// A reproducible build's bootstrapper runs with the mirror's date.
func TestReproducibleBootstrapGetsTheMirrorsDate(t *testing.T) {
	t.Setenv(sourceDateEpochEnv, "")
	mirror := t.TempDir()
	writeRelease(t, mirror, "bookworm", "Sat, 09 Nov 2024 10:16:26 UTC")
	state, maker, out := bootstrapState(t, "suite", "bookworm", "mirror", "file://"+mirror, "reproducible", true)
	if err := state.Get(stateConfig).(*Config).validate(); err != nil {
		t.Fatal(err)
	}
	if action := (&stepBootstrap{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if got, _ := state.Get(stateSourceDate).(time.Time); got.Unix() != 1731147386 {
		t.Errorf("source date %v", got)
	}
	if env := bootstrapEnv(maker.lastBootstrap); !slices.Contains(env, "SOURCE_DATE_EPOCH=1731147386") {
		t.Errorf("the bootstrapper's environment %q lacks the date", env)
	}
}
