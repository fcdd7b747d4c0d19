//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"sync"
	"syscall"
)

// Work the scenarios share (the Packer builds, make deb, make release) runs
// in the background while they boot their hosts. The run waits for it
// before it ends, and an interrupt stops it, so no build outlives the run.
var (
	backgroundCtx, stopBackground = context.WithCancel(context.Background())
	backgroundJobs                sync.WaitGroup
)

// backgroundJob is work done at most once per run, in the background, for
// scenarios to wait for.
type backgroundJob struct {
	once sync.Once
	done chan struct{}
	err  error
}

func (j *backgroundJob) start(work func() error) {
	j.once.Do(func() {
		j.done = make(chan struct{})
		backgroundJobs.Add(1)
		go func() {
			defer backgroundJobs.Done()
			defer close(j.done)
			j.err = work()
		}()
	})
}

// wait waits for the work start began.
func (j *backgroundJob) wait() error {
	<-j.done
	return j.err
}

// backgroundCommand prepares argv for background work: stopping it kills
// its whole process group (go build's compilers, make's go).
func backgroundCommand(argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(backgroundCtx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}
