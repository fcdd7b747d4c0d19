package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// validUntilConf is where an image that takes expired Release files keeps
// that setting, so its own apt works with the same mirror.
const validUntilConf = "etc/apt/apt.conf.d/00nspawn-check-valid-until"

// aptIgnoreValidUntil is the apt setting check_valid_until = false stands for.
const aptIgnoreValidUntil = `Acquire::Check-Valid-Until "false";`

// expiredReleaseAdvice ends every error about a stale mirror.
const expiredReleaseAdvice = `use a current mirror, or set check_valid_until = false to take it (a snapshot mirror's are stale by design)`

// expiredRelease looks at the Release files the bootstrapper left in the
// tree's package lists and describes the first whose Valid-Until is
// before now, or returns "". debootstrap takes such a file, but the
// image's apt then refuses every update from that mirror.
func expiredRelease(tree string, now time.Time) string {
	files, _ := filepath.Glob(filepath.Join(tree, "var/lib/apt/lists/*Release"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if until, ok := validUntil(b); ok && until.Before(now) {
			return fmt.Sprintf("%s was valid until %s", filepath.Base(f), until.UTC().Format(time.RFC1123))
		}
	}
	return ""
}

// expiredAtMirror reads suite's Release file at mirror before anything is
// made, and describes it if its Valid-Until has passed: a stale mirror is
// then refused in seconds, not after a whole install. It is "" when the
// file is current or cannot be read; expiredRelease, after the install,
// still looks at what the bootstrapper fetched.
func expiredAtMirror(ctx context.Context, mirror, suite string, now time.Time) string {
	base := strings.TrimRight(mirror, "/") + "/dists/" + suite + "/"
	for _, name := range []string{"InRelease", "Release"} {
		b, err := fetch(ctx, base+name)
		if err != nil {
			continue
		}
		if until, ok := validUntil(b); ok && until.Before(now) {
			return fmt.Sprintf("%s%s was valid until %s", base, name, until.UTC().Format(time.RFC1123))
		}
		return ""
	}
	return ""
}

// validUntil reads a Release file's Valid-Until field.
func validUntil(release []byte) (time.Time, bool) {
	return releaseField(release, "Valid-Until")
}

// takeExpiredReleases writes the apt setting into the tree.
func takeExpiredReleases(tree string) error {
	root, err := os.OpenRoot(tree)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.MkdirAll(filepath.Dir(validUntilConf), 0o755); err != nil {
		return err
	}
	return root.WriteFile(validUntilConf, []byte("// check_valid_until = false: this image's mirror may be a stale one.\n"+aptIgnoreValidUntil+"\n"), 0o644)
}
