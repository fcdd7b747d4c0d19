//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// cancelLimit is how long packer may take to exit after SIGINT: the
// templates' timeout plus five seconds.
const cancelLimit = 30*time.Second + 5*time.Second

func TestCancel(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	dir := h.Project("cancel", map[string]string{"t.pkr.hcl": `
variable "mirror" { type = string }
source "nspawn" "cancel-debootstrap" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "30s"
}
source "nspawn" "cancel-provision" {
  network = "host"
  clone   = "base"
  timeout = "30s"
}
build {
  sources = ["source.nspawn.cancel-debootstrap", "source.nspawn.cancel-provision"]
  provisioner "shell" { inline = ["echo sleeping now", "sleep 600"] }
}
`})
	images := h.images()
	cases := []struct{ name, waitFor string }{
		{"cancel-debootstrap", "I: Extracting"},
		{"cancel-provision", "sleeping now"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.cancelBuild(t, dir, tc.waitFor, 5*time.Minute, cancelLimit, "-var", "mirror="+DebianMirror(), "-only=nspawn."+tc.name, ".")
			h.leftAsFound(images, tc.name)
		})
	}
}
