package main

import (
	"os"
	"sync"
	"syscall"
)

// pipeSize is what bulk pipes are grown to: Linux's default largest pipe
// for any user (/proc/sys/fs/pipe-max-size). A pipe of the default size
// makes the two ends take turns far more often, each turn a pair of
// context switches.
const pipeSize = 1 << 20

// fSetPipeSize is fcntl's F_SETPIPE_SZ, which package syscall lacks.
const fSetPipeSize = 1031

// bulkPipe is blockingPipe with room for pipeSize bytes, or the default
// where the kernel refuses more.
func bulkPipe() (r, w *os.File, err error) {
	r, w, err = blockingPipe()
	if err != nil {
		return nil, nil, err
	}
	// Fd costs nothing here: the ends are blocking and outside the poller.
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), fSetPipeSize, pipeSize)
	return r, w, nil
}

// blockingPipe is a pipe whose ends are blocking and unknown to the Go
// runtime's poller; os.Pipe's are neither. os.Pipe puts both ends in the
// runtime's epoll set, and they stay there after a child is handed one,
// so the kernel wakes this process for every write and read through the
// pipe, even one that only children use: an import's zstd | machinectl
// would wake the plugin for every piece of the archive, taking CPU from
// the tools that do the work. And where this process writes, a full pipe
// holds the writer in write(2) until the reader has taken a record, and
// the kernel wakes it at once, as it does `tar -c`; os.Pipe's writer
// instead parks its goroutine and waits for epoll, every record once the
// pipe is full, which left directory uploads behind `tar -c` (the
// directory upload rows of BENCHMARKS.md hold them to it).
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	// On a blocking descriptor, os.NewFile leaves the poller out.
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}

// copyBuffer is the chunk a bulk copy through this process moves at once.
const copyBuffer = 1 << 20

// copyBuffers keeps copy buffers between uploads: every shell provisioner
// uploads its script, and a fresh buffer each time would be wasted work.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBuffer); return &b }}
