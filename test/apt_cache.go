//go:build e2e

package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// hostArchives is where a host's apt and the plugin keep packages.
const hostArchives = "var/cache/apt/archives"

// The run's package cache is lent to each host as links, not as a shared
// mount: hosts run side by side, and an apt lock on a shared directory
// makes one host's mmdebstrap fail while another host's debootstrap holds
// it, as no user's single host would. A host gives back, at its end, the
// packages it downloaded.

// lendPackages links the cache's packages into the host tree at dir.
func lendPackages(dir string) error {
	return linkPackages(mustMkdir(aptCacheDir), filepath.Join(dir, hostArchives))
}

// takeBackPackages links into the cache the packages the host at dir
// downloaded.
func takeBackPackages(dir string) error {
	return linkPackages(filepath.Join(dir, hostArchives), aptCacheDir)
}

// linkPackages links every .deb in from that to lacks into to, copying
// where the two are on different file systems. apt and debootstrap write
// a package under another name and rename it when it is whole, and never
// change one in place, so a link is as good as a copy.
func linkPackages(from, to string) error {
	debs, err := filepath.Glob(filepath.Join(from, "*.deb"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, deb := range debs {
		dst := filepath.Join(to, filepath.Base(deb))
		err := os.Link(deb, dst)
		switch {
		case err == nil, errors.Is(err, os.ErrExist):
		case errors.Is(err, syscall.EXDEV):
			if err := copyFile(deb, dst); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

// copyFile copies src to dst through a temporary name, so dst is whole
// or absent.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".partial"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
