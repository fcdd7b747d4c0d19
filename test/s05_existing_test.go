//go:build e2e

package e2e

import (
	"os"
	"testing"
)

func TestExistingContainerNeedsForce(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	h.Run("machinectl", "clone", "base", "taken")
	marker := h.machine("taken", "root/marker")
	if err := os.WriteFile(marker, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := h.Project("taken", map[string]string{"t.pkr.hcl": `
source "nspawn" "taken" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.taken"]
  provisioner "shell" { inline = ["echo rebuilt > /root/rebuilt"] }
}
`})
	r := h.packer(dir, "build", ".")
	expectFailure(t, r, `container "taken" already exists`, "-force")
	fileContains(t, marker, "mine")

	r = h.packer(dir, "build", "-force", ".")
	expectSuccess(t, r)
	if exists(marker) {
		t.Errorf("-force kept the old container's marker")
	}
	fileContains(t, h.machine("taken", "root/rebuilt"), "rebuilt")
	h.noMachinesRunning()
}
