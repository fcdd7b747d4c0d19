//go:build e2e && bench

package bench

import "context"

// The clone row once more with /var/lib/machines on btrfs, where
// `machinectl clone` is a snapshot: how fast a clone cycle is on the file
// system machined is made for, beside ext4's copy.
const (
	btrfsImage = "/var/tmp/machines.btrfs"
	// btrfsDir is where, in the host, the btrfs file system is mounted.
	btrfsDir = "/srv/btrfs-machines"
	// ext4Machines keeps the ext4 /var/lib/machines reachable while
	// btrfs covers it; not under /var/tmp, which systemd-importd, doing
	// the import, has a private one of.
	ext4Machines = "/srv/ext4-machines"
)

// setUpBtrfs makes the btrfs file system, in an image file in the host
// formatted from outside (mkfs.btrfs: btrfs-progs, which make bench
// installs), and imports the base there as a subvolume, as machined
// keeps images on btrfs.
func (b *bench) setUpBtrfs() {
	h := b.h
	b.formatImage(btrfsImage, 8<<30, "mkfs.btrfs", "btrfs-progs; make bench installs it")
	h.Run("mkdir", "-p", btrfsDir, ext4Machines)
	h.Run("mount", "-o", "loop", btrfsImage, btrfsDir)
	h.Run("mount", "--bind", "/var/lib/machines", ext4Machines)
	// Private, or btrfs mounted over /var/lib/machines would show here
	// too.
	h.Run("mount", "--make-private", ext4Machines)
	b.t.Cleanup(func() {
		for _, dir := range []string{ext4Machines, btrfsDir} {
			_ = h.Cmd(context.Background(), "umount", dir).Run()
		}
	})
	b.onBtrfs(func() { h.Run("machinectl", "import-fs", ext4Machines+"/base", "base") })
}

// onBtrfs runs f with the btrfs file system over /var/lib/machines.
func (b *bench) onBtrfs(f func()) {
	b.h.Run("mount", "--bind", btrfsDir, "/var/lib/machines")
	defer b.h.Run("umount", "/var/lib/machines")
	f()
}
