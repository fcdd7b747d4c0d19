//go:build e2e && bench

package bench

import (
	"context"
	"path/filepath"
	"strings"
)

// The host's disk here is ext4 without a journal. There, for minutes
// after files are deleted, ext4 will not hand out their inode numbers
// again and checks each one it passes over: creating a tree right after
// removing one (as every row does, the untimed clean-up of one side just
// before the other side's run) crawled, a clone of the base taking many
// times as long in the kernel as on ext4 with a journal, and never the
// same time twice (perf put most of it in ext4's recently_deleted). So
// /var/lib/machines is ext4 as Debian's installer makes it, in an image
// file on that disk.
const ext4Image = "/var/tmp/machines.ext4"

// setUpExt4 formats the image from outside (mkfs.ext4 with the machine's
// defaults: e2fsprogs, which make deps installs) and mounts it over the
// host's /var/lib/machines, before anything is put there.
func (b *bench) setUpExt4() {
	h := b.h
	b.formatImage(ext4Image, 24<<30, "mkfs.ext4", "e2fsprogs; make deps installs it")
	h.Run("mount", "-o", "loop", ext4Image, "/var/lib/machines")
	b.t.Cleanup(func() { _ = h.Cmd(context.Background(), "umount", "/var/lib/machines").Run() })
	// Not a machine: machinectl would list it as one.
	h.Run("rmdir", "/var/lib/machines/lost+found")
}

// diskJournal says whether the file system holding dir has a journal:
// jbd2 keeps one directory per journaled device.
func diskJournal(dir string) string {
	source := strings.TrimSpace(run("findmnt", "-n", "-o", "SOURCE", "-T", dir))
	if i := strings.IndexByte(source, '['); i >= 0 {
		source = source[:i] // a bind mount's source names its subdirectory
	}
	if source == "" {
		return "unknown"
	}
	matches, _ := filepath.Glob("/proc/fs/jbd2/" + filepath.Base(source) + "-*")
	if len(matches) > 0 {
		return "with a journal"
	}
	return "without a journal"
}
