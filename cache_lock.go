package main

import (
	"context"
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

// lockCache takes apt's lock on the package cache dir, so two debootstraps
// (or apt and a debootstrap) never write the same .deb at once. It waits
// as long as ctx allows and says so once; unlock releases it.
func lockCache(ctx context.Context, dir string, say func(string)) (unlock func(), err error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cache_dir: cannot open %s: %w", path, err)
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
			return nil, fmt.Errorf("cache_dir: cannot lock %s: %w", path, err)
		}
		if !told {
			say(fmt.Sprintf("Waiting for %s: another build or apt is using the package cache...", path))
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
