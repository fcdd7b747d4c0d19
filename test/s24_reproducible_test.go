//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
)

// Two builds of one template from the same mirror state, minutes apart,
// export the same bytes, with either bootstrapper, a provisioner's apt
// run included; the bases have packages and components of their own
// (nginx-light runs in the build's boot and logs), and SBOMs.
func TestReproducibleExports(t *testing.T) {
	Scenario(t, Long, WithoutBase)
	h := BootHost(t)
	dir := h.Project("repro", map[string]string{"repro.pkr.hcl": `
variable "mirror" { type = string }
variable "round" { type = string }
source "nspawn" "repro-deb" {
  network      = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  reproducible = true
  packages     = ["nginx-light", "curl"]
  components   = ["main", "contrib"]
  timeout      = "90s"
  export       = ["deb-${var.round}.tar", "deb-${var.round}.tar.zst", "deb-${var.round}.raw"]
  sbom         = ["deb-${var.round}.spdx.json", "deb-${var.round}.cdx.json"]
}
source "nspawn" "repro-mm" {
  network      = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  bootstrapper = "mmdebstrap"
  reproducible = true
  packages     = ["nginx-light", "curl"]
  components   = ["main", "contrib"]
  timeout      = "90s"
  export       = ["mm-${var.round}.tar", "mm-${var.round}.tar.zst", "mm-${var.round}.raw"]
  sbom         = ["mm-${var.round}.spdx.json", "mm-${var.round}.cdx.json"]
}
build {
  sources = ["source.nspawn.repro-deb", "source.nspawn.repro-mm"]
  provisioner "shell" { inline = ["apt-get install -y -q hello", "hello"] }
}`})
	// The second round starts when the first ends, minutes after it began.
	for _, round := range []string{"1", "2"} {
		r := h.packer(dir, "build", "-force", "-var", "mirror="+DebianMirror(), "-var", "round="+round, ".")
		expectSuccess(t, r)
	}
	for _, tool := range []string{"deb", "mm"} {
		for _, suffix := range []string{".tar", ".tar.zst", ".raw", ".spdx.json", ".cdx.json"} {
			first, second := h.Path(dir+"/"+tool+"-1"+suffix), h.Path(dir+"/"+tool+"-2"+suffix)
			a, b := sha256File(t, first), sha256File(t, second)
			if a == b {
				t.Logf("%s%s: both builds %s", tool, suffix, a)
				continue
			}
			t.Errorf("%s%s differs between the builds: %s and %s\n%s", tool, suffix, a, b, diffoscope(first, second))
		}
	}
	// Each SBOM lists what dpkg has installed, the provisioner's hello too;
	// the packages option's come with no provisioner.
	for _, name := range []string{"deb", "mm"} {
		checkSBOMs(t, h, "repro-"+name, h.Path(dir+"/"+name+"-2"))
		checkPackagesAndComponents(t, h, "repro-"+name)
	}
	// The export is an image: imported back, it boots, and holds what the
	// provisioner installed and the modes dpkg set (passwd is setuid). The SBOM of an import
	// and of a clone lists what they hold.
	back := h.Project("repro-back", map[string]string{"back.pkr.hcl": `
source "nspawn" "repro-back" {
  network = "host"
  import  = "` + dir + `/deb-1.tar.zst"
  timeout = "60s"
  sbom    = ["back.spdx.json", "back.cdx.json"]
}
source "nspawn" "repro-clone" {
  network = "host"
  clone   = "repro-mm"
  timeout = "60s"
  sbom    = ["clone.spdx.json", "clone.cdx.json"]
}
build {
  sources = ["source.nspawn.repro-back"]
  provisioner "shell" {
    environment_vars = ["DOLLARS=a$b$${c}"]
    inline = [
      "hello",
      "test -u /usr/bin/passwd || { ls -l /usr/bin/passwd; exit 1; }",
      "test \"$DOLLARS\" = 'a$b$${c}' || { echo \"environment_vars arrived as $DOLLARS\"; exit 1; }",
    ]
  }
}
build {
  sources = ["source.nspawn.repro-clone"]
  provisioner "shell" { inline = ["apt-get install -y -q tree"] }
}`})
	expectSuccess(t, h.packer(back, "build", "."))
	checkSBOMs(t, h, "repro-back", h.Path(back+"/back"))
	checkSBOMs(t, h, "repro-clone", h.Path(back+"/clone"))
	h.noMachinesRunning()
}

// checkSBOMs checks that both SBOMs at prefix (.spdx.json, .cdx.json)
// parse with their formats' libraries and list exactly the packages dpkg
// has installed in the container name, name for name and version for
// version.
func checkSBOMs(t *testing.T, h *Host, name, prefix string) {
	t.Helper()
	out := h.Run("chroot", "/var/lib/machines/"+name, "dpkg-query", "-W", "-f", "${db:Status-Status} ${Package} ${Version}\n")
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "installed" {
			want = append(want, f[1]+" "+f[2])
		}
	}
	sort.Strings(want)
	if !slices.Contains(want, "hello "+versionOf(want, "hello")) || len(want) < 80 {
		t.Errorf("%s: dpkg lists %d packages, hello not among them", name, len(want))
	}

	spdxFile, err := os.Open(prefix + ".spdx.json")
	if err != nil {
		t.Fatal(err)
	}
	defer spdxFile.Close()
	doc, err := spdxjson.Read(spdxFile)
	if err != nil {
		t.Fatalf("%s.spdx.json does not parse: %v", prefix, err)
	}
	var spdxPackages []string
	for _, p := range doc.Packages {
		if p.PrimaryPackagePurpose == "CONTAINER" {
			if p.PackageName != name {
				t.Errorf("%s.spdx.json: the image is named %q", prefix, p.PackageName)
			}
			continue
		}
		spdxPackages = append(spdxPackages, p.PackageName+" "+p.PackageVersion)
	}
	sort.Strings(spdxPackages)
	if !slices.Equal(spdxPackages, want) {
		t.Errorf("%s.spdx.json lists other packages than dpkg:\n%s", prefix, listDiff(spdxPackages, want))
	}

	cdxFile, err := os.Open(prefix + ".cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	defer cdxFile.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(cdxFile, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("%s.cdx.json does not parse: %v", prefix, err)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil || bom.Metadata.Component.Name != name || bom.Components == nil {
		t.Fatalf("%s.cdx.json: no image or no components", prefix)
	}
	var cdxPackages []string
	for _, c := range *bom.Components {
		cdxPackages = append(cdxPackages, c.Name+" "+c.Version)
	}
	sort.Strings(cdxPackages)
	if !slices.Equal(cdxPackages, want) {
		t.Errorf("%s.cdx.json lists other packages than dpkg:\n%s", prefix, listDiff(cdxPackages, want))
	}
}

func versionOf(list []string, name string) string {
	for _, l := range list {
		if n, v, _ := strings.Cut(l, " "); n == name {
			return v
		}
	}
	return ""
}

// listDiff is what one list has and the other lacks.
func listDiff(got, want []string) string {
	var b strings.Builder
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("  only in the SBOM: " + g + "\n")
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("  only in dpkg: " + w + "\n")
		}
	}
	return b.String()
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// diffoscope says what differs between two files, on the machine, where
// .ci/run installs it; its first lines name the files that differ.
func diffoscope(a, b string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "diffoscope", "--no-progress", "--text", "-", "--max-text-report-size", "60000", a, b)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		return "diffoscope: " + err.Error()
	}
	lines := strings.SplitAfter(out.String(), "\n")
	return "diffoscope says:\n" + strings.Join(lines[:min(len(lines), 200)], "")
}
