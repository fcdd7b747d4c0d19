package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Foreign architectures: a container of another architecture than the
// host's runs through a binfmt_misc interpreter (qemu-user), which the
// kernel starts for every program of that architecture.

// debianArch is a Debian architecture and the ELF header its programs
// carry, which a binfmt_misc entry matches.
type debianArch struct {
	name string
	// class is ELFCLASS32 (1) or ELFCLASS64 (2), data ELFDATA2LSB (1) or
	// ELFDATA2MSB (2), machine the e_machine.
	class, data byte
	machine     uint16
	// qemu names qemu-user's emulator: qemu-user-static's binfmt entry is
	// "qemu-" and this.
	qemu string
}

// debianArches are the architectures Debian builds (release and ports)
// that qemu-user emulates.
var debianArches = []debianArch{
	{"amd64", 2, 1, 62, "x86_64"},
	{"arm64", 2, 1, 183, "aarch64"},
	{"armel", 1, 1, 40, "arm"},
	{"armhf", 1, 1, 40, "arm"},
	{"i386", 1, 1, 3, "i386"},
	{"mips64el", 2, 1, 8, "mips64el"},
	{"mipsel", 1, 1, 8, "mipsel"},
	{"ppc64el", 2, 1, 21, "ppc64le"},
	{"riscv64", 2, 1, 243, "riscv64"},
	{"s390x", 2, 2, 22, "s390x"},
	{"loong64", 2, 1, 258, "loongarch64"},
	{"alpha", 2, 1, 0x9026, "alpha"},
	{"hppa", 1, 2, 15, "hppa"},
	{"m68k", 1, 2, 4, "m68k"},
	{"powerpc", 1, 2, 20, "ppc"},
	{"ppc64", 2, 2, 21, "ppc64"},
	{"sh4", 1, 1, 42, "sh4"},
	{"sparc64", 2, 2, 43, "sparc64"},
}

func lookUpArch(name string) (debianArch, bool) {
	for _, a := range debianArches {
		if a.name == name {
			return a, true
		}
	}
	return debianArch{}, false
}

func archNames() []string {
	names := make([]string, len(debianArches))
	for i, a := range debianArches {
		names[i] = a.name
	}
	return names
}

// nativeCompanions are the architectures a host's CPU and kernel run
// without an emulator, beside its own.
var nativeCompanions = map[string][]string{
	"amd64": {"i386"},
	"arm64": {"armhf", "armel"},
}

// runsNatively reports whether a host of architecture host runs programs
// of arch without an emulator.
func runsNatively(host, arch string) bool {
	return arch == host || contains(nativeCompanions[host], arch)
}

// goArches maps Go's architecture names to Debian's, for hosts without
// dpkg.
var goArches = map[string]string{
	"amd64": "amd64", "arm64": "arm64", "386": "i386", "arm": "armhf",
	"ppc64le": "ppc64el", "riscv64": "riscv64", "s390x": "s390x",
	"mips64le": "mips64el", "mipsle": "mipsel", "loong64": "loong64",
}

// hostArch is the host's Debian architecture, asked of dpkg once; tests
// replace it.
var hostArch = sync.OnceValue(func() string {
	if arch, err := dpkgArchitecture(); err == nil {
		return arch
	}
	return goArches[runtime.GOARCH]
})

// binfmtDir is where the kernel lists the binfmt_misc interpreters;
// tests point it elsewhere.
var binfmtDir = "/proc/sys/fs/binfmt_misc"

// binfmtEntry is one registered interpreter.
type binfmtEntry struct {
	name, interpreter, flags string
	enabled                  bool
	offset                   int
	magic, mask              []byte
}

// matches reports whether the entry takes an ELF program whose header
// begins with header.
func (e binfmtEntry) matches(header []byte) bool {
	if e.offset+len(e.magic) > len(header) || len(e.magic) == 0 {
		return false
	}
	for i, m := range e.magic {
		b := header[e.offset+i]
		if i < len(e.mask) {
			b &= e.mask[i]
		}
		if b != m {
			return false
		}
	}
	return true
}

// elfHeader is the start of an executable (or position-independent
// executable, when pie) of a.
func (a debianArch) elfHeader(pie bool) []byte {
	h := make([]byte, 20)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = a.class, a.data, 1
	var order binary.ByteOrder = binary.LittleEndian
	if a.data == 2 {
		order = binary.BigEndian
	}
	typ := uint16(2)
	if pie {
		typ = 3
	}
	order.PutUint16(h[16:], typ)
	order.PutUint16(h[18:], a.machine)
	return h
}

// readBinfmtEntries reads the registered interpreters; mounted is false
// when binfmt_misc is not mounted at binfmtDir.
func readBinfmtEntries() (entries []binfmtEntry, mounted bool, err error) {
	status, err := os.ReadFile(filepath.Join(binfmtDir, "status"))
	if err != nil {
		return nil, false, nil
	}
	if strings.TrimSpace(string(status)) != "enabled" {
		return nil, true, nil
	}
	dir, err := os.ReadDir(binfmtDir)
	if err != nil {
		return nil, true, err
	}
	for _, d := range dir {
		if d.Name() == "status" || d.Name() == "register" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(binfmtDir, d.Name()))
		if err != nil {
			continue
		}
		entries = append(entries, parseBinfmtEntry(d.Name(), b))
	}
	return entries, true, nil
}

// parseBinfmtEntry reads an entry as the kernel shows it:
// "enabled", "interpreter PATH", "flags: PF", "offset 0", "magic HEX",
// "mask HEX".
func parseBinfmtEntry(name string, b []byte) binfmtEntry {
	e := binfmtEntry{name: name}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, value, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch key {
		case "enabled":
			e.enabled = true
		case "interpreter":
			e.interpreter = value
		case "flags:":
			e.flags = value
		case "offset":
			fmt.Sscan(value, &e.offset)
		case "magic":
			e.magic, _ = hex.DecodeString(value)
		case "mask":
			e.mask, _ = hex.DecodeString(value)
		}
	}
	return e
}

// checkRunnable says why the host cannot run programs of arch, or nil when
// it can: natively, or through an enabled binfmt_misc interpreter with the
// F flag (the kernel opens it when it is registered, so it works inside
// containers, whose trees lack it). The error ends in the fix.
func checkRunnable(host string, a debianArch) error {
	if runsNatively(host, a.name) {
		return nil
	}
	entry := "qemu-" + a.qemu
	install := fmt.Sprintf("apt-get install qemu-user-static binfmt-support; where systemd does not run as PID 1 (a container, a chroot), also mount -t binfmt_misc binfmt_misc %s and run update-binfmts --enable %s", binfmtDir, entry)
	entries, mounted, err := readBinfmtEntries()
	switch {
	case err != nil:
		return fmt.Errorf(`arch: cannot read %s to find an interpreter for %s programs: %w`, binfmtDir, a.name, err)
	case !mounted:
		return fmt.Errorf(`arch: this %s host cannot run %s programs: binfmt_misc is not mounted at %s, so no interpreter is registered; %s`, host, a.name, binfmtDir, install)
	}
	var disabled, noFix *binfmtEntry
	for i, e := range entries {
		if !e.matches(a.elfHeader(false)) && !e.matches(a.elfHeader(true)) {
			continue
		}
		switch {
		case !e.enabled:
			disabled = &entries[i]
		case !strings.Contains(e.flags, "F"):
			noFix = &entries[i]
		default:
			return nil
		}
	}
	switch {
	case noFix != nil:
		return fmt.Errorf(`arch: the interpreter for %s programs, binfmt_misc entry %s (%s), is registered without the F flag, so containers, whose trees lack it, cannot use it; register it with F, as qemu-user-static's own entry is: update-binfmts --disable %s, then update-binfmts --enable %s`, a.name, noFix.name, noFix.interpreter, noFix.name, entry)
	case disabled != nil:
		return fmt.Errorf(`arch: the interpreter for %s programs, binfmt_misc entry %s, is disabled; enable it: update-binfmts --enable %s`, a.name, disabled.name, disabled.name)
	}
	return fmt.Errorf(`arch: this %s host cannot run %s programs: no binfmt_misc interpreter for them is registered in %s; %s`, host, a.name, binfmtDir, install)
}

// validateArch checks arch: a Debian architecture the host can run, and,
// for mmdebstrap, arch-test to prove it.
func (c *Config) validateArch() []error {
	if c.Arch == "" {
		return nil
	}
	a, ok := lookUpArch(c.Arch)
	if !ok {
		return []error{fmt.Errorf(`arch: %q is not a Debian architecture; use one of %s, or leave it unset for the host's (%s)`, c.Arch, strings.Join(archNames(), ", "), hostArch())}
	}
	host := hostArch()
	var errs []error
	if err := checkRunnable(host, a); err != nil {
		errs = append(errs, err)
	}
	if c.bootstraps() && c.Bootstrapper == "mmdebstrap" && c.Arch != host {
		if _, err := lookPath("arch-test"); err != nil {
			errs = append(errs, fmt.Errorf(`arch: mmdebstrap needs arch-test to install %s trees on this %s host; apt-get install arch-test, or leave bootstrapper unset for debootstrap`, c.Arch, host))
		}
	}
	return errs
}

// bootstrapArch is the --arch the bootstrapper gets, or "" for the host's
// own, which both tools take by default.
func (c *Config) bootstrapArch() string {
	if c.Arch == "" || c.Arch == hostArch() {
		return ""
	}
	return c.Arch
}

// imageArch reads the Debian architecture of the tree at root: dpkg's own
// record of it (var/lib/dpkg/arch, written by debootstrap and
// mmdebstrap), else the architecture of the dpkg package in dpkg's status,
// else the ELF header of its systemd. "" if none says.
func imageArch(root string) (string, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", err
	}
	defer r.Close()
	if b, err := r.ReadFile("var/lib/dpkg/arch"); err == nil {
		if first, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n"); first != "" {
			if _, ok := lookUpArch(strings.TrimSpace(first)); ok {
				return strings.TrimSpace(first), nil
			}
		}
	}
	if arch := dpkgStatusArch(r); arch != "" {
		return arch, nil
	}
	for _, p := range []string{"usr/lib/systemd/systemd", "lib/systemd/systemd", "sbin/init"} {
		if arch := elfArch(r, p); arch != "" {
			return arch, nil
		}
	}
	return "", nil
}

// dpkgStatusArch is the Architecture of the dpkg package in the tree's
// dpkg status, or "".
func dpkgStatusArch(r *os.Root) string {
	f, err := r.Open("var/lib/dpkg/status")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inDpkg := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			inDpkg = false
		case line == "Package: dpkg":
			inDpkg = true
		case inDpkg && strings.HasPrefix(line, "Architecture: "):
			arch := strings.TrimSpace(strings.TrimPrefix(line, "Architecture: "))
			if _, ok := lookUpArch(arch); ok {
				return arch
			}
			return ""
		}
	}
	return ""
}

// elfArch is the architecture of the program at path in r, from its ELF
// header, or "". 32-bit ARM is armhf when the header says hard float.
func elfArch(r *os.Root, path string) string {
	f, err := r.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := make([]byte, 40)
	if _, err := io.ReadFull(f, h); err != nil || string(h[:4]) != "\x7fELF" {
		return ""
	}
	var order binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 {
		order = binary.BigEndian
	}
	machine := order.Uint16(h[18:])
	var found []string
	for _, a := range debianArches {
		if a.class == h[4] && a.data == h[5] && a.machine == machine {
			found = append(found, a.name)
		}
	}
	if len(found) == 2 && found[0] == "armel" {
		// e_flags of a 32-bit header: EF_ARM_ABI_FLOAT_HARD.
		if order.Uint32(h[36:])&0x400 != 0 {
			return "armhf"
		}
		return "armel"
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// errNoTree is imageArch's answer for a container that is no directory.
var errNoTree = errors.New("not a directory")

// treeArch is imageArch of path if it is a directory.
func treeArch(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil || !info.IsDir() {
		return "", errNoTree
	}
	return imageArch(path)
}
