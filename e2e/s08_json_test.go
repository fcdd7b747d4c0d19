//go:build e2e

package e2e

import (
	"testing"
)

const jsonTemplate = `{
  "builders": [{
    "type": "nspawn",
    "name": "jsonbox",
    "import": "` + hostShareDir + `/base.tar.zst",
    "timeout": "60s"
  }],
  "provisioners": [{
    "type": "shell",
    "inline": ["hostname > /root/hostname.txt"]
  }]
}
`

// A legacy JSON template drives the same builder; its "name" names the
// container.
func TestLegacyJSONTemplate(t *testing.T) {
	scenario(t)
	baseImage(t)
	h := bootHost(t)
	dir := h.Project("json", map[string]string{"template.json": jsonTemplate})
	expectSuccess(t, h.Build(dir, "template.json"))
	expectFile(t, h.MachinePath("jsonbox", "root/hostname.txt"), "jsonbox\n")
	expectNothingRunning(t, h)
}
