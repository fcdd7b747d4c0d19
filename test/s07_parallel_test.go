//go:build e2e

package e2e

import (
	"os"
	"testing"
)

// Packer runs the sources of one build at once by default.
func TestParallelSources(t *testing.T) {
	scenario(t)
	h := bootHost(t)
	h.baseContainer()
	dir := h.project("parallel", map[string]string{"t.pkr.hcl": `
source "nspawn" "par-a" {
  clone   = "base"
  timeout = "60s"
}
source "nspawn" "par-b" {
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.par-a", "source.nspawn.par-b"]
  provisioner "shell" { inline = ["hostname > /root/me", "sleep 2"] }
}
`})
	r := h.packer(dir, "build", ".")
	expectSuccess(t, r)
	for _, name := range []string{"par-a", "par-b"} {
		fileContains(t, h.machine(name, "root/me"), name+"\n")
		if b, _ := os.ReadFile(h.machine(name, "etc/machine-id")); len(b) != 0 {
			t.Errorf("%s: machine-id not emptied", name)
		}
	}
	h.noMachinesRunning()
}
