package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMmdebstrapArgv(t *testing.T) {
	opts := bootstrapOptions{Tool: "mmdebstrap", Suite: "bookworm", Target: "/var/lib/machines/web",
		CacheDir: "/var/cache/apt/archives", Include: []string{"dbus", "procps"}}
	prefix := []string{"unshare", "--mount", "--propagation=private", "--", "mmdebstrap", "--mode=root"}
	common := []string{"--include=dbus,procps", "--hook-dir=" + mmdebstrapHooks,
		"--skip=essential/unlink,cleanup/apt/lists",
		"--setup-hook=" + cacheMountHook, "--setup-hook=" + unsafeIOHook, "--customize-hook=" + cacheUnmountHook}
	withAll := opts
	withAll.Variant, withAll.Mirror = "minbase", "http://127.0.0.1/debian"
	stale := opts
	stale.IgnoreValidUntil = true
	contrib := opts
	contrib.Components = []string{"main", "contrib"}
	cases := []struct {
		name string
		opts bootstrapOptions
		want []string
	}{
		{"defaults pass no variant or mirror", opts,
			concat(prefix, common, []string{"bookworm", "/var/lib/machines/web"})},
		{"variant and mirror", withAll,
			concat(prefix, []string{"--variant=minbase"}, common, []string{"bookworm", "/var/lib/machines/web", "http://127.0.0.1/debian"})},
		{"components", contrib,
			concat(prefix, []string{"--include=dbus,procps", "--components=main,contrib"}, common[1:], []string{"bookworm", "/var/lib/machines/web"})},
		{"expired Release files taken", stale,
			concat(prefix, common, []string{`--aptopt=Acquire::Check-Valid-Until "false";`, "bookworm", "/var/lib/machines/web"})},
	}
	for _, tc := range cases {
		if got := bootstrapArgv(tc.opts); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	if env := bootstrapEnv(opts); !reflect.DeepEqual(env, []string{"NSPAWN_CACHE_DIR=/var/cache/apt/archives"}) {
		t.Errorf("mmdebstrap environment: got %q", env)
	}
	opts.Tool = "debootstrap"
	if env := bootstrapEnv(opts); env != nil {
		t.Errorf("debootstrap environment: got %q, want nothing added", env)
	}
}

func concat(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// The hooks are shell text: run them with stand-ins for mount and umount
// to prove an awkward cache path reaches mount as one untouched argument.
func TestCacheHooksPassThePathWhole(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	bin, target := t.TempDir(), t.TempDir()
	log := filepath.Join(t.TempDir(), "log")
	stub := "#!" + sh + "\nfor a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done >> " + log + "\n"
	for _, tool := range []string{"mount", "umount"} {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cache := `/tmp/a b/'c' "d" $(touch pwned) ;x`
	for _, hook := range []string{cacheMountHook, cacheUnmountHook} {
		cmd := exec.Command(sh, "-c", hook, "hook", target)
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", cacheDirEnv + "=" + cache}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hook %q: %v: %s", hook, err, out)
		}
		if entries, _ := os.ReadDir(cmd.Dir); len(entries) != 0 {
			t.Errorf("hook %q ran part of the path as a command", hook)
		}
	}
	got, _ := os.ReadFile(log)
	want := strings.Join([]string{
		filepath.Join(bin, "mount"), "--bind", cache, target + "/var/cache/apt/archives",
		filepath.Join(bin, "umount"), target + "/var/cache/apt/archives", ""}, "\n")
	if string(got) != want {
		t.Errorf("the hooks ran:\n%s\nwant:\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(target, "var/cache/apt/archives")); err != nil {
		t.Errorf("the mount point was not made: %v", err)
	}
}

func TestToolName(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"debootstrap", "--variant=minbase", "x"}, "debootstrap --variant=minbase"},
		{[]string{"unshare", "--mount", "--", "mmdebstrap", "--mode=root"}, "mmdebstrap --mode=root"},
		{[]string{"zstd"}, "zstd"},
	} {
		if got := toolName(tc.argv); got != tc.want {
			t.Errorf("toolName(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
}

func TestValidateBootstrapper(t *testing.T) {
	saved := lookPath
	defer func() { lookPath = saved }()
	installed := true
	lookPath = func(string) (string, error) {
		if installed {
			return "/usr/bin/mmdebstrap", nil
		}
		return "", errors.New("not found")
	}
	cases := []struct {
		name      string
		installed bool
		kv        []interface{}
		want      string // "" for no error
	}{
		{"default is debootstrap", true, nil, ""},
		{"mmdebstrap", true, []interface{}{"bootstrapper", "mmdebstrap", "variant", "minbase"}, ""},
		{"unknown tool", true, []interface{}{"bootstrapper", "cdebootstrap"}, `bootstrapper: "cdebootstrap" is not one of debootstrap, mmdebstrap`},
		{"mmdebstrap missing", false, []interface{}{"bootstrapper", "mmdebstrap"}, "apt-get install mmdebstrap"},
		{"mmdebstrap missing, clone needs none", false, []interface{}{"bootstrapper", "mmdebstrap", "clone", "base"}, ""},
		{"fakechroot with mmdebstrap", true, []interface{}{"bootstrapper", "mmdebstrap", "variant", "fakechroot"}, `variant: "fakechroot" is a debootstrap variant`},
		{"cache_base", true, []interface{}{"cache_base", true}, ""},
		{"cache_base with clone", true, []interface{}{"cache_base", true, "clone", "base"}, "cache_base: only a build that installs its tree"},
		{"cache_base in another machines_dir", true, []interface{}{"cache_base", true, "machines_dir", "OWN"}, "leave machines_dir unset with cache_base"},
	}
	for _, tc := range cases {
		installed = tc.installed
		kv := append([]interface{}{"cache_dir", t.TempDir()}, tc.kv...)
		for i := range kv {
			if kv[i] == "OWN" {
				kv[i] = t.TempDir()
			}
		}
		_, _, err := new(Builder).Prepare(rawConfig("web", kv...))
		// The default machines_dir need not exist where unit tests run.
		if err != nil && strings.TrimSpace(err.Error()) == `machines_dir: "/var/lib/machines" does not exist; create it or choose another directory` {
			err = nil
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: got %v, want no error", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
