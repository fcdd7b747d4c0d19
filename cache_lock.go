package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// fOFDSetLK is Linux's F_OFD_SETLK: a record lock owned by the open file,
// not the process, so it also excludes other builds in this process, and
// it conflicts with the POSIX lock apt takes on the same file.
const fOFDSetLK = 37

// lockDir holds the builder's own locks, which must not be files apt
// locks too; tests point it elsewhere.
var lockDir = "/run/lock/packer-builder-nspawn"

// lockCache makes builds take turns on the package cache dir. Every build
// holds the builder's lock for dir; debootstrap also holds apt's own lock
// on it, so apt on the host waits too. mmdebstrap cannot: the apt it runs
// takes that lock itself, and fails rather than waits.
func lockCache(ctx context.Context, dir, tool string, say func(string)) (unlock func(), err error) {
	waiting := fmt.Sprintf("Waiting for %s: another build or apt is using the package cache...", dir)
	sum := sha256.Sum256([]byte(dir))
	own, err := lockFile(ctx, filepath.Join(lockDir, "cache-"+hex.EncodeToString(sum[:8])+".lock"), func() { say(waiting) })
	if err != nil {
		return nil, fmt.Errorf("cache_dir: %w", err)
	}
	if tool != "debootstrap" {
		return own, nil
	}
	apt, err := lockFile(ctx, filepath.Join(dir, "lock"), func() { say(waiting) })
	if err != nil {
		own()
		return nil, fmt.Errorf("cache_dir: %w", err)
	}
	return func() { apt(); own() }, nil
}

// lockFile takes an exclusive lock on path, creating it if need be. It
// waits as long as ctx allows, calling waiting once if it has to; unlock
// releases it.
func lockFile(ctx context.Context, path string, waiting func()) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cannot make %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	lock := syscall.Flock_t{Type: syscall.F_WRLCK}
	told := false
	for {
		err := syscall.FcntlFlock(f.Fd(), fOFDSetLK, &lock)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EACCES) {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		if !told {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
