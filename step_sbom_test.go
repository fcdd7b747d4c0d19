package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	spdxcommon "github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

// cannedDpkg is dpkg-query's answer in the fake container: what the
// bootstrapper installed, what a provisioner added (nginx-light), and two
// packages that are not installed.
const cannedDpkg = "install ok installed\tbase-files\t12.4+deb12u5\tamd64\t\n" +
	"install ok installed\tbash\t5.2.15-2+b2\tamd64\tbash (5.2.15-2)\n" +
	"install ok installed\tbsdutils\t1:2.38.1-5+b1\tamd64\tutil-linux (2.38.1-5)\n" +
	"install ok installed\tgcc-12-base\t12.2.0-14\tamd64\tgcc-12\n" +
	"install ok installed\tlibc6\t2.36-9+deb12u4\tamd64\tglibc\n" +
	"install ok installed\tlibc6\t2.36-9+deb12u4\ti386\tglibc\n" +
	"install ok installed\tlibstdc++6\t12.2.0-14\tamd64\tgcc-12\n" +
	"install ok installed\tmawk\t1.3.4.20200120-3.1\tamd64\t\n" +
	"hold ok installed\tnginx-light\t1.22.1-9\tall\tnginx\n" +
	"install ok installed\ttzdata\t2024a-0+deb12u1\tall\t\n" +
	"deinstall ok config-files\told-daemon\t1.0-1\tamd64\t\n" +
	"unknown ok not-installed\tnever-there\t\t\t\n"

// wantPackages are the installed ones, "name version arch".
var wantPackages = []string{
	"base-files 12.4+deb12u5 amd64", "bash 5.2.15-2+b2 amd64", "bsdutils 1:2.38.1-5+b1 amd64",
	"gcc-12-base 12.2.0-14 amd64", "libc6 2.36-9+deb12u4 amd64", "libc6 2.36-9+deb12u4 i386",
	"libstdc++6 12.2.0-14 amd64", "mawk 1.3.4.20200120-3.1 amd64", "nginx-light 1.22.1-9 all",
	"tzdata 2024a-0+deb12u1 all",
}

const cannedOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`

// cannedCopyrights are the container's /usr/share/doc/*/copyright:
// tzdata has none, mawk's is free text, libstdc++6's is gcc-12-base's
// (tar sends it as a hard link).
const gccCopyright = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n" +
	"Files: *\nLicense: GPL-3+ with GCC-Runtime-3.1 exception\n"

var cannedCopyrights = map[string]string{
	"base-files":  "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: Santiago Vila\nLicense: GPL-2+\n",
	"bash":        bashCopyright,
	"bsdutils":    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1+\n\nFiles: misc/*\nLicense: BSD-3-clause or public-domain\n",
	"gcc-12-base": gccCopyright,
	"libstdc++6":  gccCopyright,
	"libc6":       "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: LGPL-2.1+\n\nFiles: debian/*\nLicense: GPL-2+\n",
	"mawk":        oldCopyright,
	"nginx-light": mixedCopyright,
}

var wantLicenses = map[string]string{
	"base-files":  "GPL-2.0-or-later",
	"bash":        "GPL-3.0-or-later",
	"bsdutils":    "GPL-2.0-or-later AND LGPL-2.1-or-later AND (BSD-3-Clause OR LicenseRef-public-domain)",
	"gcc-12-base": "GPL-3.0-or-later WITH GCC-exception-3.1",
	"libc6":       "LGPL-2.1-or-later AND GPL-2.0-or-later",
	"libstdc++6":  "GPL-3.0-or-later WITH GCC-exception-3.1",
	"mawk":        noAssertion,
	"nginx-light": dep5Licenses([]byte(mixedCopyright)),
	"tzdata":      noAssertion,
}

var wantPurls = map[string]string{
	"base-files 12.4+deb12u5 amd64": "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12",
	"bash 5.2.15-2+b2 amd64":        "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
	"bsdutils 1:2.38.1-5+b1 amd64":  "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5",
	"libc6 2.36-9+deb12u4 i386":     "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=i386&distro=debian-12&upstream=glibc",
	"libstdc++6 12.2.0-14 amd64":    "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12",
	"nginx-light 1.22.1-9 all":      "pkg:deb/debian/nginx-light@1.22.1-9?arch=all&distro=debian-12&upstream=nginx",
	"tzdata 2024a-0+deb12u1 all":    "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
	"mawk 1.3.4.20200120-3.1 amd64": "pkg:deb/debian/mawk@1.3.4.20200120-3.1?arch=amd64&distro=debian-12",
	"gcc-12-base 12.2.0-14 amd64":   "pkg:deb/debian/gcc-12-base@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12",
	"libc6 2.36-9+deb12u4 amd64":    "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc",
}

// fakeContainer answers the SBOM step's commands as a Debian 12
// container would; a test changes its fields to make it answer otherwise.
type fakeContainer struct {
	dpkg       string
	osRelease  map[string]string // by path; a path not there fails as cat does
	copyrights map[string]string
	tarCode    int
	// tarNames are the names tar was asked for.
	tarNames []string
}

func newFakeContainer() *fakeContainer {
	return &fakeContainer{dpkg: cannedDpkg, osRelease: map[string]string{"/etc/os-release": cannedOSRelease},
		copyrights: cannedCopyrights}
}

func (c *fakeContainer) exec(req execRequest) (int, error) {
	switch req.Argv[0] {
	case "/usr/bin/dpkg-query":
		_, err := io.WriteString(req.Stdout, c.dpkg)
		return 0, err
	case "/bin/cat":
		text, ok := c.osRelease[req.Argv[len(req.Argv)-1]]
		if !ok {
			fmt.Fprintf(req.Stderr, "cat: %s: No such file or directory\n", req.Argv[len(req.Argv)-1])
			return 1, nil
		}
		_, err := io.WriteString(req.Stdout, text)
		return 0, err
	case "/bin/tar":
		stdin, err := io.ReadAll(req.Stdin)
		if err != nil {
			return -1, err
		}
		c.tarNames = strings.Split(strings.TrimSuffix(string(stdin), "\x00"), "\x00")
		tw := tar.NewWriter(req.Stdout)
		sent := map[string]string{} // a file's text to the name it went under
		for _, name := range c.tarNames {
			text, ok := c.copyrights[strings.TrimSuffix(name, "/copyright")]
			if !ok {
				fmt.Fprintf(req.Stderr, "tar: %s: Cannot stat: No such file or directory\n", name)
				continue
			}
			if first, ok := sent[text]; ok && strings.HasPrefix(name, "libstdc++6/") {
				err = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: first, Mode: 0o644})
			} else {
				sent[text] = name
				err = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(text)), Mode: 0o644})
				if err == nil {
					_, err = io.WriteString(tw, text)
				}
			}
			if err != nil {
				return -1, err
			}
		}
		return c.tarCode, tw.Close()
	}
	return 127, fmt.Errorf("unexpected command %q", req.Argv)
}

// runSBOMStep runs the step in a fake Debian 12 container, writing paths.
func runSBOMStep(t *testing.T, c *fakeContainer, paths ...string) (*stepSBOM, multistep.StateBag, *fakeHost) {
	t.Helper()
	cfg := testConfig(t, "sbom", paths, "suite", "bookworm")
	state, f, out := testState(t, cfg)
	f.exec = c.exec
	// As stepSourceDate leaves it for a reproducible build.
	if epoch, err := sourceDateFromEnv(); err != nil {
		t.Fatal(err)
	} else if epoch != nil {
		state.Put(stateSourceDate, *epoch)
	}
	step := &stepSBOM{}
	if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	return step, state, f
}

func TestSBOMStepWritesBothFormats(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := t.TempDir()
	spdxPath, cdxPath := filepath.Join(dir, "web.spdx.json"), filepath.Join(dir, "web.cdx.json")
	c := newFakeContainer()
	_, state, f := runSBOMStep(t, c, spdxPath, cdxPath)

	if got := state.Get(stateSBOM); !reflect.DeepEqual(got, []string{spdxPath, cdxPath}) {
		t.Errorf("SBOM files %q; want %q", got, []string{spdxPath, cdxPath})
	}
	// The commands, as the container runs them: fixed argvs, nothing of
	// the user's in them.
	assertCalls(t, f,
		"exec web /usr/bin/dpkg-query --show --showformat=${Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${Source}\\n",
		"exec web /bin/cat -- /etc/os-release",
		"exec web /bin/tar --create --file=- --dereference --ignore-failed-read --directory=/usr/share/doc --null --files-from=-")
	assertNoCall(t, f, "exec web /bin/cat -- /usr/lib/os-release")
	wantNames := []string{"base-files/copyright", "bash/copyright", "bsdutils/copyright", "gcc-12-base/copyright",
		"libc6/copyright", "libstdc++6/copyright", "mawk/copyright", "nginx-light/copyright", "tzdata/copyright"}
	if !reflect.DeepEqual(c.tarNames, wantNames) {
		t.Errorf("tar was asked for %q; want %q", c.tarNames, wantNames)
	}

	t.Run("spdx", func(t *testing.T) { checkSPDX(t, spdxPath) })
	t.Run("cyclonedx", func(t *testing.T) { checkCycloneDX(t, cdxPath) })
}

func checkSPDX(t *testing.T, path string) {
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	doc, err := spdxjson.Read(file)
	if err != nil {
		t.Fatalf("spdx json.Read: %v", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" ||
		!strings.HasPrefix(doc.DocumentNamespace, "https://spdx.org/spdxdocs/packer-builder-nspawn/web-") {
		t.Errorf("version %q, created %q, namespace %q", doc.SPDXVersion, doc.CreationInfo.Created, doc.DocumentNamespace)
	}
	if len(doc.CreationInfo.Creators) != 1 || doc.CreationInfo.Creators[0].Creator != "packer-builder-nspawn-"+version() {
		t.Errorf("creators %+v; want the plugin and its version", doc.CreationInfo.Creators)
	}
	var root spdxcommon.ElementID
	var got []string
	byID := map[spdxcommon.ElementID]string{}
	for _, p := range doc.Packages {
		if p.PrimaryPackagePurpose == "CONTAINER" {
			root = p.PackageSPDXIdentifier
			if p.PackageName != "web" || !strings.Contains(p.PackageComment, "bootstrapper debootstrap, suite bookworm") {
				t.Errorf("image package: name %q comment %q", p.PackageName, p.PackageComment)
			}
			continue
		}
		key := p.PackageName + " " + p.PackageVersion + " " + purlQualifier(t, p.PackageExternalReferences[0].Locator, "arch")
		got = append(got, key)
		byID[p.PackageSPDXIdentifier] = key
		if p.PackageLicenseDeclared != wantLicenses[p.PackageName] {
			t.Errorf("%s: licenseDeclared %q; want %q", key, p.PackageLicenseDeclared, wantLicenses[p.PackageName])
		}
		if ref := p.PackageExternalReferences[0]; ref.Category != "PACKAGE-MANAGER" || ref.RefType != "purl" || ref.Locator != wantPurls[key] {
			t.Errorf("%s: external ref %+v; want purl %q", key, ref, wantPurls[key])
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, wantPackages) {
		t.Errorf("packages:\n got %q\nwant %q", got, wantPackages)
	}
	// The document describes the image, which contains every package.
	contained := map[string]bool{}
	describes := false
	for _, r := range doc.Relationships {
		switch {
		case r.Relationship == "DESCRIBES" && r.RefA.ElementRefID == "DOCUMENT" && r.RefB.ElementRefID == root:
			describes = true
		case r.Relationship == "CONTAINS" && r.RefA.ElementRefID == root:
			contained[byID[r.RefB.ElementRefID]] = true
		}
	}
	if !describes || len(contained) != len(wantPackages) {
		t.Errorf("relationships: image %q described %v, contains %d packages; want true, %d", root, describes, len(contained), len(wantPackages))
	}
	var refs []string
	for _, l := range doc.OtherLicenses {
		refs = append(refs, l.LicenseIdentifier)
	}
	wantRefs := []string{"LicenseRef-GPL-2-plus-with-OpenSSL-exception", "LicenseRef-public-domain"}
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Errorf("extracted licenses %q; want every LicenseRef used, %q", refs, wantRefs)
	}
}

func checkCycloneDX(t *testing.T, path string) {
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(file, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("cyclonedx decode: %v", err)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") ||
		bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("spec %v, serial %q, timestamp %q", bom.SpecVersion, bom.SerialNumber, bom.Metadata.Timestamp)
	}
	if tools := bom.Metadata.Tools; tools == nil || tools.Components == nil || (*tools.Components)[0].Name != "packer-builder-nspawn" ||
		(*tools.Components)[0].Version != version() {
		t.Errorf("tools %+v; want the plugin and its version", tools)
	}
	root := bom.Metadata.Component
	props := map[string]string{}
	for _, p := range *root.Properties {
		props[p.Name] = p.Value
	}
	if root.Type != cdx.ComponentTypeContainer || root.Name != "web" ||
		props["packer-builder-nspawn:suite"] != "bookworm" || props["packer-builder-nspawn:bootstrapper"] != "debootstrap" {
		t.Errorf("metadata.component %+v, properties %v; want the container web, suite and bootstrapper", root, props)
	}
	var got []string
	for _, c := range *bom.Components {
		key := c.Name + " " + c.Version + " " + purlQualifier(t, c.PackageURL, "arch")
		got = append(got, key)
		if c.PackageURL != wantPurls[key] || c.BOMRef != c.PackageURL {
			t.Errorf("%s: purl %q, bom-ref %q; want %q for both", key, c.PackageURL, c.BOMRef, wantPurls[key])
		}
		var license string
		if c.Licenses != nil {
			l := (*c.Licenses)[0]
			if license = l.Expression; l.License != nil {
				license = l.License.ID
			}
		} else {
			license = noAssertion
		}
		if license != wantLicenses[c.Name] {
			t.Errorf("%s: license %q; want %q", key, license, wantLicenses[c.Name])
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, wantPackages) {
		t.Errorf("components:\n got %q\nwant %q", got, wantPackages)
	}
	deps := *bom.Dependencies
	if len(deps) != 1 || deps[0].Ref != root.BOMRef || len(*deps[0].Dependencies) != len(wantPackages) {
		t.Errorf("dependencies %+v; want the container on each of %d packages", deps, len(wantPackages))
	}
}

// purlQualifier is a purl's qualifier key.
func purlQualifier(t *testing.T, purl, key string) string {
	t.Helper()
	_, query, _ := strings.Cut(purl, "?")
	for _, kv := range strings.Split(query, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// Two builds of the same image with the same SOURCE_DATE_EPOCH give the
// same files, byte for byte; another time gives other files, with other
// identifiers.
func TestSBOMIsReproducible(t *testing.T) {
	write := func(epoch string) [2][]byte {
		t.Setenv("SOURCE_DATE_EPOCH", epoch)
		dir := t.TempDir()
		spdxPath, cdxPath := filepath.Join(dir, "a.spdx.json"), filepath.Join(dir, "a.cdx.json")
		runSBOMStep(t, newFakeContainer(), spdxPath, cdxPath)
		var files [2][]byte
		for i, p := range []string{spdxPath, cdxPath} {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[i] = data
		}
		return files
	}
	first, second, later := write("1700000000"), write("1700000000"), write("1800000000")
	for i, format := range []string{"spdx", "cyclonedx"} {
		if !bytes.Equal(first[i], second[i]) {
			t.Errorf("%s: two builds with one SOURCE_DATE_EPOCH differ", format)
		}
		if bytes.Equal(first[i], later[i]) {
			t.Errorf("%s: builds at two times are the same", format)
		}
	}
	id := func(data []byte, field string) string {
		i := bytes.Index(data, []byte(field))
		if i < 0 {
			t.Fatalf("no %s in %s", field, data)
		}
		line, _, _ := bytes.Cut(data[i:], []byte("\n"))
		return string(line)
	}
	if id(first[0], `"documentNamespace"`) == id(later[0], `"documentNamespace"`) ||
		id(first[1], `"serialNumber"`) == id(later[1], `"serialNumber"`) {
		t.Error("two different SBOMs have one identifier")
	}
}

// Its Cleanup removes the files it wrote, after a failure only, and no
// other file beside them.
func TestSBOMStepCleanupRemovesOnlyItsFilesAfterAFailure(t *testing.T) {
	for _, outcome := range buildOutcomes {
		dir := t.TempDir()
		spdxPath, cdxPath, other := filepath.Join(dir, "web.spdx.json"), filepath.Join(dir, "web.cdx.json"), filepath.Join(dir, "old.cdx.json")
		if err := os.WriteFile(other, []byte("not ours"), 0o644); err != nil {
			t.Fatal(err)
		}
		step, state, f := runSBOMStep(t, newFakeContainer(), spdxPath, cdxPath)
		checkCleanupOfFiles(t, step, state, f, outcome.name, outcome.failed, outcome.mark, other, spdxPath, cdxPath)
	}
}

func TestSBOMStepWithNoSBOMDoesNothing(t *testing.T) {
	state, f, out := testState(t, testConfig(t))
	if action := (&stepSBOM{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v\n%s", stepError(state), out)
	}
	if calls := f.callLog(); len(calls) != 0 || out.Len() != 0 {
		t.Errorf("Run ran %q and said %q; want nothing", calls, out)
	}
}

// What the container may answer instead, and what the step makes of it.
func TestSBOMStepReadsWhatTheContainerHas(t *testing.T) {
	t.Run("os-release only in /usr/lib, no version: unstable", func(t *testing.T) {
		c := newFakeContainer()
		c.osRelease = map[string]string{"/usr/lib/os-release": "ID=debian\nVERSION_CODENAME=sid\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n"}
		path := filepath.Join(t.TempDir(), "web.cdx.json")
		_, _, f := runSBOMStep(t, c, path)
		assertCalls(t, f, "exec web /bin/cat -- /etc/os-release", "exec web /bin/cat -- /usr/lib/os-release")
		data, _ := os.ReadFile(path)
		if !bytes.Contains(data, []byte(`"pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-sid&upstream=bash%405.2.15-2"`)) {
			t.Errorf("no purl with distro=debian-sid in\n%s", data)
		}
	})
	t.Run("no copyright files at all", func(t *testing.T) {
		c := newFakeContainer()
		c.copyrights = map[string]string{}
		path := filepath.Join(t.TempDir(), "web.spdx.json")
		runSBOMStep(t, c, path)
		data, _ := os.ReadFile(path)
		if n := bytes.Count(data, []byte(`"licenseDeclared": "NOASSERTION"`)); n != len(wantPackages)+1 {
			t.Errorf("%d packages (and the image) with NOASSERTION; want all %d", n, len(wantPackages)+1)
		}
	})
	failures := []struct {
		name   string
		change func(*fakeContainer)
		want   string
	}{
		// As dpkg-query would answer if the service manager had taken
		// its ${...} for variables.
		{"format lost", func(c *fakeContainer) { c.dpkg = strings.Repeat("\t\t\t\t\n", 3) }, "sbom: dpkg-query lists no installed package in web"},
		{"not dpkg's", func(c *fakeContainer) { c.dpkg = "bash 5.2\n" }, `sbom: listing packages with dpkg-query: unexpected line "bash 5.2"`},
		{"tar fails", func(c *fakeContainer) { c.tarCode = 2 }, "sbom: reading the copyright files in /usr/share/doc: tar exited with status 2: tar: tzdata/copyright: Cannot stat"},
	}
	for _, tc := range failures {
		c := newFakeContainer()
		tc.change(c)
		path := filepath.Join(t.TempDir(), "web.spdx.json")
		state, f, _ := testState(t, testConfig(t, "sbom", []string{path}))
		f.exec = c.exec
		if action := (&stepSBOM{}).Run(context.Background(), state); action != multistep.ActionHalt {
			t.Errorf("%s: Run went on", tc.name)
			continue
		}
		if err := stepError(state); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want %q", tc.name, err, tc.want)
		}
		if exists(path) || exists(path+".partial") {
			t.Errorf("%s: a failed step left a file", tc.name)
		}
	}
}

// A copyright file over the bound is NOASSERTION; a stream over its bound
// is an error, which stops tar.
func TestCopyrightBounds(t *testing.T) {
	defer func(file, stream int64) { maxCopyrightFile, maxCopyrightStream = file, stream }(maxCopyrightFile, maxCopyrightStream)
	maxCopyrightFile = int64(len(bashCopyright)) - 1
	licenses, err := parseCopyrightTar(copyrightTar(t, "bash", bashCopyright, "base-files", cannedCopyrights["base-files"]))
	if err != nil || licenses["bash"] != noAssertion || licenses["base-files"] != "GPL-2.0-or-later" {
		t.Errorf("with bash's file over the bound: %v, %q; want bash NOASSERTION, base-files GPL-2.0-or-later", err, licenses)
	}
	maxCopyrightFile, maxCopyrightStream = 4<<20, 1<<20
	big := bashCopyright + strings.Repeat(" .\n", 200<<10) // 600 KiB
	_, err = parseCopyrightTar(copyrightTar(t, "bash", big, "base-files", big))
	if err == nil || err.Error() != "the copyright files come to more than 1 MiB" {
		t.Errorf("a stream over the bound: %v; want an error", err)
	}
	// Names that are not PACKAGE/copyright are passed over.
	licenses, err = parseCopyrightTar(copyrightTar(t, "../etc", "x", "a/b", "y"))
	if err != nil || len(licenses) != 0 {
		t.Errorf("odd names: %v, %q; want nothing", err, licenses)
	}
}

func copyrightTar(t *testing.T, nameText ...string) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(nameText); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: nameText[i] + "/copyright", Size: int64(len(nameText[i+1])), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, nameText[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestPurl(t *testing.T) {
	bookworm := osRelease{ID: "debian", VersionID: "12", Codename: "bookworm"}
	cases := []struct {
		name string
		p    debPackage
		os   osRelease
		want string
	}{
		{"plain", debPackage{Name: "tzdata", Version: "2024a-0+deb12u1", Arch: "all", Source: "tzdata", SourceVersion: "2024a-0+deb12u1"}, bookworm,
			"pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12"},
		{"epoch", debPackage{Name: "bsdutils", Version: "1:2.38.1-5", Arch: "amd64", Source: "util-linux", SourceVersion: "1:2.38.1-5"}, bookworm,
			"pkg:deb/debian/bsdutils@1:2.38.1-5?arch=amd64&distro=debian-12&upstream=util-linux"},
		{"binNMU", debPackage{Name: "bash", Version: "5.2.15-2+b2", Arch: "amd64", Source: "bash", SourceVersion: "5.2.15-2"}, bookworm,
			"pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"},
		{"unstable", debPackage{Name: "bash", Version: "5.2", Arch: "amd64", Source: "bash", SourceVersion: "5.2"}, osRelease{ID: "debian", Codename: "sid"},
			"pkg:deb/debian/bash@5.2?arch=amd64&distro=debian-sid"},
		{"ubuntu", debPackage{Name: "bash", Version: "5.2.21-2ubuntu4", Arch: "amd64", Source: "bash", SourceVersion: "5.2.21-2ubuntu4"},
			osRelease{ID: "ubuntu", VersionID: "24.04", Codename: "noble"}, "pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?arch=amd64&distro=ubuntu-24.04"},
		{"no os-release", debPackage{Name: "bash", Version: "5.2~rc1", Arch: "amd64", Source: "bash", SourceVersion: "5.2~rc1"}, osRelease{},
			"pkg:deb/debian/bash@5.2~rc1?arch=amd64"},
	}
	for _, tc := range cases {
		if got := tc.p.purl(tc.os); got != tc.want {
			t.Errorf("%s: purl %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	got := parseOSRelease("# comment\nID='debian'\nVERSION_ID=\"12\"\nVERSION_CODENAME=\"book\\\"worm\"\nNAME=x\n")
	if want := (osRelease{ID: "debian", VersionID: "12", Codename: `book"worm`}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSBOMConfigErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.spdx.json")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := []interface{}{"cache_dir", dir, "machines_dir", dir}
	with := func(kv ...interface{}) []interface{} { return append(append([]interface{}{}, ok...), kv...) }
	cases := []struct {
		name  string
		kv    []interface{}
		epoch string
		want  string
	}{
		{"unknown suffix", with("sbom", []string{dir + "/x.json"}), "", `sbom: "` + dir + `/x.json" has no known suffix; end it in .spdx.json or .cdx.json`},
		{"missing directory", with("sbom", []string{"/nonexistent/x.cdx.json"}), "", `sbom: the directory of "/nonexistent/x.cdx.json" does not exist; create it first`},
		{"existing file", with("sbom", []string{existing}), "", `sbom: "` + existing + `" exists; remove it or run packer build -force to replace it`},
		{"twice", with("sbom", []string{dir + "/a.cdx.json", dir + "/./a.cdx.json"}), "", `sbom: "` + dir + `/a.cdx.json" is listed twice`},
		{"bad SOURCE_DATE_EPOCH", with("sbom", []string{dir + "/a.cdx.json"}), "yesterday", `SOURCE_DATE_EPOCH: "yesterday" in the environment is not a number of seconds since 1970`},
	}
	for _, tc := range cases {
		t.Setenv("SOURCE_DATE_EPOCH", tc.epoch)
		_, _, err := new(Builder).Prepare(rawConfig("web", tc.kv...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want %q", tc.name, err, tc.want)
		}
	}
	t.Setenv("SOURCE_DATE_EPOCH", "")
	// One string is a list of one, in JSON templates; a relative path is
	// the template's directory's.
	b := new(Builder)
	if _, _, err := b.Prepare(rawConfig("web", with("sbom", "one.cdx.json", "packer_template_path", dir)...)); err != nil {
		t.Errorf("sbom as one relative string: %v", err)
	} else if want := []string{filepath.Join(dir, "one.cdx.json")}; !reflect.DeepEqual(b.config.SBOM, want) {
		t.Errorf("sbom as one relative string: %q; want %q", b.config.SBOM, want)
	}
	// -force replaces an earlier SBOM.
	if _, _, err := new(Builder).Prepare(rawConfig("web", with("sbom", []string{existing}, "packer_force", true)...)); err != nil {
		t.Errorf("-force with an existing SBOM: %v", err)
	}
}

// In a whole build the SBOM is read while the container runs, after
// provisioning; its files are the artifact's, after the exports, and a
// later failure removes them.
func TestBuildWritesSBOM(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	out := t.TempDir()
	tar, sbom := filepath.Join(out, "web.tar"), filepath.Join(out, "web.spdx.json")
	tb := newTestBuild(t, "export", []string{tar}, "sbom", []string{sbom})
	makeTreeOnDebootstrap(tb)
	tb.fake.exec = newFakeContainer().exec
	art, err := tb.run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	assertCalls(t, tb.fake, "start web", "exec web /usr/bin/dpkg-query", "exec web /bin/tar", "poweroff web", "export web .tar")
	if !tb.hook.RunCalled {
		t.Error("provisioning did not run")
	}
	if !reflect.DeepEqual(art.Files(), []string{tar, sbom}) || !strings.Contains(art.String(), "SBOM in "+sbom) {
		t.Errorf("Files() = %q, String() = %q; want the export, then the SBOM", art.Files(), art.String())
	}
	if err := art.Destroy(); err != nil || exists(sbom) {
		t.Errorf("Destroy: %v; SBOM still there: %v", err, exists(sbom))
	}

	tb = newTestBuild(t, "export", []string{tar}, "sbom", []string{sbom})
	makeTreeOnDebootstrap(tb)
	tb.fake.exec = newFakeContainer().exec
	tb.fake.failOn["export web"] = errors.New("No space left on device")
	if _, err := tb.run(context.Background()); err == nil {
		t.Fatal("the build succeeded with its export failing")
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed build left %v", entries)
	}
}

// The image records how it was made; an import URL loses what is secret.
func TestSBOMImageOf(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want sbomImage
	}{
		{"mmdebstrap", Config{Suite: "trixie", Bootstrapper: "mmdebstrap"}, sbomImage{Bootstrapper: "mmdebstrap", Suite: "trixie"}},
		{"clone", Config{Suite: "unstable", Clone: "base"}, sbomImage{Bootstrapper: "clone", Source: "base"}},
		{"import file", Config{Import: "/srv/base.tar.zst"}, sbomImage{Bootstrapper: "import", Source: "/srv/base.tar.zst"}},
		{"import URL", Config{Import: "https://user:secret@example.org/img/base.tar.xz?X-Amz-Signature=abc#top"},
			sbomImage{Bootstrapper: "import", Source: "https://example.org/img/base.tar.xz"}},
	}
	for _, tc := range cases {
		tc.cfg.PackerBuildName = "web"
		tc.want.Name = "web"
		if got := sbomImageOf(&tc.cfg); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
