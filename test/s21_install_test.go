//go:build e2e

package e2e

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// cloneTemplate is a template of one clone of base per name, each
// provisioned with a command and an upload, for checking that a Packer
// found the plugin where an install put it.
func cloneTemplate(names ...string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(`
source "nspawn" "` + name + `" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.` + name + `"]
  provisioner "shell" { inline = ["echo made $(hostname) > /root/made"] }
  provisioner "file" {
    source      = "installed.pkr.hcl"
    destination = "/root/uploaded.pkr.hcl"
  }
}
`)
	}
	return b.String()
}

// checkClone fails the test unless the clone name was built and
// provisioned.
func (h *Host) checkClone(t *testing.T, name string) {
	t.Helper()
	fileContains(t, h.machine(name, "root/made"), "made "+name)
	fileContains(t, h.machine(name, "root/uploaded.pkr.hcl"), `source "nspawn" "`+name+`"`)
}

// The README's install from source: make install puts the plugin in
// ~/.packer.d/plugins where every Packer line finds it.
func TestMakeInstall(t *testing.T) {
	Scenario(t, ModernPacker)
	Packer1_9.Start()
	Packer1_16.Start()
	h := BootHost(t)
	h.BaseContainer()
	src := h.CopySource()

	// Debian's packer, first on the PATH, has no `plugins install`: make
	// lays the plugin out for Packer >= 1.10 itself.
	expectSuccess(t, h.runIn(src, makeArgv(nil, "install")...))
	version := strings.TrimSpace(h.Run(src+"/packer-builder-nspawn", "--version"))
	plugins := "/root/.packer.d/plugins"
	layout := installedPlugin(plugins, version)
	for _, f := range []string{plugins + "/packer-builder-nspawn", plugins + "/packer-plugin-nspawn", layout, layout + "_SHA256SUM"} {
		if !exists(h.Path(f)) {
			t.Errorf("make install made no %s", f)
		}
	}
	dir := h.Files("installed", map[string]string{
		"installed.pkr.hcl": cloneTemplate("by-debian", "by-1-9", "by-1-16", "by-1-16-install"),
	})
	log := "/root/installed-packer.log"
	withLog := []string{"PACKER_LOG=1", "PACKER_LOG_PATH=" + log}

	t.Run("Debian's packer finds packer-builder-nspawn", func(t *testing.T) {
		expectSuccess(t, h.packer(dir, "build", "-only=*.by-debian", "."))
		h.checkClone(t, "by-debian")
	})
	t.Run("Packer 1.9 finds packer-plugin-nspawn", func(t *testing.T) {
		Packer1_9.Need(t)
		expectSuccess(t, h.packerOf(Packer1_9, dir, withLog, "build", "-only=*.by-1-9", "."))
		h.checkClone(t, "by-1-9")
		fileContains(t, h.Path(log), "Starting external plugin "+plugins+"/packer-plugin-nspawn start builder")
	})
	t.Run("Packer 1.16 finds the layout make wrote", func(t *testing.T) {
		Packer1_16.Need(t)
		expectSuccess(t, h.packerOf(Packer1_16, dir, withLog, "build", "-only=*.by-1-16", "."))
		h.checkClone(t, "by-1-16")
		fileContains(t, h.Path(log), "Starting external plugin "+layout+" start builder --protobuf")
	})
	t.Run("PACKER=packer-1.16 make install", func(t *testing.T) {
		Packer1_16.Need(t)
		h.Run("rm", "-r", plugins+"/github.com")
		r := h.runIn(src, makeArgv([]string{"PACKER=" + Packer1_16.Path()}, "install")...)
		expectSuccess(t, r)
		if !strings.Contains(r.out, "Successfully installed plugin "+pluginSource) {
			t.Errorf("make install did not call packer plugins install:\n%s", lastLines(r.out, 20))
		}
		expectSuccess(t, h.packerOf(Packer1_16, dir, withLog, "build", "-only=*.by-1-16-install", "."))
		h.checkClone(t, "by-1-16-install")
		fileContains(t, h.Path(log), "Starting external plugin "+layout+" start builder --protobuf")
	})
	h.noMachinesRunning()
}

// What users download: the Debian package (make deb), on a Debian 13 host
// with bookworm's packer, and a release's zip (make release).
func TestPackages(t *testing.T) {
	Scenario(t, OnDebian13, ModernPacker)
	Packer1_16.Start()
	DebPackage.Start()
	ReleaseZips.Start()
	h := BootHostOf(t, Debian13)
	h.BaseContainer()
	dir := h.Files("installed", map[string]string{
		"installed.pkr.hcl": cloneTemplate("deb-by-debian", "deb-by-1-16", "zip-by-1-16"),
	})
	Packer1_16.Need(t)

	t.Run("Debian package", func(t *testing.T) {
		deb := filepath.Join(DebPackage.Need(t), "packer-builder-nspawn_"+pluginVersion+"_"+runtime.GOARCH+".deb")
		h.Run("dpkg", "-i", inHost(deb))
		expectSuccess(t, h.packer(dir, "build", "-only=*.deb-by-debian", "."))
		h.checkClone(t, "deb-by-debian")
		expectSuccess(t, h.packerOf(Packer1_16, dir, []string{"PACKER_PLUGIN_PATH=/usr/lib/packer/plugins"},
			"build", "-only=*.deb-by-1-16", "."))
		h.checkClone(t, "deb-by-1-16")

		h.Run("dpkg", "-r", "packer-builder-nspawn")
		for _, f := range []string{"/usr/bin/packer-builder-nspawn", "/usr/lib/packer"} {
			if exists(h.Path(f)) {
				t.Errorf("dpkg -r left %s", f)
			}
		}
	})

	t.Run("release zip", func(t *testing.T) {
		dist := ReleaseZips.Need(t)
		checkReleaseSums(t, dist)
		binary := pluginFile(pluginVersion, runtime.GOARCH)
		zipFile := filepath.Join(dist, binary+".zip")
		if names := zipNames(t, zipFile); len(names) != 1 || names[0] != binary {
			t.Fatalf("%s holds %v; want %s alone", zipFile, names, binary)
		}
		h.Run("unzip", "-d", "/root/download", inHost(zipFile))
		r := h.packerOf(Packer1_16, "/root", nil, "plugins", "install", "--path", "/root/download/"+binary, pluginSource)
		expectSuccess(t, r)
		expectSuccess(t, h.packerOf(Packer1_16, dir, nil, "build", "-only=*.zip-by-1-16", "."))
		h.checkClone(t, "zip-by-1-16")
	})
	h.noMachinesRunning()
}

// checkReleaseSums checks that the release's SHA256SUMS lists each of its
// zips, for every architecture, with the zip's SHA-256.
func checkReleaseSums(t *testing.T, dist string) {
	t.Helper()
	sums, err := os.ReadFile(filepath.Join(dist, "packer-plugin-nspawn_v"+pluginVersion+"_SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			listed[f[1]] = f[0]
		} else {
			t.Errorf("SHA256SUMS line %q is not a checksum and a name", line)
		}
	}
	zips, _ := filepath.Glob(filepath.Join(dist, "*.zip"))
	for _, arch := range []string{"amd64", "arm64"} {
		name := pluginFile(pluginVersion, arch) + ".zip"
		if !exists(filepath.Join(dist, name)) {
			t.Errorf("make release made no %s", name)
		}
	}
	if len(listed) != len(zips) {
		t.Errorf("SHA256SUMS lists %d files; make release made %d zips: %v", len(listed), len(zips), zips)
	}
	for _, z := range zips {
		body, err := os.ReadFile(z)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if got := listed[filepath.Base(z)]; got != hex.EncodeToString(sum[:]) {
			t.Errorf("SHA256SUMS gives %s %q; its SHA-256 is %x", filepath.Base(z), got, sum)
		}
	}
}

// zipNames lists the files in a zip.
func zipNames(t *testing.T, file string) []string {
	t.Helper()
	r, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	return names
}
