//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
)

// Builds work with private user namespaces (machinectl start's default)
// and without (private_users = false).
func TestUserNamespaces(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	dir := h.Project("userns", map[string]string{"t.pkr.hcl": `
source "nspawn" "userns-on" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
source "nspawn" "userns-off" {
  network       = "host"
  clone         = "base"
  private_users = false
  timeout       = "60s"
}
build {
  sources = ["source.nspawn.userns-on", "source.nspawn.userns-off"]
  provisioner "shell" { inline = ["cat /proc/self/uid_map > /root/uid_map", "echo data > /root/file"] }
  provisioner "file" {
    source      = "t.pkr.hcl"
    destination = "/root/uploaded"
  }
}
`})
	r := h.packer(dir, "build", ".")
	expectSuccess(t, r)
	uidMap := func(name string) []string {
		b, err := os.ReadFile(h.machine(name, "root/uid_map"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return strings.Fields(string(b))
	}
	if m := uidMap("userns-on"); len(m) < 3 || m[1] == "0" {
		t.Errorf("userns-on: uid_map %q; want root mapped to a private range", m)
	}
	if m := uidMap("userns-off"); len(m) < 3 || m[0] != "0" || m[1] != "0" {
		t.Errorf("userns-off: uid_map %q; want the host's ids", m)
	}
	for _, name := range []string{"userns-on", "userns-off"} {
		fileContains(t, h.machine(name, "root/uploaded"), "userns-off")
	}
	h.noMachinesRunning()
}
