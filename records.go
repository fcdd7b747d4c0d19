package main

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"syscall"
)

// tarRecord is the unit GNU tar reads an archive in: 20 blocks. A tar
// unpacking a directory upload reads our pipe that much at a time, and
// handing it the stream in writes of that size, through a pipe of the
// default size, keeps each piece in the CPU's cache from our write to its
// read. That keeps a directory upload as fast as `tar -c` (see
// BENCHMARKS.md), where larger writes, or sendfile(2) into a bulk pipe,
// left it behind: each piece had left the cache before tar read it.
const tarRecord = 20 * tarBlock

// recordWriter writes an archive to w a whole record at a time, the last
// one short; file bodies are read straight into the record.
type recordWriter struct {
	w      io.Writer
	record []byte // the part filled so far
}

func newRecordWriter(w io.Writer) *recordWriter {
	return &recordWriter{w: w, record: make([]byte, 0, tarRecord)}
}

// Write adds p to the archive.
func (r *recordWriter) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n := copy(r.free(), p[written:])
		r.record = r.record[:len(r.record)+n]
		written += n
		if err := r.sendIfFull(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// writeHeader adds hdr's header block: formatted in place in the record
// where ustar holds it, by archive/tar where not.
func (r *recordWriter) writeHeader(hdr *tar.Header) error {
	// Every write is whole blocks, so a block always fits in what is free.
	blk := r.free()[:tarBlock]
	clear(blk)
	if !formatUSTAR(blk, hdr) {
		// A fresh writer per entry writes just this header's blocks; the
		// body is added past it.
		return tar.NewWriter(r).WriteHeader(hdr)
	}
	r.record = r.record[:len(r.record)+tarBlock]
	return r.sendIfFull()
}

// readFile adds the next n bytes of the open file fd, found at path; a
// file that ends before is an error.
func (r *recordWriter) readFile(fd int, path string, n int64) error {
	for n > 0 {
		free := r.free()
		k, err := syscall.Read(fd, free[:min(int64(len(free)), n)])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return &os.PathError{Op: "read", Path: path, Err: err}
		case k == 0:
			return fmt.Errorf("%s: file shrank while being read", path)
		}
		r.record = r.record[:len(r.record)+k]
		n -= int64(k)
		if err := r.sendIfFull(); err != nil {
			return err
		}
	}
	return nil
}

// Flush sends what is left: the archive's last, short record.
func (r *recordWriter) Flush() error {
	if len(r.record) == 0 {
		return nil
	}
	_, err := r.w.Write(r.record)
	r.record = r.record[:0]
	return err
}

func (r *recordWriter) free() []byte {
	return r.record[len(r.record):cap(r.record)]
}

func (r *recordWriter) sendIfFull() error {
	if len(r.record) < cap(r.record) {
		return nil
	}
	return r.Flush()
}
