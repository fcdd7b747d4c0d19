//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Packer v1.9.4 is the newest Packer the Go module proxy serves and the
// last under the MPL. It is built once from the proxy and cached.
var (
	modernOnce sync.Once
	modernErr  error
)

// modernPacker makes sure the cached Packer v1.9.4 binary exists; hosts
// see modernDir as /modern.
func modernPacker(t *testing.T) {
	t.Helper()
	modernOnce.Do(func() {
		if exists(filepath.Join(modernDir, "packer")) {
			return
		}
		modernErr = buildModernPacker()
	})
	if modernErr != nil {
		t.Fatalf("building Packer %s: %v", modernVersion, modernErr)
	}
}

func buildModernPacker() error {
	start := time.Now()
	work, err := os.MkdirTemp(mustMkdir(cacheDir), "packer-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	files := map[string]string{
		"go.mod":   "module packerbuild\n\ngo 1.21\n\nrequire github.com/hashicorp/packer v" + modernVersion + "\n",
		"tools.go": "//go:build tools\n\npackage tools\n\nimport _ \"github.com/hashicorp/packer\"\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	tmp := filepath.Join(mustMkdir(modernDir), "packer.partial")
	for _, argv := range [][]string{
		{"go", "mod", "tidy", "-e"},
		{"go", "build", "-o", tmp, "github.com/hashicorp/packer"},
	} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, lastLines(string(out), 20))
		}
	}
	fmt.Printf("e2e: built Packer %s in %s\n", modernVersion, time.Since(start).Round(time.Second))
	return os.Rename(tmp, filepath.Join(modernDir, "packer"))
}

// modern runs Packer v1.9.4 in dir with the plugin found through
// PACKER_PLUGIN_PATH under its modern name, as its docs say.
func (h *Host) modern(dir string, args ...string) result {
	h.t.Helper()
	h.Run("mkdir", "-p", "/root/modern-plugins")
	h.Run("ln", "-sf", "/plugin/packer-builder-nspawn", "/root/modern-plugins/packer-plugin-nspawn")
	argv := append([]string{"env", "PACKER_PLUGIN_PATH=/root/modern-plugins", "CHECKPOINT_DISABLE=1", "/modern/packer"}, args...)
	return h.runIn(dir, argv...)
}

func TestModernPacker(t *testing.T) {
	Scenario(t)
	modernPacker(t)
	h := BootHost(t)
	archive := h.baseArchive()
	h.BaseContainer()
	dir := h.Project("modern", map[string]string{
		"modern.pkr.hcl": fmt.Sprintf(`
variable "mirror" {
  type    = string
  default = ""
}
source "nspawn" "modern-base" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}
source "nspawn" "modern-clone" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
source "nspawn" "modern-import" {
  network = "host"
  import  = %q
  timeout = "60s"
}
build {
  sources = ["source.nspawn.modern-base", "source.nspawn.modern-clone", "source.nspawn.modern-import"]
  provisioner "shell" { inline = ["echo modern $(hostname) > /root/modern"] }
  provisioner "file" {
    source      = "modern.pkr.hcl"
    destination = "/root/uploaded.pkr.hcl"
  }
}
source "nspawn" "modern-fails" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  name    = "failing"
  sources = ["source.nspawn.modern-fails"]
  provisioner "shell" { inline = ["exit 3"] }
}
`, archive),
	})

	t.Run("version", func(t *testing.T) {
		r := h.modern(dir, "version")
		expectSuccess(t, r)
		if !strings.Contains(r.out, "Packer v"+modernVersion) {
			t.Errorf("not Packer %s: %s", modernVersion, r.out)
		}
	})
	t.Run("base clone import", func(t *testing.T) {
		r := h.modern(dir, "build", "-var", "mirror="+DebianMirror(), "-only=*.modern-base,*.modern-clone,*.modern-import", ".")
		expectSuccess(t, r)
		for _, name := range []string{"modern-base", "modern-clone", "modern-import"} {
			fileContains(t, h.machine(name, "root/modern"), "modern "+name)
			fileContains(t, h.machine(name, "root/uploaded.pkr.hcl"), "modern-fails")
		}
	})
	t.Run("failure", func(t *testing.T) {
		r := h.modern(dir, "build", "-only=failing.*", ".")
		expectFailure(t, r, "exit status: 3")
		if h.hasImage("modern-fails") {
			t.Errorf("the failed build left its container")
		}
	})
	t.Run("required_plugins, installed by hand", func(t *testing.T) {
		// packer init needs the network; a plugin laid out the way it
		// installs one works offline.
		name := "packer-plugin-nspawn_v" + pluginVersion + "_x5.0_linux_amd64"
		inside := "/root/rp-plugins/github.com/example/nspawn/"
		h.Run("mkdir", "-p", inside)
		h.Run("cp", "/plugin/packer-builder-nspawn", inside+name)
		binary, err := os.ReadFile(filepath.Join(pluginDir, "packer-builder-nspawn"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(binary)
		if err := os.WriteFile(h.Path(inside+name+"_SHA256SUM"), []byte(hex.EncodeToString(sum[:])), 0o644); err != nil {
			t.Fatal(err)
		}
		rp := h.Project("modern-rp", map[string]string{"rp.pkr.hcl": `
packer {
  required_plugins {
    nspawn = {
      version = ">= ` + pluginVersion + `"
      source  = "github.com/example/nspawn"
    }
  }
}
source "nspawn" "modern-rp" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.modern-rp"]
  provisioner "shell" { inline = ["echo rp > /root/rp"] }
}
`})
		r := h.runIn(rp, "env", "PACKER_PLUGIN_PATH=/root/rp-plugins", "CHECKPOINT_DISABLE=1", "/modern/packer", "build", ".")
		expectSuccess(t, r)
		fileContains(t, h.machine("modern-rp", "root/rp"), "rp")
	})
	t.Run("bad config", func(t *testing.T) {
		bad := h.Project("modern-bad", map[string]string{"bad.pkr.hcl": `
source "nspawn" "bad" {
  network = "host"
  import = "/nonexistent.tar"
  clone  = "base"
}
build { sources = ["source.nspawn.bad"] }
`})
		expectFailure(t, h.modern(bad, "validate", "."), `"import" and "clone" are both set`)
	})
	h.noMachinesRunning()
}
