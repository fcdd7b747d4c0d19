package main

import (
	"os"
	"strconv"
	"syscall"
)

// keepInheritedFDsFromTools marks every file descriptor above stderr that
// the plugin inherited as close-on-exec. Go does that for the files it
// opens, not for ones a shell, CI runner or packer left open, and those
// would reach every tool we run: mmdebstrap, for one, fails when they push
// its pipes past descriptor 9 ("Bad fd number" from its sh).
func keepInheritedFDsFromTools() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
