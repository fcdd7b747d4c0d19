//go:build e2e

package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// requiredPlugins is a packer block asking for the plugin at version.
func requiredPlugins(version string) string {
	return fmt.Sprintf(`
packer {
  required_plugins {
    nspawn = {
      version = "%s"
      source  = "%s"
    }
  }
}
`, version, pluginSource)
}

// Packer 1.16 as its users install the plugin: `packer plugins install
// --path` into its default plugin directory, then templates that ask for
// the plugin in required_plugins.
func TestPacker116(t *testing.T) {
	Scenario(t, ModernPacker)
	Packer1_16.Start()
	Packer1_9.Start()
	h := BootHost(t)
	archive := h.baseArchive()
	h.BaseContainer()
	Packer1_16.Need(t)

	plugins := h.defaultPluginDir()
	r := h.packerOf(Packer1_16, "/root", nil, "plugins", "install", "--path", "/plugin/packer-builder-nspawn", pluginSource)
	expectSuccess(t, r)
	installed := installedPlugin(plugins, pluginVersion)
	for _, f := range []string{installed, installed + "_SHA256SUM"} {
		if !exists(h.Path(f)) {
			t.Fatalf("packer plugins install made no %s; it said:\n%s", f, r.out)
		}
	}

	dir := h.Files("p116", map[string]string{
		"p116.pkr.hcl": requiredPlugins(">= "+pluginVersion) + `
variable "mirror" {
  type    = string
  default = ""
}
source "nspawn" "p116-base" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}
source "nspawn" "p116-clone" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
source "nspawn" "p116-import" {
  network = "host"
  import  = "` + archive + `"
  timeout = "60s"
}
build {
  name    = "made"
  sources = ["source.nspawn.p116-base", "source.nspawn.p116-clone", "source.nspawn.p116-import"]
  provisioner "shell" {
    inline = ["echo out-line from $(hostname)", "echo err-line >&2", "echo made $(hostname) > /root/made"]
  }
  provisioner "file" {
    source      = "a b 'c' \"d\" $(touch pwned)"
    destination = "/root/a b 'c' \"d\" $(touch pwned)"
  }
  provisioner "file" {
    source      = "/root/made"
    destination = "${source.name}.made"
    direction   = "download"
  }
}
source "nspawn" "p116-fails" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  name    = "failing"
  sources = ["source.nspawn.p116-fails"]
  provisioner "shell" { inline = ["echo about to fail", "exit 3"] }
}
`,
		weirdName: "weird content\n",
	})

	t.Run("debootstrap, clone and import, in protobuf", func(t *testing.T) {
		log := "/root/p116-packer.log"
		r := h.packerOf(Packer1_16, dir, []string{"PACKER_LOG=1", "PACKER_LOG_PATH=" + log},
			"build", "-var", "mirror="+DebianMirror(), "-only=made.*", ".")
		expectSuccess(t, r)
		for _, name := range []string{"p116-base", "p116-clone", "p116-import"} {
			for _, want := range []string{name + ": out-line from " + name, name + ": err-line"} {
				if !strings.Contains(r.out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			fileContains(t, h.machine(name, "root/"+weirdName), "weird content")
			fileContains(t, h.Path(dir+"/"+name+".made"), "made "+name)
			if exists(h.machine(name, "pwned")) {
				t.Errorf("a file name reached a shell in %s", name)
			}
		}
		if exists(h.Path(dir + "/pwned")) {
			t.Errorf("a file name reached a shell on the host")
		}
		// describe's protocol_version v2 is what keeps Packer from gob.
		fileContains(t, h.Path(log), "start builder --protobuf")
		fileLacks(t, h.Path(log), "forcing use of Gob")
	})

	t.Run("failing provisioner reports its status and cleans up", func(t *testing.T) {
		r := h.packerOf(Packer1_16, dir, nil, "build", "-only=failing.*", ".")
		expectFailure(t, r, "about to fail", "exit status: 3")
		if h.hasImage("p116-fails") {
			t.Errorf("the failed build left its container")
		}
	})

	t.Run("validate errors", func(t *testing.T) {
		bad := h.Files("p116-bad", map[string]string{"bad.pkr.hcl": `
source "nspawn" "bad" {
  import = "/etc/os-release"
  clone  = "base"
}
build { sources = ["source.nspawn.bad"] }
`})
		expectFailure(t, h.packerOf(Packer1_16, bad, nil, "validate", "."), `"import" and "clone" are both set`)
	})

	t.Run("required_plugins no installed version meets", func(t *testing.T) {
		newer := h.Files("p116-newer", map[string]string{"newer.pkr.hcl": requiredPlugins(">= 9.0.0") + `
source "nspawn" "p116-newer" {
  network = "host"
  clone   = "base"
}
build { sources = ["source.nspawn.p116-newer"] }
`})
		images := h.images()
		r := h.packerOf(Packer1_16, newer, nil, "build", ".")
		expectFailure(t, r, "Missing plugins", pluginSource+" >= 9.0.0")
		if now := h.images(); !reflect.DeepEqual(now, images) {
			t.Errorf("images before the refused build: %v; after: %v", images, now)
		}
	})

	// Packer 1.7 to 1.9 read the same layout for required_plugins.
	t.Run("Packer 1.9 with required_plugins, from 1.16's install", func(t *testing.T) {
		Packer1_9.Need(t)
		p19 := h.Files("p19", map[string]string{"p19.pkr.hcl": requiredPlugins(">= "+pluginVersion) + `
source "nspawn" "p19" {
  network = "host"
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.p19"]
  provisioner "shell" { inline = ["echo p19 > /root/p19"] }
  provisioner "file" {
    source      = "p19.pkr.hcl"
    destination = "/root/p19.pkr.hcl"
  }
}
`})
		log := "/root/p19-packer.log"
		r := h.packerOf(Packer1_9, p19, []string{"PACKER_LOG=1", "PACKER_LOG_PATH=" + log}, "build", ".")
		expectSuccess(t, r)
		fileContains(t, h.machine("p19", "root/p19"), "p19")
		fileContains(t, h.machine("p19", "root/p19.pkr.hcl"), `source "nspawn" "p19"`)
		fileContains(t, h.Path(log), "Starting external plugin "+installed)
	})
	h.noMachinesRunning()
}
