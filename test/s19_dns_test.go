//go:build e2e

package e2e

import (
	"net/url"
	"os"
	"strings"
	"testing"
)

// network = "host" resolves names on a host without systemd-resolved
// (Debian 12 as installed), and the image keeps its own resolv.conf.
func TestHostNetworkResolvesNames(t *testing.T) {
	Scenario(t)
	hostNetworkResolvesNames(t, Debian12)
}

// The same on a host with systemd-resolved (Debian 13 here).
func TestHostNetworkResolvesNamesWithResolved(t *testing.T) {
	Scenario(t, OnDebian13)
	hostNetworkResolvesNames(t, Debian13)
}

func hostNetworkResolvesNames(t *testing.T, rel HostRelease) {
	u, err := url.Parse(DebianMirror())
	if err != nil {
		t.Fatal(err)
	}
	mirrorHost := u.Hostname()
	h := BootHostOf(t, rel)
	link, _ := os.Readlink(h.Path("/etc/resolv.conf"))
	if usesResolved := strings.Contains(link, "systemd/resolve"); usesResolved != rel.Resolved {
		t.Fatalf("the host's /etc/resolv.conf links to %q; want systemd-resolved's: %v", link, rel.Resolved)
	}
	h.BaseContainer()
	dir := h.Project("dns", map[string]string{"dns.pkr.hcl": `
source "nspawn" "dns" {
  clone   = "base"
  network = "host"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.dns"]
  provisioner "shell" {
    inline = [
      "getent hosts ` + mirrorHost + ` | sed 's/^/resolved: /'",
      "apt-get update 2>&1 | tee /root/apt-update.log",
    ]
  }
}
`})
	r := h.packer(dir, "build", ".")
	expectSuccess(t, r)
	if !strings.Contains(r.out, "resolved: ") || !strings.Contains(r.out, mirrorHost) {
		t.Errorf("%s did not resolve inside:\n%s", mirrorHost, lastLines(r.out, 20))
	}
	log := readFile(t, h.machine("dns", "root/apt-update.log"))
	for _, bad := range []string{"W:", "Err:", "Temporary failure resolving"} {
		if strings.Contains(log, bad) {
			t.Errorf("apt-get update warned:\n%s", log)
		}
	}
	before, _ := os.Readlink(h.machine("base", "etc/resolv.conf"))
	if after, err := os.Readlink(h.machine("dns", "etc/resolv.conf")); err != nil || after != before {
		t.Errorf("the image's /etc/resolv.conf links to %q (%v) after the build; want %q, as before", after, err, before)
	}
	h.noMachinesRunning()
}
