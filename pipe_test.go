package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestBulkPipeIsLarge(t *testing.T) {
	pr, pw, err := bulkPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	// A full pipeSize fits with no reader: the write would block otherwise.
	if n, err := pw.Write(make([]byte, pipeSize)); err != nil || n != pipeSize {
		t.Errorf("wrote %d (%v) into an unread pipe; want %d", n, err, pipeSize)
	}
}

// nonBlocking reports whether f's descriptor has O_NONBLOCK, without
// Fd(), which would itself make it blocking.
func nonBlocking(t *testing.T, f *os.File) bool {
	t.Helper()
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := raw.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	return flags&unix.O_NONBLOCK != 0
}

// Both kinds of pipe are blocking and outside the runtime's poller: a file
// the poller does not watch takes no deadline.
func TestPipesAreBlockingAndUnpolled(t *testing.T) {
	for name, pipe := range map[string]func() (*os.File, *os.File, error){"bulkPipe": bulkPipe, "blockingPipe": blockingPipe} {
		pr, pw, err := pipe()
		if err != nil {
			t.Fatal(err)
		}
		for _, end := range []*os.File{pr, pw} {
			if nonBlocking(t, end) {
				t.Errorf("%s: %s is non-blocking", name, end.Name())
			}
			if err := end.SetDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
				t.Errorf("%s: %s takes a deadline (%v): the runtime's poller watches it", name, end.Name(), err)
			}
		}
		pr.Close()
		pw.Close()
	}
}

func TestBlockingPipeBlocksAndBreaks(t *testing.T) {
	pr, pw, err := blockingPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	// A reader that goes away ends a blocked writer with EPIPE, as a tar
	// that stops reading must end the upload's writer.
	done := make(chan error, 1)
	go func() {
		_, err := pw.Write(make([]byte, 1<<20))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	pr.Close()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EPIPE) {
			t.Errorf("write after the reader closed: %v; want EPIPE", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the writer stayed blocked after the reader closed")
	}
}

func TestUploadDirFeedsTarABlockingPipe(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdin io.Reader
	comm, _ := newTestCommunicator(func(req execRequest) (int, error) {
		stdin = req.Stdin
		f, ok := req.Stdin.(*os.File)
		if !ok {
			t.Errorf("tar's stdin is a %T; want the pipe itself", req.Stdin)
		} else if nonBlocking(t, f) {
			t.Error("tar's stdin is a non-blocking pipe; want blockingPipe's")
		}
		return 0, nil
	})
	if err := comm.UploadDir("/srv", src+"/", nil); err != nil {
		t.Fatal(err)
	}
	if stdin == nil {
		t.Fatal("no command ran")
	}
}
