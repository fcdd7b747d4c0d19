package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Headers of well-formed test images.
var (
	zstdHeader = []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0}
	tarHeader  = append(make([]byte, 257), []byte("ustar\x0000")...)
)

// TestMain gives the tests a debootstrap that knows a few suites, so they
// run on machines without debootstrap.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "debootstrap-scripts-")
	if err != nil {
		panic(err)
	}
	for _, suite := range []string{"unstable", "bookworm", "trixie"} {
		if err := os.WriteFile(filepath.Join(dir, suite), nil, 0o644); err != nil {
			panic(err)
		}
	}
	debootstrapScripts = dir
	// An amd64 host with no interpreters registered, wherever the tests
	// run; the arch tests register their own.
	hostArch = func() string { return "amd64" }
	binfmtDir = filepath.Join(dir, "binfmt_misc")
	nspawnSettingsDir = filepath.Join(dir, "nspawn")
	lockDir = filepath.Join(dir, "lock")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rawConfig is what Packer hands Prepare for a build named name.
func rawConfig(name string, kv ...interface{}) map[string]interface{} {
	raw := map[string]interface{}{"packer_build_name": name, "packer_builder_type": "nspawn"}
	for i := 0; i+1 < len(kv); i += 2 {
		raw[kv[i].(string)] = kv[i+1]
	}
	return raw
}

func TestPrepareDefaults(t *testing.T) {
	b := new(Builder)
	cache := t.TempDir()
	if _, _, err := b.Prepare(rawConfig("base", "cache_dir", cache, "machines_dir", t.TempDir())); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	c := b.config
	if c.Suite != "unstable" || c.timeout != 20*time.Second || c.Mirror != "" || c.Variant != "" || c.ImportVerify != "" {
		t.Errorf("defaults: got suite %q timeout %s mirror %q variant %q verify %q; want unstable 20s and empty rest",
			c.Suite, c.timeout, c.Mirror, c.Variant, c.ImportVerify)
	}
	if c.CacheDir != cache {
		t.Errorf("cache_dir: got %q, want %q", c.CacheDir, cache)
	}
	if c.Bootstrapper != "debootstrap" || c.CacheBase {
		t.Errorf("bootstrapper %q, cache_base %v; want debootstrap and false", c.Bootstrapper, c.CacheBase)
	}
}

func TestDefaultPaths(t *testing.T) {
	var c Config
	c.applyDefaults()
	if c.CacheDir != "/var/cache/apt/archives" || c.MachinesDir != "/var/lib/machines" {
		t.Errorf("got cache_dir %q machines_dir %q", c.CacheDir, c.MachinesDir)
	}
}

func TestPrepareAcceptsDurationStrings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{{"90s", 90 * time.Second}, {"2m", 2 * time.Minute}, {"1h30m", 90 * time.Minute}} {
		b := new(Builder)
		if _, _, err := b.Prepare(rawConfig("base", "timeout", tc.in, "cache_dir", t.TempDir(), "machines_dir", t.TempDir())); err != nil {
			t.Fatalf("timeout %q: %v", tc.in, err)
		}
		if b.config.timeout != tc.want {
			t.Errorf("timeout %q: got %s, want %s", tc.in, b.config.timeout, tc.want)
		}
	}
}

func TestPrepareRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(dir, "image.tar")
	if err := os.WriteFile(image, tarHeader, 0o644); err != nil {
		t.Fatal(err)
	}
	textTar, textZst, empty := filepath.Join(dir, "notes.tar"), filepath.Join(dir, "notes.tar.zst"), filepath.Join(dir, "empty.raw")
	for path, body := range map[string]string{textTar: strings.Repeat("just text\n", 60), textZst: "text", empty: ""} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ok := []interface{}{"cache_dir", dir, "machines_dir", dir}
	with := func(kv ...interface{}) []interface{} { return append(append([]interface{}{}, ok...), kv...) }

	cases := []struct {
		name string
		raw  map[string]interface{}
		want string
	}{
		{"import and clone", rawConfig("b", with("import", image, "clone", "base", "machines_dir", "/var/lib/machines")...), `"import" and "clone" are both set`},
		{"empty name", rawConfig("", ok...), "name: the build has no name"},
		{"slash in name", rawConfig("a/b", ok...), `name: "a/b" is not a valid machine name`},
		{"dot-dot name", rawConfig("a..b", ok...), `name: "a..b" contains ".."`},
		{"only dots", rawConfig("..", ok...), `name: ".." contains ".."`},
		{"leading dot", rawConfig(".hidden", ok...), `name: ".hidden" is not a valid machine name`},
		{"leading dash", rawConfig("-rf", ok...), `name: "-rf" is not a valid machine name`},
		{"space in name", rawConfig("a b", ok...), `name: "a b" is not a valid machine name`},
		{"overlong name", rawConfig(strings.Repeat("a", 65), ok...), "is longer than 64 characters"},
		{"relative machines_dir", rawConfig("b", "cache_dir", dir, "machines_dir", "machines"), `machines_dir: "machines" is a relative path`},
		{"missing machines_dir", rawConfig("b", "cache_dir", dir, "machines_dir", "/nonexistent/m"), `machines_dir: "/nonexistent/m" does not exist`},
		{"file machines_dir", rawConfig("b", "cache_dir", dir, "machines_dir", file), "machines_dir: " + `"` + file + `" is not a directory`},
		{"relative cache_dir", rawConfig("b", "cache_dir", "cache", "machines_dir", dir), `cache_dir: "cache" is a relative path`},
		{"missing cache_dir", rawConfig("b", "cache_dir", "/nonexistent/c", "machines_dir", dir), `cache_dir: "/nonexistent/c" does not exist`},
		{"file cache_dir", rawConfig("b", "cache_dir", file, "machines_dir", dir), "cache_dir: " + `"` + file + `" is not a directory`},
		{"negative timeout", rawConfig("b", with("timeout", "-5s")...), `timeout: "-5s" is not positive`},
		{"zero timeout", rawConfig("b", with("timeout", "0s")...), `timeout: "0s" is not positive`},
		{"huge timeout", rawConfig("b", with("timeout", "100000h")...), `timeout: "100000h" is more than 24h0m0s`},
		{"bad timeout", rawConfig("b", with("timeout", "soon")...), `timeout: "soon" is not a duration`},
		{"missing import", rawConfig("b", "import", "/nonexistent.tar.zst"), `import: "/nonexistent.tar.zst" does not exist`},
		{"ftp import", rawConfig("b", "import", "ftp://host/x.tar"), `import: "ftp://host/x.tar" is not an http(s) URL`},
		{"bad verify", rawConfig("b", "import", "https://h/x.tar", "import_verify", "maybe"), `import_verify: "maybe" is not one of no, checksum, signature`},
		{"clone self", rawConfig("b", "clone", "b"), `clone: "b" is the container this build makes`},
		{"package with a version", rawConfig("b", with("packages", []string{"curl=8.0"})...), `packages: "curl=8.0" is not a Debian package name`},
		{"upper-case package", rawConfig("b", with("packages", []string{"Nginx"})...), `packages: "Nginx" is not a Debian package name`},
		{"option as package", rawConfig("b", with("packages", []string{"--no-check-gpg"})...), `packages: "--no-check-gpg" is not a Debian package name`},
		{"one-letter package", rawConfig("b", with("packages", []string{"a"})...), `packages: "a" is not a Debian package name`},
		{"component with a space", rawConfig("b", with("components", []string{"main contrib"})...), `components: "main contrib" is not an archive component`},
		{"component as option", rawConfig("b", with("components", []string{"-x"})...), `components: "-x" is not an archive component`},
		{"packages with clone", rawConfig("b", "clone", "base", "packages", []string{"curl"}), `packages, components: only a build that installs its tree installs packages`},
		{"clone bad name", rawConfig("b", "clone", "../x"), `clone: "../x" is not a machine name`},
		{"import with machines_dir", rawConfig("b", with("import", image)...), "machines_dir: machinectl imports and clones only into /var/lib/machines"},
		{"mirror not a URL", rawConfig("b", with("mirror", "mirror.example")...), `mirror: "mirror.example" is not a URL`},
		{"mirror with an option in it", rawConfig("b", with("mirror", "http://HOST/debian --no-check-gpg")...), `mirror: "http://HOST/debian --no-check-gpg" holds whitespace; give one URL`},
		{"mirror with a newline", rawConfig("b", with("mirror", "http://HOST/debian\n")...), `mirror: "http://HOST/debian\n" holds whitespace`},
		{"bad variant", rawConfig("b", with("variant", "min base")...), `variant: "min base" is not a debootstrap variant`},
		{"unknown variant", rawConfig("b", with("variant", "tiny")...), `variant: "tiny" is not a debootstrap variant; use one of minbase, buildd, fakechroot`},
		{"unknown suite", rawConfig("b", with("suite", "florp")...), `suite: "florp" is not a suite this debootstrap knows`},
		{"text file named .tar", rawConfig("b", "import", textTar), `import: "` + textTar + `" is not a tar archive`},
		{"text file named .tar.zst", rawConfig("b", "import", textZst), `is not zstd-compressed`},
		{"empty image", rawConfig("b", "import", empty), `import: "` + empty + `" is empty`},
		{"bad suite", rawConfig("b", with("suite", "../etc")...), `suite: "../etc" is not a suite name`},
		{"unknown key", rawConfig("b", with("nope", 1)...), `unknown configuration key: '"nope"'`},
		{"wrong type", rawConfig("b", with("suite", []string{"a"})...), "suite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := new(Builder).Prepare(tc.raw)
			if err == nil {
				t.Fatalf("Prepare accepted %v; want an error containing %q", tc.raw, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Prepare error:\n%s\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSuiteNeedsDebootstrap(t *testing.T) {
	saved := debootstrapScripts
	debootstrapScripts = filepath.Join(t.TempDir(), "missing")
	defer func() { debootstrapScripts = saved }()
	_, _, err := new(Builder).Prepare(rawConfig("b", "cache_dir", t.TempDir(), "machines_dir", t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "debootstrap is not installed") {
		t.Errorf("got %v; want a debootstrap-missing error", err)
	}
	if _, _, err := new(Builder).Prepare(rawConfig("b", "clone", "base")); err != nil {
		t.Errorf("clone needs no debootstrap, got %v", err)
	}
}

func TestPrepareAcceptsEachSource(t *testing.T) {
	dir := t.TempDir()
	image := filepath.Join(dir, "base.tar.zst")
	if err := os.WriteFile(image, zstdHeader, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]map[string]interface{}{
		"debootstrap": rawConfig("b", "cache_dir", dir, "machines_dir", dir, "suite", "bookworm", "variant", "minbase", "mirror", "http://127.0.0.1/debian"),
		"import file": rawConfig("b", "import", image),
		"import dir":  rawConfig("b", "import", dir),
		"import url":  rawConfig("b", "import", "https://127.0.0.1/x.raw", "import_verify", "no"),
		"clone":       rawConfig("b", "clone", "base"),
	}
	for name, raw := range cases {
		if _, _, err := new(Builder).Prepare(raw); err != nil {
			t.Errorf("%s: Prepare: %v", name, err)
		}
	}
}

func TestRelativeImportIsResolvedAgainstWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("base.tar", tarHeader, 0o644); err != nil {
		t.Fatal(err)
	}
	b := new(Builder)
	if _, _, err := b.Prepare(rawConfig("b", "import", "base.tar")); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "base.tar"); b.config.Import != want {
		t.Errorf("import: got %q, want %q", b.config.Import, want)
	}
}

func FuzzPrepare(f *testing.F) {
	f.Add("base", "", "", "bookworm", "20s", "minbase")
	f.Add("a/b", "/x.tar", "base", "../x", "-1s", "")
	f.Add("..", "https://h/x.raw", "", "", "1h", "buildd")
	f.Add("-rf", "relative.tar.zst", "a..b", "sid", "soon", "x y")
	f.Fuzz(func(t *testing.T, name, imp, clone, suite, timeout, variant string) {
		raw := rawConfig(name, "import", imp, "clone", clone, "suite", suite, "timeout", timeout,
			"variant", variant, "cache_dir", "/", "machines_dir", "/")
		b := new(Builder)
		if _, _, err := b.Prepare(raw); err != nil {
			return
		}
		c := b.config
		if strings.ContainsAny(c.PackerBuildName, "/ \n") || strings.Contains(c.PackerBuildName, "..") ||
			len(c.PackerBuildName) > maxNameLength || strings.HasPrefix(c.PackerBuildName, "-") || strings.HasPrefix(c.PackerBuildName, ".") {
			t.Errorf("accepted name %q", c.PackerBuildName)
		}
		if c.Import != "" && c.Clone != "" {
			t.Errorf("accepted import %q with clone %q", c.Import, c.Clone)
		}
		if c.timeout <= 0 || c.timeout > maxTimeout {
			t.Errorf("accepted timeout %q as %s", c.Timeout, c.timeout)
		}
		if filepath.Dir(c.containerPath()) != c.MachinesDir {
			t.Errorf("container path %q escapes machines_dir %q", c.containerPath(), c.MachinesDir)
		}
	})
}

func TestRelativePathsFollowTheTemplate(t *testing.T) {
	dir := t.TempDir()
	template := filepath.Join(dir, "base.pkr.hcl")
	for path, body := range map[string][]byte{template: nil, filepath.Join(dir, "in.tar"): tarHeader} {
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, given := range []string{template, dir} {
		b := new(Builder)
		raw := rawConfig("b", "packer_template_path", given, "import", "in.tar", "export", []string{"out/x.tar"})
		if _, _, err := b.Prepare(raw); err != nil {
			t.Fatalf("template path %q: %v", given, err)
		}
		if want := filepath.Join(dir, "in.tar"); b.config.Import != want {
			t.Errorf("template path %q: import %q, want %q", given, b.config.Import, want)
		}
		if want := filepath.Join(dir, "out/x.tar"); b.config.Export[0] != want {
			t.Errorf("template path %q: export %q, want %q", given, b.config.Export[0], want)
		}
	}
}

func TestSourceDateEpochChecks(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "image.raw")
	if err := os.WriteFile(raw, []byte("raw"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "last tuesday")
	if _, _, err := new(Builder).Prepare(rawConfig("b", "cache_dir", dir, "machines_dir", dir)); err == nil ||
		!strings.Contains(err.Error(), `SOURCE_DATE_EPOCH: "last tuesday" in the environment is not a number of seconds`) {
		t.Errorf("bad SOURCE_DATE_EPOCH: %v", err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if _, _, err := new(Builder).Prepare(rawConfig("b", "import", raw)); err == nil ||
		!strings.Contains(err.Error(), `reproducible: "`+raw+`" is a raw image, and reproducible exports`) {
		t.Errorf("raw import with SOURCE_DATE_EPOCH: %v", err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "")
	if _, _, err := new(Builder).Prepare(rawConfig("b", "import", raw, "reproducible", true)); err == nil ||
		!strings.Contains(err.Error(), `is a raw image, and reproducible exports`) {
		t.Errorf("raw import with reproducible: %v", err)
	}
	if _, _, err := new(Builder).Prepare(rawConfig("b", "import", raw)); err != nil {
		t.Errorf("plain raw import: %v", err)
	}
}
