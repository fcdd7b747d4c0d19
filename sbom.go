package main

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	spdxcommon "github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// sbomFormat is an SBOM file's format, named by its suffix.
type sbomFormat string

const (
	sbomSPDX      sbomFormat = ".spdx.json"
	sbomCycloneDX sbomFormat = ".cdx.json"
)

// sbomFormatOf picks the format from path's suffix; ok is false when no
// format matches.
func sbomFormatOf(path string) (format sbomFormat, ok bool) {
	lower := strings.ToLower(path)
	for _, f := range []sbomFormat{sbomSPDX, sbomCycloneDX} {
		if strings.HasSuffix(lower, string(f)) {
			return f, true
		}
	}
	return "", false
}

// encode renders the inventory in the format.
func (f sbomFormat) encode(inv *inventory) ([]byte, error) {
	if f == sbomSPDX {
		return encodeSPDX(inv)
	}
	return encodeCycloneDX(inv)
}

// validateSBOM checks sbom, as validateExport checks export.
func (c *Config) validateSBOM() []error {
	return c.validateOutputFiles("sbom", c.SBOM, ".spdx.json or .cdx.json",
		func(path string) bool { _, ok := sbomFormatOf(path); return ok })
}

// inventory is what an SBOM says: the image, its system and the packages
// installed in it.
type inventory struct {
	Image    sbomImage
	OS       osRelease
	Packages []debPackage
	Created  time.Time
}

// sbomImage is the container and how it was made.
type sbomImage struct {
	Name string
	// Bootstrapper is debootstrap or mmdebstrap, or import or clone for
	// containers made from another image.
	Bootstrapper string
	// Suite is the suite bootstrapped; Source the image imported or the
	// container cloned.
	Suite, Source string
}

func sbomImageOf(c *Config) sbomImage {
	img := sbomImage{Name: c.PackerBuildName}
	switch {
	case c.Import != "":
		img.Bootstrapper, img.Source = "import", c.Import
		// An SBOM is for sharing; a URL's password or signed query is not.
		if u, err := url.Parse(c.Import); err == nil && isURL(c.Import) {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			img.Source = u.String()
		}
	case c.Clone != "":
		img.Bootstrapper, img.Source = "clone", c.Clone
	default:
		img.Bootstrapper, img.Suite = c.Bootstrapper, c.Suite
	}
	return img
}

// describe says how the image was made, in a sentence for SPDX's comment.
func (img sbomImage) describe() string {
	if img.Suite != "" {
		return fmt.Sprintf("bootstrapper %s, suite %s", img.Bootstrapper, img.Suite)
	}
	return fmt.Sprintf("%s of %s", img.Bootstrapper, img.Source)
}

// osRelease is what the image's os-release says it is.
type osRelease struct {
	ID, VersionID, Codename string
}

// vendor is the purl namespace: the distribution's ID (debian, ubuntu).
func (o osRelease) vendor() string {
	if o.ID == "" {
		return "debian"
	}
	return strings.ToLower(o.ID)
}

// distro is the purl's distro qualifier: debian-12, or debian-sid for a
// release with no version number.
func (o osRelease) distro() string {
	switch {
	case o.VersionID != "":
		return o.vendor() + "-" + o.VersionID
	case o.Codename != "":
		return o.vendor() + "-" + o.Codename
	}
	return ""
}

func (o osRelease) String() string {
	s := strings.TrimSpace(o.vendor() + " " + o.VersionID)
	if o.Codename != "" {
		s += " (" + o.Codename + ")"
	}
	return s
}

// debPackage is one installed package, as dpkg lists it.
type debPackage struct {
	Name, Version, Arch string
	// Source and SourceVersion are the source package it was built from.
	Source, SourceVersion string
	// License is an SPDX expression, or NOASSERTION.
	License string
}

// purl is the package's package URL (https://github.com/package-url/purl-spec,
// type deb). Beside the spec's arch and distro it carries upstream, the
// source package (SRC, or SRC@VERSION when the versions differ), as syft
// writes it and grype reads it to match Debian's security tracker, which
// is keyed by source package.
func (p debPackage) purl(o osRelease) string {
	var q []string // in key order, as the canonical form has them
	if p.Arch != "" {
		q = append(q, "arch="+purlEscape(p.Arch))
	}
	if d := o.distro(); d != "" {
		q = append(q, "distro="+purlEscape(d))
	}
	if p.Source != p.Name || p.SourceVersion != p.Version {
		upstream := p.Source
		if p.SourceVersion != p.Version {
			upstream += "@" + p.SourceVersion
		}
		q = append(q, "upstream="+purlEscape(upstream))
	}
	s := "pkg:deb/" + purlEscape(o.vendor()) + "/" + purlEscape(strings.ToLower(p.Name)) + "@" + purlEscape(p.Version)
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// purlEscape percent-encodes s as the purl spec wants: every byte but
// letters, digits, ".-_~" and ":" (the colon of an epoch stays as it is;
// the '+' of a binNMU becomes %2B).
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '.', c == '-', c == '_', c == '~', c == ':':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sbomTool is this plugin as the SBOMs name their maker.
const sbomTool = "packer-builder-nspawn"

// contentUUID is a name-based (version 5) UUID of data, so the same SBOM
// gets the same identifier and another SBOM another one.
func contentUUID(data []byte) string {
	sum := sha256.Sum256(data)
	// RFC 4122's URL namespace, with the plugin's own name space in the name.
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte(sbomTool + ":" + hex.EncodeToString(sum[:])))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

var licenseRefs = regexp.MustCompile(`LicenseRef-[A-Za-z0-9.-]+`)

// encodeSPDX renders the inventory as an SPDX 2.3 JSON document. The
// image is the package the document describes; it contains every
// installed package.
func encodeSPDX(inv *inventory) ([]byte, error) {
	rootID := spdxcommon.ElementID("Image-" + spdxID(inv.Image.Name))
	root := &spdx.Package{
		PackageName:             inv.Image.Name,
		PackageSPDXIdentifier:   rootID,
		PackageDownloadLocation: noAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PackageComment: fmt.Sprintf("systemd-nspawn container made by %s (%s), %s; its packages as installed after provisioning.",
			sbomTool, inv.Image.describe(), inv.OS),
	}
	doc := &spdx.Document{
		SPDXVersion:    spdx.Version,
		DataLicense:    spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   inv.Image.Name,
		CreationInfo: &spdx.CreationInfo{
			Creators: []spdxcommon.Creator{{CreatorType: "Tool", Creator: sbomTool + "-" + version()}},
			Created:  inv.Created.UTC().Format(time.RFC3339),
		},
		Packages: []*spdx.Package{root},
		Relationships: []*spdx.Relationship{{
			RefA:         spdxcommon.MakeDocElementID("", "DOCUMENT"),
			RefB:         spdxcommon.MakeDocElementID("", string(rootID)),
			Relationship: spdxcommon.TypeRelationshipDescribe,
		}},
	}
	ids := map[spdxcommon.ElementID]bool{rootID: true}
	refs := map[string]bool{}
	for _, p := range inv.Packages {
		id := spdxcommon.ElementID("Package-deb-" + spdxID(p.Name) + "-" + spdxID(p.Arch))
		for n := 2; ids[id]; n++ {
			id = spdxcommon.ElementID(fmt.Sprintf("Package-deb-%s-%s-%d", spdxID(p.Name), spdxID(p.Arch), n))
		}
		ids[id] = true
		for _, ref := range licenseRefs.FindAllString(p.License, -1) {
			refs[ref] = true
		}
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   id,
			PackageVersion:          p.Version,
			PackageDownloadLocation: noAssertion,
			PackageSourceInfo:       "built package from: " + p.Source + " " + p.SourceVersion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  p.License,
			PackageCopyrightText:    noAssertion,
			PackageExternalReferences: []*spdx.PackageExternalReference{{
				Category: spdxcommon.CategoryPackageManager,
				RefType:  spdxcommon.TypePackageManagerPURL,
				Locator:  p.purl(inv.OS),
			}},
		})
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         spdxcommon.MakeDocElementID("", string(rootID)),
			RefB:         spdxcommon.MakeDocElementID("", string(id)),
			Relationship: spdxcommon.TypeRelationshipContains,
		})
	}
	// Every LicenseRef a document uses, it must define.
	for _, ref := range sortedKeys(refs) {
		name := strings.TrimPrefix(ref, "LicenseRef-")
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: ref,
			LicenseName:       name,
			ExtractedText: fmt.Sprintf("A license SPDX does not list, named %s (in SPDX's characters) in the machine-readable "+
				"Debian copyright file (/usr/share/doc/PACKAGE/copyright) of each package that declares it; its text is there.", name),
		})
	}
	// The namespace is the document's content, less the namespace.
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf); err != nil {
		return nil, err
	}
	doc.DocumentNamespace = "https://spdx.org/spdxdocs/" + sbomTool + "/" + spdxID(inv.Image.Name) + "-" + contentUUID(buf.Bytes())
	buf.Reset()
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeCycloneDX renders the inventory as a CycloneDX 1.6 JSON BOM: the
// image is the BOM's subject, a container component that depends on
// every installed package.
func encodeCycloneDX(inv *inventory) ([]byte, error) {
	rootRef := "container:" + inv.Image.Name
	props := []cdx.Property{{Name: sbomTool + ":bootstrapper", Value: inv.Image.Bootstrapper}}
	if inv.Image.Suite != "" {
		props = append(props, cdx.Property{Name: sbomTool + ":suite", Value: inv.Image.Suite})
	}
	if inv.Image.Source != "" {
		props = append(props, cdx.Property{Name: sbomTool + ":source", Value: inv.Image.Source})
	}
	for _, p := range []cdx.Property{
		{Name: sbomTool + ":os-release:ID", Value: inv.OS.ID},
		{Name: sbomTool + ":os-release:VERSION_ID", Value: inv.OS.VersionID},
		{Name: sbomTool + ":os-release:VERSION_CODENAME", Value: inv.OS.Codename},
	} {
		if p.Value != "" {
			props = append(props, p)
		}
	}
	tools := []cdx.Component{{Type: cdx.ComponentTypeApplication, Name: sbomTool, Version: version()}}
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: inv.Created.UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &tools},
		Component: &cdx.Component{
			BOMRef:     rootRef,
			Type:       cdx.ComponentTypeContainer,
			Name:       inv.Image.Name,
			Properties: &props,
		},
	}
	components := []cdx.Component{}
	refs := []string{}
	seen := map[string]bool{}
	for _, p := range inv.Packages {
		purl := p.purl(inv.OS)
		if seen[purl] {
			continue
		}
		seen[purl] = true
		refs = append(refs, purl)
		components = append(components, cdx.Component{
			BOMRef:     purl,
			Type:       cdx.ComponentTypeLibrary,
			Name:       p.Name,
			Version:    p.Version,
			PackageURL: purl,
			Licenses:   cdxLicenses(p.License),
			Properties: &[]cdx.Property{
				{Name: sbomTool + ":deb:arch", Value: p.Arch},
				{Name: sbomTool + ":deb:source", Value: p.Source},
				{Name: sbomTool + ":deb:source-version", Value: p.SourceVersion},
			},
		})
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{{Ref: rootRef, Dependencies: &refs}}
	// The serial number is the BOM's content, less the serial number.
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, err
	}
	bom.SerialNumber = "urn:uuid:" + contentUUID(buf.Bytes())
	buf.Reset()
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cdxLicenses is a package's declared license for CycloneDX: an id where
// SPDX lists it, else an expression; none when not known.
func cdxLicenses(expr string) *cdx.Licenses {
	switch {
	case expr == noAssertion || expr == "":
		return nil
	case !strings.Contains(expr, " ") && !strings.HasPrefix(expr, "LicenseRef-"):
		return &cdx.Licenses{{License: &cdx.License{ID: expr}}}
	}
	return &cdx.Licenses{{Expression: expr}}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
