//go:build e2e

package e2e

import (
	"testing"
)

const failingTemplate = `
source "nspawn" "failing" {
  import  = "` + hostShareDir + `/base.tar.zst"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.failing"]
  provisioner "shell" {
    inline = ["echo about-to-fail", "exit 3"]
  }
}
`

// A provisioner that fails fails the build with its status and removes the
// container the build made; -on-error=abort keeps it, stopped.
func TestFailingProvisioner(t *testing.T) {
	scenario(t)
	baseImage(t)
	h := bootHost(t)
	dir := h.Project("failing", map[string]string{"failing.pkr.hcl": failingTemplate})

	t.Run("container removed", func(t *testing.T) {
		h := h.In(t)
		r := h.Build(dir, ".")
		expectFailure(t, r, "about-to-fail")
		expectOutputMatches(t, r, `exit (code|status)[: ]*3\b`)
		expectAbsent(t, h.MachinePath("failing", ""), "a failed build removes the container it made")
		if h.HasImage("failing") {
			t.Errorf("machinectl still lists image failing")
		}
		expectNothingRunning(t, h)
	})
	t.Run("kept with -on-error=abort", func(t *testing.T) {
		h := h.In(t)
		r := h.Build(dir, "-on-error=abort", ".")
		expectFailure(t, r, "about-to-fail")
		expectPresent(t, h.MachinePath("failing", "etc/os-release"), "-on-error=abort keeps the container for inspection")
		expectNothingRunning(t, h)
	})
}
