//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// cancelLimit is how long packer may take to exit after Ctrl-C: the
// templates' timeout (the longest the plugin waits for a shutdown) plus a
// few seconds.
const cancelLimit = 60*time.Second + 15*time.Second

const cancelTemplate = `
variable "mirror" { type = string }

source "nspawn" "cancel-deboot" {
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "60s"
}

source "nspawn" "cancel-prov" {
  import  = "` + hostShareDir + `/base.tar.zst"
  timeout = "60s"
}

build {
  sources = ["source.nspawn.cancel-deboot", "source.nspawn.cancel-prov"]
  provisioner "shell" {
    inline = ["echo now-sleeping", "sleep 600"]
  }
}
`

// A user presses Ctrl-C during debootstrap and during provisioning: packer
// stops promptly and leaves no container, no process and no machine.
func TestCancel(t *testing.T) {
	scenario(t)
	baseImage(t)
	mirror, err := debianMirror()
	if err != nil {
		t.Fatal(err)
	}
	h := bootHost(t)
	dir := h.Project("cancel", map[string]string{"cancel.pkr.hcl": cancelTemplate})

	cases := []struct {
		name     string
		machine  string
		waitFor  string // output that shows the build is where we want to cancel it
		leftover string // processes that must not survive, as a pattern
	}{
		{"during debootstrap", "cancel-deboot", "I: Retrieving", `(^|/| )debootstrap( |$)`},
		{"during provisioning", "cancel-prov", "now-sleeping", `(^| )sleep 600`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := h.StartPacker(dir, "build", "-var", "mirror="+mirror, "-only=*."+c.machine, ".")
			if !p.WaitFor(c.waitFor, 5*time.Minute) {
				t.Fatalf("packer never printed %q; output:\n%s", c.waitFor, tail(p.Output(), 30))
			}
			time.Sleep(2 * time.Second)
			sent := time.Now()
			if err := p.Interrupt(); err != nil {
				t.Fatal(err)
			}
			if !p.Wait(cancelLimit) {
				t.Fatalf("packer still running %s after SIGINT; output:\n%s", cancelLimit, tail(p.Output(), 30))
			}
			t.Logf("packer exited %d, %s after SIGINT", p.Code, time.Since(sent).Round(100*time.Millisecond))
			if p.Code == 0 {
				t.Errorf("packer exited 0 after SIGINT; want a failure")
			}
			expectAbsent(t, h.MachinePath(c.machine, ""), "a cancelled build removes its container")
			expectNoProcess(t, h, c.leftover)
			expectNothingRunning(t, h)
		})
	}
}
