package main

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The kernel's view of qemu-user-static's entries, as update-binfmts
// registers them.
const (
	binfmtAarch64 = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n" +
		"magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
	binfmtArm = "enabled\ninterpreter /usr/libexec/qemu-binfmt/arm-binfmt-P\nflags: PF\noffset 0\n" +
		"magic 7f454c4601010100000000000000000002002800\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
)

// withBinfmt points binfmtDir at a directory holding entries (name to
// the kernel's text); nil entries leave binfmt_misc unmounted.
func withBinfmt(t *testing.T, entries map[string]string) {
	t.Helper()
	saved := binfmtDir
	t.Cleanup(func() { binfmtDir = saved })
	binfmtDir = filepath.Join(t.TempDir(), "binfmt_misc")
	if entries == nil {
		return
	}
	files := map[string]string{"status": "enabled\n", "register": ""}
	for name, text := range entries {
		files[name] = text
	}
	if err := os.MkdirAll(binfmtDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(binfmtDir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestValidateArch(t *testing.T) {
	saved := lookPath
	defer func() { lookPath = saved }()
	var archTest bool
	lookPath = func(tool string) (string, error) {
		if tool == "arch-test" && !archTest {
			return "", errors.New("not found")
		}
		return "/usr/bin/" + tool, nil
	}
	registered := map[string]string{"qemu-aarch64": binfmtAarch64, "qemu-arm": binfmtArm}
	cases := []struct {
		name     string
		entries  map[string]string
		archTest bool
		kv       []interface{}
		want     string // "" for no error
	}{
		{"the host's by default", nil, false, nil, ""},
		{"the host's named", nil, false, []interface{}{"arch", "amd64", "bootstrapper", "mmdebstrap"}, ""},
		{"i386 runs natively", nil, false, []interface{}{"arch", "i386"}, ""},
		{"arm64 registered", registered, false, []interface{}{"arch", "arm64"}, ""},
		{"armhf registered", registered, false, []interface{}{"arch", "armhf"}, ""},
		{"armel through the arm entry", registered, false, []interface{}{"arch", "armel"}, ""},
		{"arm64 with mmdebstrap and arch-test", registered, true, []interface{}{"arch", "arm64", "bootstrapper", "mmdebstrap"}, ""},
		{"unknown arch", nil, false, []interface{}{"arch", "aarch64"},
			`arch: "aarch64" is not a Debian architecture; use one of amd64, arm64,`},
		{"binfmt_misc not mounted", nil, false, []interface{}{"arch", "arm64"},
			"arch: this amd64 host cannot run arm64 programs: binfmt_misc is not mounted at " + "BINFMT" +
				", so no interpreter is registered; apt-get install qemu-user-static binfmt-support; where systemd does not run as PID 1 (a container, a chroot), also mount -t binfmt_misc binfmt_misc BINFMT and run update-binfmts --enable qemu-aarch64"},
		{"nothing registered for it", map[string]string{"qemu-arm": binfmtArm}, false, []interface{}{"arch", "riscv64"},
			"arch: this amd64 host cannot run riscv64 programs: no binfmt_misc interpreter for them is registered in BINFMT; apt-get install qemu-user-static binfmt-support;"},
		{"disabled entry", map[string]string{"qemu-aarch64": strings.Replace(binfmtAarch64, "enabled", "disabled", 1)}, false, []interface{}{"arch", "arm64"},
			"arch: the interpreter for arm64 programs, binfmt_misc entry qemu-aarch64, is disabled; enable it: update-binfmts --enable qemu-aarch64"},
		{"entry without F", map[string]string{"aarch64": strings.Replace(binfmtAarch64, "flags: PF", "flags: P", 1)}, false, []interface{}{"arch", "arm64"},
			"arch: the interpreter for arm64 programs, binfmt_misc entry aarch64 (/usr/libexec/qemu-binfmt/aarch64-binfmt-P), is registered without the F flag"},
		{"mmdebstrap without arch-test", registered, false, []interface{}{"arch", "arm64", "bootstrapper", "mmdebstrap"},
			"arch: mmdebstrap needs arch-test to install arm64 trees on this amd64 host; apt-get install arch-test"},
		{"import needs no arch-test", registered, false, []interface{}{"arch", "arm64", "bootstrapper", "mmdebstrap", "clone", "base", "machines_dir", "/var/lib/machines"}, ""},
		{"a clone of an arch the host cannot run", nil, false, []interface{}{"arch", "arm64", "clone", "base", "machines_dir", "/var/lib/machines"},
			"arch: this amd64 host cannot run arm64 programs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			withBinfmt(t, tc.entries)
			archTest = tc.archTest
			kv := append([]interface{}{"cache_dir", t.TempDir(), "machines_dir", t.TempDir()}, tc.kv...)
			_, _, err := new(Builder).Prepare(rawConfig("web", kv...))
			if err != nil && strings.TrimSpace(err.Error()) == `machines_dir: "/var/lib/machines" does not exist; create it or choose another directory` {
				err = nil
			}
			want := strings.ReplaceAll(tc.want, "BINFMT", binfmtDir)
			switch {
			case want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("got %v\nwant an error containing %q", err, want)
			}
		})
	}
}

func TestBootstrapArgvGivesTheArch(t *testing.T) {
	opts := bootstrapOptions{Tool: "debootstrap", Suite: "bookworm", Target: "/m/web", CacheDir: "/c", Include: []string{"dbus"}, Arch: "arm64"}
	want := []string{"debootstrap", "--arch=arm64", "--include=dbus", "--cache-dir=/c", "bookworm", "/m/web"}
	if got := bootstrapArgv(opts); !reflect.DeepEqual(got, want) {
		t.Errorf("debootstrap:\n got %q\nwant %q", got, want)
	}
	opts.Tool = "mmdebstrap"
	got := bootstrapArgv(opts)
	if i := indexOf(got, "--mode=root"); i < 0 || i+1 >= len(got) || got[i+1] != "--arch=arm64" {
		t.Errorf("mmdebstrap: want --arch=arm64 after --mode=root, got %q", got)
	}
	// The host's own architecture is the tools' default: not passed.
	cfg := testConfig(t, "arch", "amd64", "suite", "bookworm")
	if o := cfg.bootstrapOptions(); o.Arch != "" {
		t.Errorf("arch amd64 on an amd64 host: bootstrapper gets --arch=%s, want none", o.Arch)
	}
}

func indexOf(list []string, s string) int {
	for i, item := range list {
		if item == s {
			return i
		}
	}
	return -1
}

// A base of another architecture is another base; the host's own keeps
// the name it had before arch existed.
func TestCachedBaseKeysOnTheArch(t *testing.T) {
	native := testConfig(t, "suite", "bookworm").baseImageName()
	named := testConfig(t, "suite", "bookworm", "arch", "amd64").baseImageName()
	arm64 := testConfig(t, "suite", "bookworm", "arch", "arm64").baseImageName()
	armhf := testConfig(t, "suite", "bookworm", "arch", "armhf").baseImageName()
	if native != named {
		t.Errorf("the host's arch named changes the base: %s, %s", native, named)
	}
	if arm64 == native || armhf == native || arm64 == armhf {
		t.Errorf("bases do not differ by arch: native %s, arm64 %s, armhf %s", native, arm64, armhf)
	}
}

// elf is the start of a program of arch a, with flags as its e_flags.
func elf(a debianArch, flags uint32) string {
	h := make([]byte, 64)
	copy(h, a.elfHeader(true))
	var order binary.ByteOrder = binary.LittleEndian
	if a.data == 2 {
		order = binary.BigEndian
	}
	off := 36
	if a.class == 2 {
		off = 48
	}
	order.PutUint32(h[off:], flags)
	return string(h)
}

func TestImageArch(t *testing.T) {
	arm64, _ := lookUpArch("arm64")
	armhf, _ := lookUpArch("armhf")
	s390x, _ := lookUpArch("s390x")
	status := "Package: libc6\nArchitecture: amd64\n\nPackage: dpkg\nStatus: install ok installed\nArchitecture: arm64\n\n"
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"dpkg's record", map[string]string{"var/lib/dpkg/arch": "armhf\ni386\n", "var/lib/dpkg/status": status}, "armhf"},
		{"dpkg's status", map[string]string{"var/lib/dpkg/status": status}, "arm64"},
		{"systemd's ELF header", map[string]string{"usr/lib/systemd/systemd": elf(arm64, 0)}, "arm64"},
		{"hard-float ARM", map[string]string{"usr/lib/systemd/systemd": elf(armhf, 0x05000400)}, "armhf"},
		{"soft-float ARM", map[string]string{"usr/lib/systemd/systemd": elf(armhf, 0x05000200)}, "armel"},
		{"big-endian", map[string]string{"lib/systemd/systemd": elf(s390x, 0)}, "s390x"},
		{"nothing says", map[string]string{"etc/os-release": "ID=debian\n"}, ""},
		{"garbage record", map[string]string{"var/lib/dpkg/arch": "../../x\n", "usr/lib/systemd/systemd": "#!/bin/sh\n"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			got, err := imageArch(dir)
			if err != nil || got != tc.want {
				t.Errorf("imageArch = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// A symlink out of the tree is not followed to the host's files.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/exe", filepath.Join(dir, "usr/lib/systemd/systemd")); err != nil {
		t.Fatal(err)
	}
	if got, _ := imageArch(dir); got != "" {
		t.Errorf("imageArch followed a symlink out of the tree: %q", got)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for path, body := range files {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// An imported or cloned image's architecture is read from it: a foreign
// one is noted for the start and shutdown, one that contradicts arch or
// that the host cannot run fails the build before it boots.
func TestGuestArchStep(t *testing.T) {
	cases := []struct {
		name     string
		entries  map[string]string
		kv       []interface{}
		arch     string // the image's
		emulated string
		want     string
	}{
		{"native import", nil, []interface{}{"import", "x.tar"}, "amd64", "", ""},
		{"i386 import", nil, []interface{}{"import", "x.tar"}, "i386", "", ""},
		{"arm64 import", map[string]string{"qemu-aarch64": binfmtAarch64}, []interface{}{"import", "x.tar"}, "arm64", "arm64", ""},
		{"arm64 import as arch says", map[string]string{"qemu-aarch64": binfmtAarch64}, []interface{}{"import", "x.tar", "arch", "arm64"}, "arm64", "arm64", ""},
		{"image of another arch", map[string]string{"qemu-aarch64": binfmtAarch64, "qemu-arm": binfmtArm}, []interface{}{"import", "x.tar", "arch", "armhf"}, "arm64", "",
			`x.tar" holds arm64 programs, not armhf ones; set arch to "arm64" or leave it unset`},
		{"image the host cannot run", nil, []interface{}{"clone", "base"}, "arm64", "",
			`clone: machine "base" holds arm64 programs, and arch: this amd64 host cannot run arm64 programs`},
		{"unreadable image, arch given", map[string]string{"qemu-aarch64": binfmtAarch64}, []interface{}{"import", "x.raw", "arch", "arm64"}, "", "arm64", ""},
		{"bootstrapped arm64", map[string]string{"qemu-aarch64": binfmtAarch64}, []interface{}{"arch", "arm64"}, "", "arm64", ""},
		{"bootstrapped, the host's", nil, nil, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			withBinfmt(t, tc.entries)
			cfg := testConfig(t, tc.kv...)
			if tc.arch != "" {
				writeFiles(t, cfg.containerPath(), map[string]string{"var/lib/dpkg/arch": tc.arch + "\n"})
			}
			state, _, _ := testState(t, cfg)
			(&stepGuestArch{}).Run(t.Context(), state)
			err := stepError(state)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v\nwant an error containing %q", err, tc.want)
			}
			got, _ := state.Get(stateEmulated).(string)
			if got != tc.emulated {
				t.Errorf("emulated = %q, want %q", got, tc.emulated)
			}
		})
	}
}

// A clone source the host cannot run is refused before it is copied.
func TestCloneOfAnImageTheHostCannotRunCopiesNothing(t *testing.T) {
	withBinfmt(t, nil)
	cfg := testConfig(t, "clone", "base")
	writeFiles(t, cfg.cloneSourcePath(), map[string]string{"var/lib/dpkg/arch": "riscv64\n"})
	state, f, _ := testState(t, cfg)
	f.images["base"] = true
	(&stepPrepare{}).Run(t.Context(), state)
	err := stepError(state)
	if err == nil || !strings.Contains(err.Error(), `clone: machine "base" holds riscv64 programs, and arch: this amd64 host cannot run riscv64 programs`) {
		t.Errorf("got %v; want the clone refused", err)
	}
	assertNoCall(t, f, "clone")
}
