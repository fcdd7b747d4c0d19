package main

import (
	"os"
	"syscall"
	"testing"
)

func TestInheritedFDsStayOutOfTools(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := f.Fd()
	// As if inherited: no close-on-exec flag.
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFD, 0); errno != 0 {
		t.Fatal(errno)
	}
	keepInheritedFDsFromTools()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFD, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("descriptor %d would reach the tools the plugin runs; want it close-on-exec", fd)
	}
}
