package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestForgetBuildClearsTracesAndClampsTimes(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"var/log/journal/0123/system.journal":  "j",
		"var/log/dpkg.log":                     "2026-12-07 install",
		"var/log/apt/history.log":              "Start-Date: 2026-12-07",
		"var/log/wtmp":                         "w",
		"var/log/nginx/error.log":              "2026/12/07 19:00:00 [notice] started",
		"var/lib/systemd/random-seed":          "seed",
		"var/lib/systemd/credential.secret":    "key",
		"var/lib/systemd/timers/stamp-a.timer": "",
		"var/cache/apt/pkgcache.bin":           "bin",
		"var/cache/ldconfig/aux-cache":         "aux",
		"var/lib/dpkg/status-old":              "old",
		"var/backups/dpkg.status.0":            "b",
		"var/lib/dpkg/status":                  "Package: bash\n",
		"usr/bin/kept":                         "k",
		"etc/shadow":                           "root:*:20429:0:99999:7:::\nold:*:19000:0:99999:7:::\nbad\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("kept", filepath.Join(dir, "usr/bin/alias")); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1_500_000_000, 0)
	if err := os.Chtimes(filepath.Join(dir, "usr/bin/kept"), old, old); err != nil {
		t.Fatal(err)
	}
	epoch := time.Unix(1_700_000_000, 0) // day 19675
	if err := forgetBuild(dir, epoch); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"var/log/journal/0123", "var/lib/systemd/random-seed", "var/lib/systemd/credential.secret",
		"var/lib/systemd/timers/stamp-a.timer", "var/cache/apt/pkgcache.bin", "var/cache/ldconfig/aux-cache",
		"var/lib/dpkg/status-old", "var/backups/dpkg.status.0"} {
		if pathExists(filepath.Join(dir, gone)) {
			t.Errorf("%s is still there", gone)
		}
	}
	if !pathExists(filepath.Join(dir, "var/log/journal")) {
		t.Error("var/log/journal went: it is what makes the journal persistent")
	}
	for _, emptied := range []string{"var/log/dpkg.log", "var/log/apt/history.log", "var/log/wtmp", "var/log/nginx/error.log"} {
		info, err := os.Stat(filepath.Join(dir, emptied))
		if err != nil || info.Size() != 0 || info.Mode().Perm() != 0o640 {
			t.Errorf("%s: %v, %v; want it empty, mode kept", emptied, info, err)
		}
	}
	shadow, _ := os.ReadFile(filepath.Join(dir, "etc/shadow"))
	if want := "root:*:19675:0:99999:7:::\nold:*:19000:0:99999:7:::\nbad\n"; string(shadow) != want {
		t.Errorf("etc/shadow:\n%s\nwant:\n%s", shadow, want)
	}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.ModTime().After(epoch) {
			t.Errorf("%s: mtime %s after the epoch", p, info.ModTime())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Lstat(filepath.Join(dir, "usr/bin/kept")); !info.ModTime().Equal(old) {
		t.Errorf("an older time was changed: %s", info.ModTime())
	}
	if info, _ := os.Lstat(filepath.Join(dir, "usr/bin/alias")); !info.ModTime().Equal(epoch) {
		t.Errorf("the symlink's own time is %s, want the epoch", info.ModTime())
	}
}

// The README lists every trace with its reason.
func TestBuildTracesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range buildTraces {
		if !strings.Contains(string(doc), "`/"+tr.glob+"`") {
			t.Errorf("README.md does not list `/%s` (%s)", tr.glob, tr.why)
		}
	}
}

// A tree without var/log is fine.
func TestForgetBuildWithoutLogs(t *testing.T) {
	if err := forgetBuild(t.TempDir(), time.Unix(1_700_000_000, 0)); err != nil {
		t.Fatal(err)
	}
}
