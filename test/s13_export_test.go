//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

var exportSuffixes = []string{".tar", ".tar.gz", ".tar.xz", ".tar.zst", ".raw"}

// Export every format, then import each back and find the provisioned file.
func TestExportFormats(t *testing.T) {
	Scenario(t, Long)
	h := BootHost(t)
	h.BaseContainer()
	var exports, sources, refs []string
	for i, suffix := range exportSuffixes {
		exports = append(exports, fmt.Sprintf("%q", "exp"+suffix))
		name := fmt.Sprintf("back-%d", i)
		sources = append(sources, fmt.Sprintf("source \"nspawn\" %q {\n  import  = %q\n  network = \"host\"\n  timeout = \"60s\"\n}\n", name, "exp"+suffix))
		refs = append(refs, fmt.Sprintf("%q", "source.nspawn."+name))
	}
	dir := h.Project("export", map[string]string{"export.pkr.hcl": fmt.Sprintf(`
source "nspawn" "exp" {
  network = "host"
  clone            = "base"
  timeout          = "60s"
  export           = [%s]
  export_ownership = "reset"
  keep_container   = false
}
build {
  name    = "export"
  sources = ["source.nspawn.exp"]
  # xz is the slow format, and its time grows with the tree: the package
  # lists and translations go, and the smaller container still boots.
  provisioner "shell" {
    inline = ["echo exported > /root/marker", "rm -rf /var/lib/apt/lists/* /usr/share/locale/*"]
  }
  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "exports.sha256"
  }
}
%s
build {
  name    = "back"
  sources = [%s]
  provisioner "shell" { inline = ["grep -q exported /root/marker", "echo back in $(hostname)"] }
}
`, strings.Join(exports, ", "), strings.Join(sources, ""), strings.Join(refs, ", "))})

	r := h.packer(dir, "build", "-only=export.*", ".")
	expectSuccess(t, r)
	if h.hasImage("exp") {
		t.Errorf("keep_container = false kept the container")
	}
	for _, suffix := range exportSuffixes {
		checkSHA256(t, h.Path(dir+"/exp"+suffix), h.Path(dir+"/exports.sha256"))
	}
	h.noMachinesRunning()

	r = h.packer(dir, "build", "-only=back.*", ".")
	expectSuccess(t, r)
	for i, suffix := range exportSuffixes {
		if !strings.Contains(r.out, fmt.Sprintf("back in back-%d", i)) {
			t.Errorf("the %s export did not come back with the provisioned file", suffix)
		}
	}
	h.noMachinesRunning()
}
