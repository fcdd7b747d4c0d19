//go:build e2e

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cancelLimit is how long packer may take to exit after SIGINT: the
// templates' timeout plus five seconds.
const cancelLimit = 30*time.Second + 5*time.Second

func TestCancel(t *testing.T) {
	scenario(t)
	h := bootHost(t)
	h.baseContainer()
	dir := h.project("cancel", map[string]string{"t.pkr.hcl": `
variable "mirror" { type = string }
source "nspawn" "cancel-debootstrap" {
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "30s"
}
source "nspawn" "cancel-provision" {
  clone   = "base"
  timeout = "30s"
}
build {
  sources = ["source.nspawn.cancel-debootstrap", "source.nspawn.cancel-provision"]
  provisioner "shell" { inline = ["echo sleeping now", "sleep 600"] }
}
`})
	cases := []struct{ name, waitFor string }{
		{"cancel-debootstrap", "I: Extracting"},
		{"cancel-provision", "sleeping now"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := h.startPacker(dir, "build", "-var", "mirror="+debianMirror(), "-only=nspawn."+tc.name, ".")
			p.waitFor(t, tc.waitFor, 5*time.Minute)
			took := p.interrupt(t, cancelLimit)
			t.Logf("packer exited %s after SIGINT", took.Round(100*time.Millisecond))
			if h.hasImage(tc.name) || exists(h.machine(tc.name, "")) {
				t.Errorf("the cancelled build left its container")
			}
			h.noMachinesRunning()
			for _, proc := range []string{"debootstrap", "systemd-run", "machinectl", "packer"} {
				if out, err := h.cmd(t.Context(), "pgrep", "-a", "-x", proc).Output(); err == nil {
					t.Errorf("%s still running: %s", proc, strings.TrimSpace(string(out)))
				} else if _, ok := err.(*exec.ExitError); !ok {
					t.Errorf("pgrep: %v", err)
				}
			}
		})
	}
}
