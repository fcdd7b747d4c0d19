package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// The commands the SBOM step runs in the container, as root, all fixed.
var (
	// dpkgQueryArgv lists every package dpkg knows, one a line.
	// dpkg-query itself reads the \t and \n escapes.
	dpkgQueryArgv = []string{"/usr/bin/dpkg-query", "--show",
		`--showformat=${Status}\t${Package}\t${Version}\t${Architecture}\t${Source}\n`}
	// osReleaseFiles are read in turn until one is there (os-release(5)).
	osReleaseFiles = []string{"/etc/os-release", "/usr/lib/os-release"}
	// copyrightTarArgv writes the copyright files named on its stdin (NUL
	// separated, relative to /usr/share/doc) to its stdout as one tar
	// stream; a file that is not there is left out (and named on stderr).
	copyrightTarArgv = []string{"/bin/tar", "--create", "--file=-", "--dereference", "--ignore-failed-read",
		"--directory=/usr/share/doc", "--null", "--files-from=-"}
)

// Bounds on what the container sends; variables so tests can lower them.
var (
	// maxCopyrightFile bounds one copyright file read into memory: the
	// largest in Debian 12 are Boost's, 2 MB. A bigger one is NOASSERTION.
	maxCopyrightFile int64 = 4 << 20
	// maxCopyrightStream bounds all of them, read as they come: 700
	// packages of a desktop system have 17 MB.
	maxCopyrightStream int64 = 256 << 20
	// maxPackageList bounds dpkg-query's output, about 100 bytes a package.
	maxPackageList = 64 << 20
)

// stepSBOM writes the `sbom` files: what the finished container has
// installed, read from its dpkg database while it runs, so it is the same
// whatever made the container.
type stepSBOM struct {
	written []string
}

func (s *stepSBOM) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	cfg := state.Get(stateConfig).(*Config)
	m := state.Get(stateHost).(Host)
	ui := state.Get("ui").(packersdk.Ui)
	if len(cfg.SBOM) == 0 {
		return multistep.ActionContinue
	}
	// A reproducible build's SBOM bears its SOURCE_DATE_EPOCH.
	created := time.Now().UTC().Truncate(time.Second)
	if epoch, ok := state.Get(stateSourceDate).(time.Time); ok {
		created = epoch.UTC()
	}
	ui.Say("Reading the installed packages for the SBOM...")
	inv, err := readInventory(ctx, m, cfg.PackerBuildName)
	if err != nil {
		return halt(state, fmt.Errorf("sbom: %w", err))
	}
	inv.Image = sbomImageOf(cfg)
	inv.Created = created
	for _, path := range cfg.SBOM {
		format, _ := sbomFormatOf(path)
		ui.Say(fmt.Sprintf("Writing the SBOM of %d packages to %s...", len(inv.Packages), path))
		data, err := format.encode(inv)
		if err == nil {
			err = writeWhole(path, data)
		}
		if err != nil {
			return halt(state, fmt.Errorf("sbom: writing %s: %w", path, err))
		}
		s.written = append(s.written, path)
	}
	state.Put(stateSBOM, append([]string(nil), s.written...))
	return multistep.ActionContinue
}

// Cleanup removes this build's SBOM files when the build failed.
func (s *stepSBOM) Cleanup(state multistep.StateBag) {
	if !buildFailed(state) {
		return
	}
	for _, path := range s.written {
		_ = os.Remove(path)
	}
}

// writeWhole writes data to path under another name first, so a failure
// never leaves a truncated file where a whole one is expected.
func writeWhole(path string, data []byte) error {
	partial := path + ".partial"
	err := os.WriteFile(partial, data, 0o644)
	if err == nil {
		err = os.Rename(partial, path)
	}
	if err != nil {
		_ = os.Remove(partial)
	}
	return err
}

// readInventory reads the packages installed in the running container
// name, their licenses and the system's os-release.
func readInventory(ctx context.Context, m Host, name string) (*inventory, error) {
	var list limitedBuffer
	list.max = maxPackageList
	if err := execIn(ctx, m, name, dpkgQueryArgv, nil, &list); err != nil {
		return nil, fmt.Errorf("listing packages with dpkg-query: %w", err)
	}
	pkgs, err := parseDpkgQuery(list.String())
	if err != nil {
		return nil, fmt.Errorf("listing packages with dpkg-query: %w", err)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("dpkg-query lists no installed package in %s; the SBOM needs a Debian-based image", name)
	}
	inv := &inventory{Packages: pkgs}
	for _, file := range osReleaseFiles {
		var out limitedBuffer
		out.max = 64 << 10
		if execIn(ctx, m, name, []string{"/bin/cat", "--", file}, nil, &out) == nil {
			inv.OS = parseOSRelease(out.String())
			break
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	licenses, err := readCopyrights(ctx, m, name, pkgs)
	if err != nil {
		return nil, fmt.Errorf("reading the copyright files in /usr/share/doc: %w", err)
	}
	for i := range inv.Packages {
		if l, ok := licenses[inv.Packages[i].Name]; ok {
			inv.Packages[i].License = l
		} else {
			inv.Packages[i].License = noAssertion
		}
	}
	return inv, nil
}

// execIn runs argv in the container as root, its output into stdout; a
// failure or another exit status than 0 is an error with what it said
// last on stderr.
func execIn(ctx context.Context, m Host, name string, argv []string, stdin io.Reader, stdout io.Writer) error {
	var stderr tailBuffer
	stderr.max = 1024
	code, err := m.Exec(ctx, name, execRequest{Argv: argv, Stdin: stdin, Stdout: stdout, Stderr: &stderr})
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("%s exited with status %d: %s", argv[0], code, stderr.lastLine())
	}
	return nil
}

// parseDpkgQuery reads dpkgQueryArgv's output, keeping the packages that
// are installed, sorted by name and architecture.
func parseDpkgQuery(out string) ([]debPackage, error) {
	var pkgs []debPackage
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("unexpected line %q; want 5 fields separated by tabs", line)
		}
		status, name, ver, arch, source := f[0], f[1], f[2], f[3], f[4]
		// "install ok installed", "hold ok installed"; not "deinstall ok
		// config-files" nor "install ok half-installed".
		if !strings.HasSuffix(status, " installed") || name == "" {
			continue
		}
		p := debPackage{Name: name, Version: ver, Arch: arch, Source: name, SourceVersion: ver}
		// Source is empty when the source package has the binary's name
		// and version, "SRC" when only the name differs, "SRC (VERSION)"
		// when the version does.
		if src, srcVer, ok := strings.Cut(strings.TrimSpace(source), " ("); ok {
			p.Source, p.SourceVersion = src, strings.TrimSuffix(srcVer, ")")
		} else if source != "" {
			p.Source = strings.TrimSpace(source)
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Arch < pkgs[j].Arch
	})
	return pkgs, nil
}

// parseOSRelease reads the fields of os-release(5) the SBOM uses: shell
// variable assignments, the values maybe quoted.
func parseOSRelease(text string) osRelease {
	var o osRelease
	for _, line := range strings.Split(text, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		value = unquoteShell(value)
		switch key {
		case "ID":
			o.ID = value
		case "VERSION_ID":
			o.VersionID = value
		case "VERSION_CODENAME":
			o.Codename = value
		}
	}
	return o
}

func unquoteShell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

// readCopyrights reads every package's copyright file through one tar
// run, parsing its output as it comes, and maps each package with a
// copyright file to its declared license.
func readCopyrights(ctx context.Context, m Host, name string, pkgs []debPackage) (map[string]string, error) {
	var names strings.Builder
	seen := map[string]bool{}
	for _, p := range pkgs {
		if !seen[p.Name] {
			seen[p.Name] = true
			names.WriteString(p.Name + "/copyright\x00")
		}
	}
	pr, pw := io.Pipe()
	type result struct {
		licenses map[string]string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		licenses, err := parseCopyrightTar(pr)
		if err != nil {
			// Makes tar's writes fail, so it stops.
			pr.CloseWithError(err)
		} else {
			_, _ = io.Copy(io.Discard, pr)
		}
		done <- result{licenses, err}
	}()
	var stderr tailBuffer
	stderr.max = 1024
	code, err := m.Exec(ctx, name, execRequest{Argv: copyrightTarArgv,
		Stdin: strings.NewReader(names.String()), Stdout: pw, Stderr: &stderr})
	pw.Close()
	res := <-done
	switch {
	case res.err != nil:
		return nil, res.err
	case err != nil:
		return nil, err
	// 1 is "some files differ": one changed while it was read.
	case code != 0 && code != 1:
		return nil, fmt.Errorf("tar exited with status %d: %s", code, stderr.lastLine())
	}
	return res.licenses, nil
}

// parseCopyrightTar reads a tar stream of PACKAGE/copyright files and
// maps each package to its declared license.
func parseCopyrightTar(r io.Reader) (map[string]string, error) {
	stream := &boundedReader{r: r, left: maxCopyrightStream}
	tr := tar.NewReader(stream)
	licenses := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return licenses, nil
		}
		if err != nil {
			return nil, tarStreamError(err)
		}
		pkg, ok := copyrightPackage(hdr.Name)
		if !ok {
			continue
		}
		switch {
		case hdr.Typeflag == tar.TypeLink:
			// A file tar has already sent, under another name.
			if other, ok := copyrightPackage(hdr.Linkname); ok {
				if l, ok := licenses[other]; ok {
					licenses[pkg] = l
				}
			}
		case hdr.Typeflag != tar.TypeReg:
		case hdr.Size > maxCopyrightFile:
			licenses[pkg] = noAssertion
		default:
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, tarStreamError(err)
			}
			licenses[pkg] = dep5Licenses(data)
		}
	}
}

func tarStreamError(err error) error {
	if errors.Is(err, errTooMuchOutput) {
		return fmt.Errorf("the copyright files come to more than %d MiB", maxCopyrightStream>>20)
	}
	return fmt.Errorf("reading tar's output: %w", err)
}

// copyrightPackage is the package whose copyright file name is, as tar
// names it: PACKAGE/copyright.
func copyrightPackage(name string) (string, bool) {
	pkg, ok := strings.CutSuffix(path.Clean(strings.TrimPrefix(name, "./")), "/copyright")
	if !ok || pkg == "" || strings.Contains(pkg, "/") {
		return "", false
	}
	return pkg, true
}

var errTooMuchOutput = errors.New("too much output")

// boundedReader reads at most left bytes of r, then fails.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooMuchOutput
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// limitedBuffer keeps what is written to it, up to max bytes; past that,
// writes fail, which stops the command writing.
type limitedBuffer struct {
	max int
	buf strings.Builder
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > l.max {
		return 0, fmt.Errorf("more than %d bytes of output", l.max)
	}
	return l.buf.Write(p)
}

func (l *limitedBuffer) String() string { return l.buf.String() }
