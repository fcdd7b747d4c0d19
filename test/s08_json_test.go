//go:build e2e

package e2e

import "testing"

func TestLegacyJSONTemplate(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	dir := h.Project("json", map[string]string{"legacy.json": `{
  "builders": [{"type": "nspawn", "name": "from-json", "clone": "base", "timeout": "60s", "network": "host"}],
  "provisioners": [{"type": "shell", "inline": ["echo json > /root/json"]}]
}`})
	r := h.packer(dir, "build", "legacy.json")
	expectSuccess(t, r)
	fileContains(t, h.machine("from-json", "root/json"), "json")
	h.noMachinesRunning()
}
