package main

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
)

// trimImage removes what a container does without: documentation but the
// copyright files (what the dpkg exclusions would not have installed), man
// and info pages, and the .deb files debootstrap leaves in the image's apt
// cache (mmdebstrap leaves none: apt fetches them again if ever needed, and
// both bootstrappers then give the same tree).
func trimImage(root *os.Root) error {
	var doomed []string
	for _, find := range []func(*os.Root) ([]string, error){docFiles, manEntries, packageFiles} {
		paths, err := find(root)
		if err != nil {
			return err
		}
		doomed = append(doomed, paths...)
	}
	return removeConcurrently(root, doomed)
}

// docFiles lists usr/share/doc's files except the copyright files.
func docFiles(root *os.Root) ([]string, error) {
	var files []string
	err := fs.WalkDir(root.FS(), "usr/share/doc", func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && path.Base(p) != "copyright" {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// manEntries lists what is inside the man and info directories, which
// stay, empty.
func manEntries(root *os.Root) ([]string, error) {
	var all []string
	for _, dir := range []string{"usr/share/man", "usr/share/info"} {
		entries, err := entriesOf(root, dir, func(fs.DirEntry) bool { return true })
		if err != nil {
			return nil, err
		}
		all = append(all, entries...)
	}
	return all, nil
}

// packageFiles lists the .deb files in the image's apt cache; its lock
// and partial/ stay.
func packageFiles(root *os.Root) ([]string, error) {
	return entriesOf(root, "var/cache/apt/archives", func(e fs.DirEntry) bool {
		return e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".deb")
	})
}

// entriesOf lists the paths of the entries in dir that match picks out; a
// missing dir has none.
func entriesOf(root *os.Root, dir string, match func(fs.DirEntry) bool) ([]string, error) {
	entries, err := fs.ReadDir(root.FS(), dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if match(e) {
			paths = append(paths, path.Join(dir, e.Name()))
		}
	}
	return paths, nil
}

// removeWorkers is how many removals run at once. Removing is the
// kernel's work, a little for every file, spread over many directories:
// a few removals at once finish a minbase image's man pages much sooner
// than one alone, even on a small machine.
const removeWorkers = 4

// removeConcurrently removes every path, with what is under it, and
// returns the first error. A symlink is removed, never followed.
func removeConcurrently(root *os.Root, paths []string) error {
	work := make(chan string)
	errs := make(chan error, removeWorkers)
	var wg sync.WaitGroup
	for range removeWorkers {
		wg.Go(func() {
			var first error
			for p := range work {
				if err := root.RemoveAll(p); err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		})
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
