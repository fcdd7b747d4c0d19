//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// A package the suite lacks fails the build with the bootstrapper's own
// reason, naming it, and leaves nothing, with either tool. (Bases with
// packages and components are built in TestReproducibleExports.)
func TestPackagesAndComponents(t *testing.T) {
	Scenario(t, WithoutBase)
	h := BootHost(t)
	missing := h.Project("packages-missing", map[string]string{"missing.pkr.hcl": `
variable "mirror" { type = string }
source "nspawn" "pkg-missing-deb" {
  network  = "host"
  suite    = "bookworm"
  variant  = "minbase"
  mirror   = var.mirror
  packages = ["curl", "nspawn-no-such-package"]
}
source "nspawn" "pkg-missing-mm" {
  network      = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  bootstrapper = "mmdebstrap"
  packages     = ["curl", "nspawn-no-such-package"]
}
build {
  sources = ["source.nspawn.pkg-missing-deb", "source.nspawn.pkg-missing-mm"]
}
`})
	images := h.images()
	r := h.packer(missing, "build", "-var", "mirror="+DebianMirror(), ".")
	expectFailure(t, r, "nspawn-no-such-package")
	for _, tool := range []string{"debootstrap", "mmdebstrap"} {
		if !strings.Contains(r.out, tool+` of suite "bookworm": `) {
			t.Errorf("no %s failure in:\n%s", tool, lastLines(r.out, 40))
		}
	}
	h.leftAsFound(images, "pkg-missing-deb")
	h.leftAsFound(images, "pkg-missing-mm")
}

// checkPackagesAndComponents checks that the container name, built with
// packages = ["nginx-light", "curl"] and components = ["main",
// "contrib"], has both installed and contrib in its apt sources.
func checkPackagesAndComponents(t *testing.T, h *Host, name string) {
	t.Helper()
	status := h.Run("chroot", "/var/lib/machines/"+name, "dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", "nginx-light", "curl")
	for _, pkg := range []string{"nginx-light installed", "curl installed"} {
		if !strings.Contains(status, pkg) {
			t.Errorf("%s: want %q in:\n%s", name, pkg, status)
		}
	}
	sources := h.Run("sh", "-c", "cat /var/lib/machines/"+name+"/etc/apt/sources.list /var/lib/machines/"+name+"/etc/apt/sources.list.d/* 2>/dev/null || true")
	if !strings.Contains(sources, "main contrib") {
		t.Errorf("%s: the image's apt sources lack the components:\n%s", name, sources)
	}
}
