//go:generate mapstructure-to-hcl2 -type Config

package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/common"
	"github.com/hashicorp/packer/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer/packer-plugin-sdk/template/interpolate"
)

// Config is the nspawn builder's configuration. Every option is optional.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`
	TemplatePath        string `mapstructure:"packer_template_path"` // set by Packer, not by users

	// The suite debootstrap installs, such as `bookworm`, `trixie` or
	// `noble`. Default `unstable`.
	Suite string `mapstructure:"suite"`
	// The mirror debootstrap installs from, such as `http://HOST/debian`.
	// Default: none passed, so debootstrap uses its own default for the
	// suite.
	Mirror string `mapstructure:"mirror"`
	// The debootstrap variant: `minbase`, `buildd` or `fakechroot`
	// (`fakechroot` with debootstrap only). Default: none passed.
	Variant string `mapstructure:"variant"`
	// Extra packages the bootstrapper installs in its own run (its
	// `--include`), beside the few every image gets, such as
	// `["nginx-light", "curl"]`: a base with them needs no provisioner.
	// Names as Debian policy has them. Default: none.
	Packages []string `mapstructure:"packages"`
	// The archive components the bootstrapper installs from (its
	// `--components`), such as `["main", "contrib", "non-free-firmware"]`;
	// the image's apt sources get the same. Default `["main"]`.
	Components []string `mapstructure:"components"`
	// The Debian architecture of the container, such as `arm64`, `armhf`
	// or `i386`: any the host runs, natively (`i386` on `amd64`) or
	// through a qemu-user interpreter registered with binfmt_misc (`apt-get
	// install qemu-user-static binfmt-support`, and `arch-test` for
	// mmdebstrap). The bootstrapper gets it as `--arch`. With `import` and
	// `clone` the image's own architecture is read from it (its dpkg
	// database, else its systemd's ELF header) and must be this one if
	// this is set; give it for a raw image, which cannot be read. Under
	// emulation only guests whose systemd runs there boot: bookworm (and
	// older) does, trixie and later do not (see the docs). Default: the
	// host's, `dpkg --print-architecture`.
	Arch string `mapstructure:"arch"`
	// Where debootstrap keeps downloaded packages, so later builds skip the
	// download; an existing directory. Parallel builds take turns on it
	// (apt's own lock). Default `/var/cache/apt/archives`.
	CacheDir string `mapstructure:"cache_dir"`
	// The tool that installs the tree: `debootstrap` or `mmdebstrap`
	// (faster: apt resolves and installs in one go; `apt-get install
	// mmdebstrap`). Both give the same image: the same packages, merged
	// `/usr` as debootstrap does it, the same settings. Default
	// `debootstrap`.
	Bootstrapper string `mapstructure:"bootstrapper"`
	// `true` keeps the freshly installed tree, before any provisioning, as
	// a hidden read-only image in `/var/lib/machines` named
	// `.nspawn-base-SUITE-HASH` (one per suite, variant, mirror,
	// bootstrapper, packages, components and arch), and later builds that ask for the
	// same base clone it instead of installing again (a snapshot on
	// btrfs). `machinectl list-images --all` shows these images;
	// `machinectl remove NAME` deletes one, `machinectl clean` every
	// hidden image. Default `false`.
	CacheBase bool `mapstructure:"cache_base"`
	// `false` lets the bootstrapper and the image's apt take a mirror whose
	// Release file has expired (its `Valid-Until` has passed, as on a
	// stale or snapshot mirror): mmdebstrap's apt gets
	// `Acquire::Check-Valid-Until "false"`, and the image keeps it in
	// `/etc/apt/apt.conf.d/00nspawn-check-valid-until` so provisioners'
	// `apt-get update` works with that mirror too. With the default such
	// a mirror is an error, with either bootstrapper: before anything is
	// installed when `mirror` is given (its Release file is read first),
	// else before the container boots. Default `true`.
	CheckValidUntil config.Trilean `mapstructure:"check_valid_until"`
	// Where a debootstrapped container is made. Another directory works
	// too: during the build the container is linked into `/run/machines`
	// so machinectl finds it. `import` and `clone` always write to
	// `/var/lib/machines` (machinectl's choice), so leave this unset with
	// them. Default `/var/lib/machines`.
	MachinesDir string `mapstructure:"machines_dir"`
	// Make the container from an image instead of debootstrap: an
	// `http(s)` URL of a tar (`pull-tar`; Debian 12's systemd reads `.tar`,
	// `.tar.gz`, `.tar.xz` and `.tar.bz2` there, not `.tar.zst`) or of a
	// raw image (`pull-raw`); a local `.tar`, `.tar.gz` or `.tar.xz`
	// (`import-tar`), a `.tar.zst` (streamed through `zstd` into
	// `import-tar`, no temporary copy), any other file as a raw image
	// (`import-raw`), or a directory (`import-fs`). These are `importctl`
	// commands where the host has it (systemd 256 and later), `machinectl`
	// ones elsewhere. A relative path is relative to the template's
	// directory. Default: none.
	Import string `mapstructure:"import"`
	// How `pull-tar` and `pull-raw` verify an `import` URL: `no`,
	// `checksum` (a `SHA256SUMS` file next to the image) or `signature`
	// (its GPG signature too). Default: systemd's, `signature`.
	ImportVerify string `mapstructure:"import_verify"`
	// Make the container as a copy of this existing container
	// (`machinectl clone`; a snapshot on btrfs). Default: none.
	Clone string `mapstructure:"clone"`
	// Files to write the finished container to, the format from each
	// suffix: `.tar`, `.tar.gz`, `.tar.xz` (`export-tar` of `importctl`
	// where the host has it, else of `machinectl`), `.tar.zst`
	// (`export-tar` streamed through `zstd`), `.raw` (`export-raw` for a
	// raw container, an ext4 image made with `mkfs.ext4 -d` for a
	// directory one). Relative paths are relative to
	// the template's directory. They are the artifact's files, for the
	// `checksum`, `compress`, `manifest` and `artifice` post-processors.
	// An existing file is an error unless `-force`. In JSON one string is
	// a list of one. Default: none.
	Export []string `mapstructure:"export"`
	// `true` makes the exports reproducible: two builds of the same
	// template from the same mirror state write the same bytes. The
	// bootstrapper and every provisioner command run with
	// `SOURCE_DATE_EPOCH`; after the
	// shutdown, what each build or boot makes anew (its journal, random
	// seed, logs, caches with times in them) is removed or emptied, and
	// every later time in the tree is set to `SOURCE_DATE_EPOCH`; tar
	// exports are written by the plugin itself, in a fixed order, and raw
	// ones get a UUID drawn from the build's name and every file's access
	// and change times set (with debugfs).
	// `SOURCE_DATE_EPOCH` in Packer's environment turns this on too and
	// gives the time; without it the time is the `Date` of the suite's
	// Release file at the mirror (read before the bootstrapper runs, which
	// gets it too), or for `import` and `clone` of the newest Release file
	// in the image's package lists: the same mirror state gives it again.
	// Directory containers only. Default `false`.
	Reproducible bool `mapstructure:"reproducible"`
	// `reset` shifts the container's files back to plain user ids before
	// exporting (`systemd-nspawn --private-users=0
	// --private-users-ownership=chown`), so the exports work on hosts
	// without user namespaces; directory containers only. Default `keep`.
	ExportOwnership string `mapstructure:"export_ownership"`
	// `false` removes the container once it is exported, for pipelines
	// that only want the files; needs `export`. Default `true`.
	KeepContainer config.Trilean `mapstructure:"keep_container"`
	// Files to write a software bill of materials of the finished
	// container to, the format from each suffix: `.spdx.json` (SPDX 2.3)
	// or `.cdx.json` (CycloneDX 1.6). Each lists every package installed
	// once the provisioners have run (name, version, architecture, source
	// package, package URL, and the license where its copyright file is
	// machine-readable), read from the container's dpkg database, so it
	// works however the container was made. `SOURCE_DATE_EPOCH` in the
	// environment sets their time, so identical builds give identical
	// files. Relative paths are relative to the template's directory.
	// They are the artifact's files, as the exports are. An existing file
	// is an error unless `-force`. In JSON one string is a list of one.
	// Default: none.
	SBOM []string `mapstructure:"sbom"`
	// The container's network while it is built: `veth` (what
	// `machinectl start` gives, a virtual link to the host, which needs
	// systemd-networkd there), `host` (share the host's network, for hosts
	// without networkd) or `none` (loopback only). Default `veth`.
	Network string `mapstructure:"network"`
	// Host directories mounted into the container while it is built, each
	// `SRC:DST` or `SRC` (the same path inside); absolute paths, and `SRC`
	// must exist. For caches and sources. Default: none.
	Bind []string `mapstructure:"bind"`
	// Like `bind`, read-only. Default: none.
	BindReadOnly []string `mapstructure:"bind_ro"`
	// Extra capabilities while it is built, such as `CAP_NET_ADMIN`.
	// Default: none.
	Capabilities []string `mapstructure:"capabilities"`
	// `false` runs the container without private user namespaces, `true`
	// with them. Default: as `machinectl start` does, with them.
	PrivateUsers config.Trilean `mapstructure:"private_users"`
	// The options from `network` to `private_users` are written to
	// `/etc/systemd/nspawn/NAME.nspawn`, which `machinectl start` reads.
	// That file is removed after the build, and one that was there before
	// is set aside during the build (renamed to
	// `NAME.nspawn.packer-builder-nspawn-saved`) and put back untouched.
	// `true` keeps the build's file after a successful build (a file that
	// was there stays set aside under that name). Default `false`.
	KeepSettings bool `mapstructure:"keep_settings"`
	// Run every provisioner command as this user inside the container
	// (`systemd-run --uid`), so uploads land owned by them; the user must
	// exist in the image. Default: root.
	ExecUser string `mapstructure:"exec_user"`
	// The group for `exec_user`'s commands (`systemd-run --gid`).
	// Default: the user's own.
	ExecGroup string `mapstructure:"exec_group"`
	// How long to wait for the container's systemd to accept commands once
	// started, and again for it to shut down: a duration such as `90s`,
	// `2m` or `1m30s`. Default `20s`.
	Timeout string `mapstructure:"timeout"`

	timeout time.Duration
	// sourceDate is SOURCE_DATE_EPOCH from Packer's environment, if set.
	sourceDate *time.Time
	ctx        interpolate.Context
}

const (
	defaultSuite        = "unstable"
	defaultBootstrapper = "debootstrap"
	defaultCacheDir     = "/var/cache/apt/archives"
	defaultMachinesDir  = "/var/lib/machines"
	defaultTimeout      = 20 * time.Second
	maxTimeout          = 24 * time.Hour
	maxNameLength       = 64
)

// machineName follows hostname rules: it names a directory under
// machines_dir and is the container's hostname.
var machineName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)

var verifyModes = []string{"no", "checksum", "signature"}

// decodeConfig reads Packer's raw configuration into a Config.
func decodeConfig(raws ...interface{}) (*Config, error) {
	var c Config
	err := config.Decode(&c, &config.DecodeOpts{
		PluginType:         builderID,
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// applyDefaults fills in every option left empty.
func (c *Config) applyDefaults() {
	if c.Suite == "" {
		c.Suite = defaultSuite
	}
	if c.CacheDir == "" {
		c.CacheDir = defaultCacheDir
	}
	if c.Bootstrapper == "" {
		c.Bootstrapper = defaultBootstrapper
	}
	if c.MachinesDir == "" {
		c.MachinesDir = defaultMachinesDir
	}
	c.timeout = defaultTimeout
	c.MachinesDir = filepath.Clean(c.MachinesDir)
	c.CacheDir = filepath.Clean(c.CacheDir)
	for i, path := range c.Export {
		if path != "" {
			c.Export[i] = c.absolute(path)
		}
	}
	for i, path := range c.SBOM {
		if path != "" {
			c.SBOM[i] = c.absolute(path)
		}
	}
	if c.Import != "" && !isURL(c.Import) && !strings.Contains(c.Import, "://") {
		c.Import = c.absolute(c.Import)
	}
}

// absolute resolves a relative path against the template's directory, as
// Packer's own builders do. Debian's packer 1.6.6 does not say where an
// HCL2 template is; then the directory packer runs in stands for it (the
// same for the usual "packer build .").
func (c *Config) absolute(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	base := c.TemplatePath
	if info, err := os.Stat(base); err == nil && !info.IsDir() {
		base = filepath.Dir(base)
	}
	if base == "" {
		base = "."
	}
	abs, err := filepath.Abs(filepath.Join(base, path))
	if err != nil {
		return path
	}
	return abs
}

// validate checks the options without touching the host, except to look
// at the paths they name.
func (c *Config) validate() error {
	var errs []error
	add := func(format string, args ...interface{}) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if err := validateName(c.PackerBuildName); err != nil {
		errs = append(errs, err)
	}
	if c.Import != "" && c.Clone != "" {
		add(`"import" and "clone" are both set; choose one source for the container`)
	}
	if c.Clone != "" {
		if err := validateName(c.Clone); err != nil {
			add(`clone: %q is not a machine name; give the name of a container in %s`, c.Clone, defaultMachinesDir)
		} else if c.Clone == c.PackerBuildName {
			add(`clone: %q is the container this build makes; clone another one`, c.Clone)
		}
	}
	if c.Import != "" {
		if err := checkImport(c.Import); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ImportVerify != "" && !contains(verifyModes, c.ImportVerify) {
		add(`import_verify: %q is not one of %s`, c.ImportVerify, strings.Join(verifyModes, ", "))
	}
	if strings.ContainsAny(c.Mirror, " \t\r\n\v\f") {
		add(`mirror: %q holds whitespace; give one URL, such as "http://HOST/debian" (it reaches the bootstrapper as one argument, never as options)`, c.Mirror)
	} else if c.Mirror != "" {
		if u, err := url.Parse(c.Mirror); err != nil || u.Scheme == "" || u.Host == "" && u.Scheme != "file" {
			add(`mirror: %q is not a URL; give one like "http://HOST/debian"`, c.Mirror)
		}
	}
	errs = append(errs, c.validatePackages()...)
	if c.Variant != "" && !contains(debootstrapVariants, c.Variant) {
		add(`variant: %q is not a debootstrap variant; use one of %s, or leave it unset`, c.Variant, strings.Join(debootstrapVariants, ", "))
	}
	errs = append(errs, c.validateBootstrapper()...)
	errs = append(errs, c.validateArch()...)
	if !suiteName.MatchString(c.Suite) {
		add(`suite: %q is not a suite name; use one such as "bookworm" or "unstable"`, c.Suite)
	} else if c.bootstraps() && c.Bootstrapper == "debootstrap" {
		if err := checkSuite(c.Suite); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkDir("machines_dir", c.MachinesDir); err != nil {
		errs = append(errs, err)
	} else if c.MachinesDir != defaultMachinesDir && (c.Import != "" || c.Clone != "") {
		add(`machines_dir: machinectl imports and clones only into %s; leave machines_dir unset with "import" or "clone"`, defaultMachinesDir)
	}
	if c.bootstraps() {
		if err := checkDir("cache_dir", c.CacheDir); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.validateExport()...)
	errs = append(errs, c.validateReproducible()...)
	errs = append(errs, c.validateSBOM()...)
	errs = append(errs, c.validateSettings()...)
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		switch {
		case err != nil:
			add(`timeout: %q is not a duration; give one such as "90s" or "2m"`, c.Timeout)
		case d <= 0:
			add(`timeout: %q is not positive; give a duration such as "90s"`, c.Timeout)
		case d > maxTimeout:
			add(`timeout: %q is more than %s; give a shorter duration such as "5m"`, c.Timeout, maxTimeout)
		default:
			c.timeout = d
		}
	}
	return errors.Join(errs...)
}

var (
	// packageName is Debian policy's (5.6.1): lower case letters, digits,
	// '+', '-' and '.', at least two, starting alphanumeric.
	packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	// componentName is an archive component: one word, as "main" or
	// "non-free-firmware".
	componentName       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	suiteName           = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	debootstrapVariants = []string{"minbase", "buildd", "fakechroot"}
	// debootstrapScripts holds a script per suite debootstrap knows;
	// tests point it elsewhere.
	debootstrapScripts = "/usr/share/debootstrap/scripts"
)

// validatePackages checks packages and components, which go to the
// bootstrapper only.
func (c *Config) validatePackages() []error {
	var errs []error
	for _, p := range c.Packages {
		if !packageName.MatchString(p) {
			errs = append(errs, fmt.Errorf(`packages: %q is not a Debian package name (lower case letters, digits, "+", "-" and "."); give names only, such as "nginx-light"`, p))
		}
	}
	for _, comp := range c.Components {
		if !componentName.MatchString(comp) {
			errs = append(errs, fmt.Errorf(`components: %q is not an archive component; give words such as "main", "contrib" or "non-free-firmware"`, comp))
		}
	}
	if (len(c.Packages) > 0 || len(c.Components) > 0) && !c.bootstraps() {
		errs = append(errs, errors.New(`packages, components: only a build that installs its tree installs packages; with "import" or "clone", install them with a provisioner`))
	}
	return errs
}

// checkSuite requires debootstrap to know the suite.
func checkSuite(suite string) error {
	if _, err := os.Stat(debootstrapScripts); err != nil {
		return fmt.Errorf(`suite: debootstrap is not installed (no %s); apt-get install debootstrap, or use "import" or "clone"`, debootstrapScripts)
	}
	if _, err := os.Stat(filepath.Join(debootstrapScripts, suite)); err != nil {
		return fmt.Errorf(`suite: %q is not a suite this debootstrap knows (nothing in %s); use one such as "bookworm" or "unstable", or upgrade debootstrap`, suite, debootstrapScripts)
	}
	return nil
}

// validateName checks the build name, which becomes a path under
// machines_dir and the container's hostname.
func validateName(name string) error {
	const fix = "name the source or build with letters, digits, '-', '_' and '.' only"
	switch {
	case name == "":
		return fmt.Errorf(`name: the build has no name; %s`, fix)
	case len(name) > maxNameLength:
		return fmt.Errorf(`name: %q is longer than %d characters; shorten it`, name, maxNameLength)
	case strings.Contains(name, ".."):
		return fmt.Errorf(`name: %q contains ".."; %s`, name, fix)
	case !machineName.MatchString(name):
		return fmt.Errorf(`name: %q is not a valid machine name (it must start and end with a letter or digit); %s`, name, fix)
	}
	return nil
}

// checkDir requires an absolute path to an existing directory.
func checkDir(option, path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf(`%s: %q is a relative path; give an absolute one`, option, path)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf(`%s: %q does not exist; create it or choose another directory`, option, path)
	}
	if !info.IsDir() {
		return fmt.Errorf(`%s: %q is not a directory; choose a directory`, option, path)
	}
	return nil
}

// checkImport requires an http(s) URL, or a local file or directory that
// exists.
func checkImport(source string) error {
	if isURL(source) {
		return nil
	}
	if strings.Contains(source, "://") {
		return fmt.Errorf(`import: %q is not an http(s) URL; machinectl pulls only over http and https`, source)
	}
	info, err := os.Stat(source)
	if err != nil {
		return fmt.Errorf(`import: %q does not exist; give an existing file, directory or an http(s) URL`, source)
	}
	if info.IsDir() {
		return nil
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf(`import: %q is neither a regular file nor a directory; give an image file or a directory`, source)
	}
	return checkImportFile(source)
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}
