//go:build e2e

package e2e

import (
	"testing"
)

const failingTemplate = `
source "nspawn" "fails" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.fails"]
  provisioner "shell" {
    inline = ["echo about to fail", "exit 3"]
  }
}
`

func TestFailingProvisionerRemovesContainer(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	dir := h.Project("fails", map[string]string{"t.pkr.hcl": failingTemplate})
	r := h.packer(dir, "build", ".")
	expectFailure(t, r, "about to fail", "exit status: 3")
	if h.hasImage("fails") || exists(h.machine("fails", "")) {
		t.Errorf("the failed build left its container")
	}
	if !h.hasImage("base") {
		t.Errorf("the failed build removed base, which it did not create")
	}
	h.noMachinesRunning()

	t.Run("on-error=abort keeps it stopped", func(t *testing.T) {
		r := h.packer(dir, "build", "-on-error=abort", ".")
		expectFailure(t, r, "exit status: 3", "Kept container fails in /var/lib/machines/fails")
		if !h.hasImage("fails") {
			t.Errorf("-on-error=abort did not keep the container")
		}
		h.noMachinesRunning()
	})
}
