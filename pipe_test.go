package main

import "testing"

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
