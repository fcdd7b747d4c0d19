package main

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// initProcess is a running container's init, held by a handle bound to
// that one process (a pidfd, where the kernel has them): no later process
// given the same PID can be signalled through it or taken for it.
type initProcess interface {
	// PowerOff sends it what machinectl poweroff sends, SIGRTMIN+4,
	// systemd's request to shut down cleanly; it fails once the process
	// has exited.
	PowerOff() error
	// Exited reports whether the process has exited.
	Exited() bool
}

// sigPowerOff is SIGRTMIN+4 as systemd numbers it: glibc's SIGRTMIN is
// the kernel's 32 plus the two signals glibc keeps for itself.
const sigPowerOff = syscall.Signal(34 + 4)

// hostInit is an initProcess on this host.
type hostInit struct{ p *os.Process }

func (i hostInit) PowerOff() error { return i.p.Signal(sigPowerOff) }

func (i hostInit) Exited() bool {
	return errors.Is(i.p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// initLookup finds a running container's init in the background, so the
// shutdown can signal it at once, with no machinectl run before.
type initLookup struct {
	done  chan struct{}
	found initProcess
}

// lookUpInit starts looking up the init of the container name.
func lookUpInit(ctx context.Context, m Host, name string) *initLookup {
	l := &initLookup{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		if p, err := m.Init(ctx, name); err == nil {
			l.found = p
		}
	}()
	return l
}

// get waits for the lookup and returns the init, or nil when it was not
// found (or l is nil: nobody looked).
func (l *initLookup) get() initProcess {
	if l == nil {
		return nil
	}
	<-l.done
	return l.found
}
