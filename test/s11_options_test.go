//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The seed options not covered elsewhere, end to end: machines_dir and
// cache_dir of one's own, import from a URL with each verify mode.
func TestOwnDirectories(t *testing.T) {
	Scenario(t, WithoutBase)
	h := BootHost(t)
	h.Run("mkdir", "-p", "/srv/machines", "/srv/apt-cache", "/srv/small")
	h.Run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", "/srv/small")
	dir := h.Project("dirs", map[string]string{"dirs.pkr.hcl": `
variable "mirror" { type = string }
source "nspawn" "own-dirs" {
  network = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  machines_dir = "/srv/machines"
  cache_dir    = "/srv/apt-cache"
  timeout      = "60s"
}
source "nspawn" "disk-full" {
  network = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  machines_dir = "/srv/small"
  timeout      = "60s"
}
build {
  sources = ["source.nspawn.own-dirs", "source.nspawn.disk-full"]
  provisioner "shell" { inline = ["hostname > /root/me"] }
}
`})
	t.Run("machines_dir and cache_dir", func(t *testing.T) {
		r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), "-only=*.own-dirs", ".")
		expectSuccess(t, r)
		fileContains(t, h.Path("/srv/machines/own-dirs/root/me"), "own-dirs")
		if exists(h.Path("/run/machines/own-dirs")) {
			t.Errorf("the build left its /run/machines link")
		}
		// cache_dir started empty: debootstrap keeps what it downloads there.
		if debs, _ := filepath.Glob(h.Path("/srv/apt-cache/systemd-resolved_*.deb")); len(debs) == 0 {
			t.Errorf("debootstrap kept nothing in cache_dir")
		}
		h.noMachinesRunning()
	})
	t.Run("machines_dir runs out of space", func(t *testing.T) {
		r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), "-only=*.disk-full", ".")
		expectFailure(t, r, "debootstrap of suite \"bookworm\"")
		if entries, _ := os.ReadDir(h.Path("/srv/small")); len(entries) > 0 {
			t.Errorf("the failed build left %v in /srv/small", entries)
		}
		h.noMachinesRunning()
		h.noToolsRunning()
	})
}

func TestImportFromURL(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.baseArchive()
	// Debian 12's importd reads gzip, xz and bzip2 but not zstd.
	archive := filepath.Join(t.TempDir(), "base.tar.gz")
	if err := recompress(filepath.Join(sharedDir, "base.tar.zst"), archive); err != nil {
		t.Fatalf("making base.tar.gz: %v", err)
	}
	body, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	// The host shares this machine's network, so it reaches a server on
	// this machine's loopback.
	// Each build pulls its own URL: importd keeps a hidden copy per URL
	// and, without an ETag from the server, cannot reuse it.
	mux := http.NewServeMux()
	for _, d := range []string{"/a/", "/b/"} {
		mux.HandleFunc(d+"base.tar.gz", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, archive) })
		mux.HandleFunc(d+"SHA256SUMS", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(hex.EncodeToString(sum[:]) + " *base.tar.gz\n"))
		})
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: mux}
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(func() { server.Close() })
	base := "http://" + listener.Addr().String()

	dir := h.Project("url", map[string]string{"url.pkr.hcl": `
source "nspawn" "from-url" {
  network = "host"
  import        = "` + base + `/a/base.tar.gz"
  import_verify = "no"
  timeout       = "60s"
}
source "nspawn" "from-url-checked" {
  network = "host"
  import        = "` + base + `/b/base.tar.gz"
  import_verify = "checksum"
  timeout       = "60s"
}
source "nspawn" "unreachable" {
  network = "host"
  import        = "http://127.0.0.1:1/base.tar"
  import_verify = "no"
  timeout       = "60s"
}
build {
  sources = ["source.nspawn.from-url", "source.nspawn.from-url-checked", "source.nspawn.unreachable"]
  provisioner "shell" { inline = ["hostname > /root/me"] }
}
`})
	images := h.images()
	for _, name := range []string{"from-url", "from-url-checked"} {
		t.Run(name, func(t *testing.T) {
			r := h.packer(dir, "build", "-only=*."+name, ".")
			expectSuccess(t, r)
			fileContains(t, h.machine(name, "root/me"), name)
			h.Run("machinectl", "remove", name)
		})
	}
	t.Run("unreachable URL", func(t *testing.T) {
		r := h.packer(dir, "build", "-only=*.unreachable", ".")
		expectFailure(t, r, "import http://127.0.0.1:1/base.tar")
		h.leftAsFound(images, "unreachable")
	})
}

// recompress turns a .tar.zst into a .tar.gz through a pipe.
func recompress(zst, gz string) error {
	out, err := os.Create(gz)
	if err != nil {
		return err
	}
	defer out.Close()
	unzstd := exec.Command("zstd", "-q", "-dc", "--", zst)
	gzip := exec.Command("gzip", "-1")
	pipe, err := unzstd.StdoutPipe()
	if err != nil {
		return err
	}
	gzip.Stdin, gzip.Stdout = pipe, out
	if err := unzstd.Start(); err != nil {
		return err
	}
	if err := gzip.Run(); err != nil {
		return err
	}
	return unzstd.Wait()
}
