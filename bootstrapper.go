package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

var bootstrappers = []string{"debootstrap", "mmdebstrap"}

// lookPath finds a tool on PATH; tests replace it.
var lookPath = exec.LookPath

// bootstraps reports whether the build installs its tree itself rather
// than importing or cloning one.
func (c *Config) bootstraps() bool {
	return c.Import == "" && c.Clone == ""
}

// validateBootstrapper checks bootstrapper and the options that depend on
// it.
func (c *Config) validateBootstrapper() []error {
	var errs []error
	add := func(format string, args ...interface{}) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if !contains(bootstrappers, c.Bootstrapper) {
		add(`bootstrapper: %q is not one of %s; leave it unset for debootstrap`, c.Bootstrapper, strings.Join(bootstrappers, ", "))
		return errs
	}
	if c.Bootstrapper == "mmdebstrap" {
		if c.Variant == "fakechroot" {
			add(`variant: "fakechroot" is a debootstrap variant; with bootstrapper "mmdebstrap" use minbase or buildd, or leave it unset`)
		}
		if _, err := lookPath("mmdebstrap"); err != nil && c.bootstraps() {
			add(`bootstrapper: mmdebstrap is not installed; apt-get install mmdebstrap, or leave bootstrapper unset for debootstrap`)
		}
	}
	if c.CacheBase && !c.bootstraps() {
		add(`cache_base: only a build that installs its tree has a base to keep; remove cache_base, or "import" and "clone"`)
	}
	if c.CacheBase && c.MachinesDir != defaultMachinesDir {
		add(`cache_base: the base images live in %s, where machinectl clones them; leave machines_dir unset with cache_base`, defaultMachinesDir)
	}
	return errs
}

// mmdebstrapHooks merge /usr as debootstrap does (and install the same
// usr-is-merged package), where the suite has that package.
const mmdebstrapHooks = "/usr/share/mmdebstrap/hooks/maybe-merged-usr"

// The package cache reaches mmdebstrap's apt as a bind mount, set up and
// torn down by these fixed hooks; the directory comes in the environment,
// so no path is ever part of the shell text. mmdebstrap runs in a mount
// namespace of its own, so the mount goes away with it even on a crash,
// and a failed build removing the tree cannot reach the cache.
const (
	cacheDirEnv        = "NSPAWN_CACHE_DIR"
	cacheMountHook     = `mkdir -p "$1/var/cache/apt/archives" && mount --bind "$` + cacheDirEnv + `" "$1/var/cache/apt/archives"`
	cacheUnmountHook   = `umount "$1/var/cache/apt/archives"`
	mmdebstrapSkipList = "essential/unlink,cleanup/apt/lists"
)

// bootstrapArgv is the command line that installs the tree for opts.
func bootstrapArgv(opts bootstrapOptions) []string {
	if opts.Tool == "mmdebstrap" {
		return mmdebstrapArgv(opts)
	}
	return debootstrapArgv(opts)
}

// bootstrapEnv is what the bootstrapper needs in its environment beyond
// ours.
func bootstrapEnv(opts bootstrapOptions) []string {
	var env []string
	if opts.Tool == "mmdebstrap" {
		env = append(env, cacheDirEnv+"="+opts.CacheDir)
	}
	if opts.SourceDate != nil {
		env = append(env, sourceDateEpochEnv+"="+strconv.FormatInt(opts.SourceDate.Unix(), 10))
	}
	return env
}

// selectionArgs say what to install, in options both tools read alike:
// the architecture, the variant, the packages, the components.
func selectionArgs(opts bootstrapOptions) []string {
	var args []string
	if opts.Arch != "" {
		args = append(args, "--arch="+opts.Arch)
	}
	if opts.Variant != "" {
		args = append(args, "--variant="+opts.Variant)
	}
	args = append(args, "--include="+strings.Join(opts.Include, ","))
	if opts.Components != nil {
		args = append(args, "--components="+strings.Join(opts.Components, ","))
	}
	return args
}

// debootstrapArgv is the debootstrap command line for opts.
func debootstrapArgv(opts bootstrapOptions) []string {
	argv := append([]string{"debootstrap"}, selectionArgs(opts)...)
	argv = append(argv,
		"--cache-dir="+opts.CacheDir,
		opts.Suite, opts.Target)
	if opts.Mirror != "" {
		argv = append(argv, opts.Mirror)
	}
	return argv
}

// mmdebstrapArgv installs what debootstrapArgv does. It keeps the
// downloaded packages (essential/unlink) and the package lists, as
// debootstrap does, so provisioners can apt-get install without an update.
func mmdebstrapArgv(opts bootstrapOptions) []string {
	argv := []string{"unshare", "--mount", "--propagation=private", "--",
		"mmdebstrap", "--mode=root"}
	argv = append(argv, selectionArgs(opts)...)
	argv = append(argv,
		"--hook-dir="+mmdebstrapHooks,
		"--skip="+mmdebstrapSkipList,
		"--setup-hook="+cacheMountHook,
		"--setup-hook="+unsafeIOHook,
		"--customize-hook="+cacheUnmountHook)
	if opts.IgnoreValidUntil {
		argv = append(argv, "--aptopt="+aptIgnoreValidUntil)
	}
	argv = append(argv, opts.Suite, opts.Target)
	if opts.Mirror != "" {
		argv = append(argv, opts.Mirror)
	}
	return argv
}
