//go:build e2e

package e2e

import "testing"

// Packer's ansible provisioner talks to the container through its SSH
// adapter, which runs commands and moves files with our communicator.
func TestAnsibleProvisioner(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	dir := h.Project("ansible", map[string]string{
		"t.pkr.hcl": `
source "nspawn" "ansible" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.ansible"]
  provisioner "ansible" {
    playbook_file = "playbook.yml"
    user          = "root"
    # Packer 1.6.6's SSH adapter offers only an ssh-rsa host key, which
    # OpenSSH 9 refuses unless asked.
    extra_arguments = ["--ssh-extra-args", "-o HostKeyAlgorithms=+ssh-rsa -o PubkeyAcceptedAlgorithms=+ssh-rsa"]
  }
}
`,
		// The base has no Python, so the play uses raw commands only.
		"playbook.yml": `
- hosts: all
  gather_facts: false
  tasks:
    - name: leave a mark
      raw: echo "ansible was here in $(hostname)" > /root/ansible
`,
	})
	r := h.packer(dir, "build", ".")
	expectSuccess(t, r)
	fileContains(t, h.machine("ansible", "root/ansible"), "ansible was here in ansible")
	h.noMachinesRunning()
}
