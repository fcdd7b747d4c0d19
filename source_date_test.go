package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
