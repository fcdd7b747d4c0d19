//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A user switches bootstrapper = "mmdebstrap" for speed and gets the image
// debootstrap would have made.
func TestMmdebstrapMakesTheSameImage(t *testing.T) {
	Scenario(t, WithoutBase)
	h := BootHost(t)
	debsBefore := countDebs(t, h.Path("var/cache/apt/archives"))
	dir := h.Project("bootstrappers", map[string]string{"template.pkr.hcl": `
variable "mirror" { type = string }
source "nspawn" "deb" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}
source "nspawn" "mm" {
  network = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  bootstrapper = "mmdebstrap"
  timeout      = "90s"
}
build {
  sources = ["source.nspawn.deb", "source.nspawn.mm"]
  # The package lists are there: no apt-get update needed.
  provisioner "shell" { inline = ["apt-get install -y -q hello", "hello"] }
}`})
	r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), ".")
	expectSuccess(t, r)
	if !strings.Contains(r.out, "with mmdebstrap...") {
		t.Errorf("the mm build does not say it used mmdebstrap:\n%s", lastLines(r.out, 40))
	}
	packages := func(name string) string {
		return h.Run("chroot", "/var/lib/machines/"+name, "dpkg-query", "-W", "-f", "${Package}\n")
	}
	deb, mm := packages("deb"), packages("mm")
	if deb != mm {
		t.Errorf("installed packages differ:\ndebootstrap:\n%s\nmmdebstrap:\n%s", deb, mm)
	}
	for _, name := range []string{"deb", "mm"} {
		m := func(p string) string { return h.machine(name, p) }
		if target, err := os.Readlink(m("bin")); err != nil || target != "usr/bin" {
			t.Errorf("%s: /bin is %q (%v); want merged /usr", name, target, err)
		}
		if exists(m("etc/hostname")) {
			t.Errorf("%s: etc/hostname exists", name)
		}
		if exists(m("etc/dpkg/dpkg.cfg.d/00nspawn-unsafe-io")) {
			t.Errorf("%s: the install's unsafe-io drop-in stayed in the image", name)
		}
		// The provisioner's apt-get leaves hello's package; no other.
		if n := countDebs(t, m("var/cache/apt/archives")); n != 1 || !exists(firstGlob(m("var/cache/apt/archives/hello_*.deb"))) {
			t.Errorf("%s: %d .deb files in the image; want only the provisioner's hello", name, n)
		}
		if !exists(m("etc/systemd/system/multi-user.target.wants/systemd-networkd.service")) {
			t.Errorf("%s: systemd-networkd not enabled", name)
		}
		fileContains(t, m("etc/apt/apt.conf.d/90nspawn-no-recommends"), `"false"`)
		fileContains(t, m("etc/dpkg/dpkg.cfg.d/90nspawn-no-docs"), "path-exclude=/usr/share/doc/*")
		if b, err := os.ReadFile(m("etc/machine-id")); err != nil || len(b) != 0 {
			t.Errorf("%s: etc/machine-id %q (%v); want empty", name, b, err)
		}
	}
	if after := countDebs(t, h.Path("var/cache/apt/archives")); after < debsBefore {
		t.Errorf("the package cache shrank from %d to %d .deb files", debsBefore, after)
	}
	if mounts := h.Run("cat", "/proc/self/mountinfo"); strings.Contains(mounts, "/var/lib/machines/mm") {
		t.Errorf("a mount into the mm tree is left:\n%s", mounts)
	}
	h.noMachinesRunning()
}

func countDebs(t *testing.T, dir string) int {
	t.Helper()
	debs, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil {
		t.Fatal(err)
	}
	return len(debs)
}

func firstGlob(pattern string) string {
	if m, _ := filepath.Glob(pattern); len(m) > 0 {
		return m[0]
	}
	return pattern
}

var baseImage = regexp.MustCompile(`\.nspawn-base-bookworm-[0-9a-f]{16}`)

// With cache_base, the first build keeps its fresh tree and later builds
// of the same base clone it; the README's purge commands remove it.
func TestCacheBase(t *testing.T) {
	Scenario(t, WithoutBase)
	h := BootHost(t)
	var sources strings.Builder
	for _, name := range []string{"a", "b", "c", "d"} {
		sources.WriteString(`
source "nspawn" "` + name + `" {
  network = "host"
  suite      = "bookworm"
  variant    = "minbase"
  mirror     = var.mirror
  cache_base = true
  timeout    = "90s"
}`)
	}
	dir := h.Project("cachebase", map[string]string{"template.pkr.hcl": `
variable "mirror" { type = string }` + sources.String() + `
build {
  sources = ["source.nspawn.a", "source.nspawn.b", "source.nspawn.c", "source.nspawn.d"]
  provisioner "shell" { inline = ["touch /root/made-by-$(hostname)"] }
}`})
	build := func(only string) result {
		t.Helper()
		r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), "-only="+only, ".")
		expectSuccess(t, r)
		return r
	}
	hidden := func() []string {
		return baseImage.FindAllString(h.Run("machinectl", "list-images", "--all", "--no-legend"), -1)
	}

	// Two builds at once: one installs, the other waits for its base.
	r := build("nspawn.a,nspawn.b")
	if n := strings.Count(r.out, "Installing bookworm"); n != 1 {
		t.Errorf("%d builds installed bookworm; want 1:\n%s", n, lastLines(r.out, 40))
	}
	if n := strings.Count(r.out, "Cloning cached base image .nspawn-base-bookworm-"); n != 1 {
		t.Errorf("%d builds cloned the base; want 1", n)
	}
	bases := hidden()
	if len(bases) != 1 {
		t.Fatalf("hidden base images: %q; want one", bases)
	}
	base := bases[0]
	if out := h.Run("machinectl", "show-image", "--property=ReadOnly", base); !strings.Contains(out, "ReadOnly=yes") {
		t.Errorf("base image %s: %s; want read-only", base, out)
	}
	if h.hasImage(base) {
		t.Errorf("base image %s is not hidden from machinectl list-images", base)
	}
	for _, name := range []string{"a", "b"} {
		made, _ := filepath.Glob(h.machine(name, "root/made-by-*"))
		if len(made) != 1 || filepath.Base(made[0]) != "made-by-"+name {
			t.Errorf("container %s holds %q; want only its own provisioner's file", name, made)
		}
	}
	if exists(h.machine(base, "root/made-by-a")) || exists(h.machine(base, "root/made-by-b")) {
		t.Errorf("the base holds a provisioner's file; it must be kept before provisioning")
	}

	r = build("nspawn.c")
	if strings.Contains(r.out, "Installing") || !strings.Contains(r.out, "Cloning cached base image "+base+" as c") {
		t.Errorf("the third build did not clone the base:\n%s", lastLines(r.out, 30))
	}

	// The README's purges: machinectl clean, and machinectl remove.
	h.Run("machinectl", "clean")
	if left := hidden(); len(left) != 0 {
		t.Errorf("after machinectl clean: %q left", left)
	}
	r = build("nspawn.d")
	if !strings.Contains(r.out, "Installing bookworm") {
		t.Errorf("after the purge the build did not install afresh:\n%s", lastLines(r.out, 30))
	}
	if bases := hidden(); len(bases) != 1 {
		t.Fatalf("hidden base images after a fresh install: %q; want one", bases)
	}
	h.Run("machinectl", "remove", hidden()[0])
	if left := hidden(); len(left) != 0 {
		t.Errorf("after machinectl remove: %q left", left)
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		if !h.hasImage(name) {
			t.Errorf("container %s is gone; purging the base must not touch it", name)
		}
	}
	h.noMachinesRunning()
}
