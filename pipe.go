package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
)

// pipeSize is what bulk pipes are grown to: Linux's default largest pipe
// for any user (/proc/sys/fs/pipe-max-size). The 64 KiB default makes the
// two ends take turns every 64 KiB, a pair of context switches each.
const pipeSize = 1 << 20

// fSetPipeSize is fcntl's F_SETPIPE_SZ, which package syscall lacks.
const fSetPipeSize = 1031

// bulkPipe is os.Pipe with room for pipeSize bytes, or the default where
// the kernel refuses more.
func bulkPipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	if raw, err := w.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, pipeSize)
		})
	}
	return r, w, nil
}

// copyBuffer is the chunk a bulk copy through this process moves at once.
const copyBuffer = 1 << 20

// copyBuffers keeps copy buffers between uploads: every shell provisioner
// uploads its script, and a fresh 1 MiB each time would be wasted work.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBuffer); return &b }}

// copyFile writes the next n bytes of f to w. Into a pipe, it uses
// sendfile(2), so the bytes go from the page cache to the pipe without
// passing through this process.
func copyFile(w io.Writer, f *os.File, n int64) error {
	if n == 0 {
		return nil
	}
	if p, ok := w.(*os.File); ok {
		sent, err := sendfile(p, f, n)
		if err == nil || !errors.Is(err, errNoSendfile) {
			return err
		}
		n -= sent
	}
	copied, err := io.CopyBuffer(w, io.LimitReader(f, n), make([]byte, min(n, copyBuffer)))
	if err == nil && copied < n {
		err = shrank(f)
	}
	return err
}

// shrank is the error for a file that ended before its size said.
func shrank(f *os.File) error {
	return fmt.Errorf("%s: file shrank while being read", f.Name())
}

// errNoSendfile says the kernel cannot sendfile between these two files;
// copyFile then copies the rest itself.
var errNoSendfile = errors.New("sendfile not supported")

// sendfile moves n bytes from f's position to out, waiting through the
// runtime's poller while out is full.
func sendfile(out, f *os.File, n int64) (int64, error) {
	src, err := f.SyscallConn()
	if err != nil {
		return 0, errNoSendfile
	}
	dst, err := out.SyscallConn()
	if err != nil {
		return 0, errNoSendfile
	}
	var sent int64
	var opErr error
	ctlErr := src.Control(func(in uintptr) {
		err := dst.Write(func(o uintptr) bool {
			for sent < n {
				k, err := syscall.Sendfile(int(o), int(in), nil, int(min(n-sent, copyBuffer)))
				switch {
				case err == syscall.EAGAIN:
					return false
				case err == syscall.EINTR:
					continue
				case err == syscall.EINVAL || err == syscall.ENOSYS:
					opErr = errNoSendfile
					return true
				case err != nil:
					opErr = err
					return true
				case k == 0:
					opErr = shrank(f)
					return true
				}
				sent += int64(k)
			}
			return true
		})
		if opErr == nil {
			opErr = err
		}
	})
	if ctlErr != nil {
		return 0, errNoSendfile
	}
	return sent, opErr
}
