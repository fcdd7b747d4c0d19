package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// buildTrace is something each build or boot of an image makes anew, with
// why it differs between two builds of the same template. A reproducible
// build removes or empties each before the image is exported.
type buildTrace struct {
	// glob is a path pattern in the tree (path.Match syntax per element);
	// one ending in "/**" stands for every file below the directory.
	glob string
	// empty truncates the files instead of removing them: their place
	// and mode stay, as their owners expect.
	empty bool
	why   string
}

// buildTraces are documented, with their reasons, in the builder's docs
// ("Reproducible exports"); keep the two lists alike.
var buildTraces = []buildTrace{
	{"var/log/journal/*", false, "the build's boot journal, under the boot's machine-id, with its times"},
	{"var/log/**", true, "every other log: the bootstrap's, apt's, dpkg's, the login records, the services', with their times"},
	{"var/lib/systemd/random-seed", false, "the seed the boot saved for the next one; no two images should share one"},
	{"var/lib/systemd/credential.secret", false, "the key the boot made for encrypted credentials; no two images should share one"},
	{"var/lib/systemd/timers/stamp-*", false, "when each timer last ran during the build"},
	{"var/lib/systemd/timesync/clock", false, "the time the boot last saw"},
	{"var/lib/logrotate/status", false, "when logrotate last ran"},
	{"var/lib/apt/periodic/*", false, "when apt's daily jobs last ran"},
	{"var/lib/apt/lists/partial/*", false, "downloads apt left unfinished"},
	{"var/cache/apt/*.bin", false, "apt's binary caches, which record when they were made"},
	{"var/cache/ldconfig/aux-cache", false, "ldconfig's cache of the files it saw, by inode and time"},
	{"var/cache/debconf/*-old", false, "debconf's copies of its databases before the last change"},
	{"var/lib/dpkg/*-old", false, "dpkg's copies of its databases before the last change"},
	{"var/backups/*", false, "the daily backups of the package databases, compressed with their times"},
}

// forgetBuild removes or empties every build trace in the stopped tree,
// sets the password-change dates in /etc/shadow that are later than epoch
// to epoch's day, and clamps every mtime later than epoch to epoch.
func forgetBuild(dir string, epoch time.Time) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, t := range buildTraces {
		matches, err := traceMatches(root, t.glob)
		if err != nil {
			return err
		}
		for _, m := range matches {
			if t.empty {
				err = truncateRegular(root, m)
			} else {
				err = root.RemoveAll(m)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
	}
	for _, shadow := range []string{"etc/shadow", "etc/shadow-"} {
		if err := clampShadow(root, shadow, epoch); err != nil {
			return fmt.Errorf("%s: %w", shadow, err)
		}
	}
	return clampMtimes(root, dir, epoch)
}

// traceMatches lists the paths glob names in the tree, a "/**" at its
// end every file below that directory.
func traceMatches(root *os.Root, glob string) ([]string, error) {
	dir, ok := strings.CutSuffix(glob, "/**")
	if !ok {
		return fs.Glob(root.FS(), glob)
	}
	var files []string
	err := fs.WalkDir(root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// truncateRegular empties name if it is a regular file.
func truncateRegular(root *os.Root, name string) error {
	info, err := root.Lstat(name)
	if err != nil || !info.Mode().IsRegular() {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

// clampShadow sets each account's date of last password change (the
// third field, in days since 1970), which tools set from the clock, to
// epoch's day where it is later.
func clampShadow(root *os.Root, name string, epoch time.Time) error {
	b, err := root.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	day := epoch.Unix() / 86400
	lines := strings.SplitAfter(string(b), "\n")
	changed := false
	for i, line := range lines {
		fields := strings.Split(line, ":")
		if len(fields) < 3 {
			continue
		}
		if d, err := strconv.ParseInt(fields[2], 10, 64); err == nil && d > day {
			fields[2] = strconv.FormatInt(day, 10)
			lines[i] = strings.Join(fields, ":")
			changed = true
		}
	}
	if !changed {
		return nil
	}
	info, err := root.Lstat(name)
	if err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.Join(lines, ""))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// clampMtimes sets every mtime in the tree later than epoch to epoch,
// symbolic links' own included, so that mkfs.ext4 -d copies the same
// times as a tar export writes.
func clampMtimes(root *os.Root, dir string, epoch time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(epoch.UnixNano()), unix.NsecToTimespec(epoch.UnixNano())}
	var late []string
	err := fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(epoch) {
			late = append(late, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Deepest first: setting a file's time leaves its directory's alone,
	// but no later change may follow a directory's.
	for i := len(late) - 1; i >= 0; i-- {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, path.Join(dir, late[i]), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("setting the time of %s: %w", late[i], err)
		}
	}
	return nil
}
