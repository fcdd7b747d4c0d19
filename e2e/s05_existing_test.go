//go:build e2e

package e2e

import (
	"testing"
)

const existingTemplate = `
source "nspawn" "existing" {
  import  = "` + hostShareDir + `/base.tar.zst"
  timeout = "60s"
}
build { sources = ["source.nspawn.existing"] }
`

// A container of the build's name stops the build untouched, unless
// -force, which replaces it.
func TestExistingContainer(t *testing.T) {
	scenario(t)
	baseImage(t)
	h := bootHost(t)
	dir := h.Project("existing", map[string]string{"existing.pkr.hcl": existingTemplate})
	expectSuccess(t, h.Build(dir, "."))
	marker := "/var/lib/machines/existing/root/marker"
	h.WriteFile(marker, []byte("was here\n"))

	t.Run("without -force", func(t *testing.T) {
		h := h.In(t)
		r := h.Build(dir, ".")
		expectFailure(t, r, `container "existing" already exists`, "-force")
		expectFile(t, h.Path(marker), "was here")
		expectNothingRunning(t, h)
	})
	t.Run("with -force", func(t *testing.T) {
		h := h.In(t)
		expectSuccess(t, h.Build(dir, "-force", "."))
		expectPresent(t, h.MachinePath("existing", "etc/os-release"), "-force makes a new container")
		expectAbsent(t, h.Path(marker), "-force replaces the old container")
		expectNothingRunning(t, h)
	})
}
