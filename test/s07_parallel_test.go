//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// parallelNames are the sources of one build; Packer runs them at once.
var parallelNames = []string{"par-a", "par-b", "par-c", "par-d"}

// parallelTemplate clones the base into each name.
func parallelTemplate() string {
	var b strings.Builder
	var refs []string
	for _, name := range parallelNames {
		fmt.Fprintf(&b, "source \"nspawn\" %q {\n  clone   = \"base\"\n  timeout = \"60s\"\n  network = \"host\"\n}\n", name)
		refs = append(refs, fmt.Sprintf("%q", "source.nspawn."+name))
	}
	fmt.Fprintf(&b, `build {
  sources = [%s]
  provisioner "shell" { inline = ["hostname > /root/me", "cat /etc/machine-id > /root/id-while-built", "sleep 1"] }
}
`, strings.Join(refs, ", "))
	return b.String()
}

// checkParallelBuild asserts each container got its own hostname and its
// own machine-id while built, and that the image's machine-id is empty.
func (h *Host) checkParallelBuild(t *testing.T) {
	t.Helper()
	ids := map[string]string{}
	for _, name := range parallelNames {
		fileContains(t, h.machine(name, "root/me"), name+"\n")
		id, _ := os.ReadFile(h.machine(name, "root/id-while-built"))
		if len(strings.TrimSpace(string(id))) != 32 {
			t.Errorf("%s: machine-id while built %q; want 32 hex digits", name, id)
		}
		if other, dup := ids[string(id)]; dup {
			t.Errorf("%s and %s had the same machine-id %s", name, other, id)
		}
		ids[string(id)] = name
		if b, _ := os.ReadFile(h.machine(name, "etc/machine-id")); len(b) != 0 {
			t.Errorf("%s: machine-id not emptied", name)
		}
	}
}

func TestParallelSources(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	dir := h.Project("parallel", map[string]string{"t.pkr.hcl": parallelTemplate()})
	r := h.packer(dir, "build", ".")
	expectSuccess(t, r)
	h.checkParallelBuild(t)
	h.noMachinesRunning()
}
