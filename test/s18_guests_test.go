//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// guestSuites are what users build: trixie and the default (no suite:
// unstable) here, on a Debian 13 host; bookworm with both bootstrappers
// is TestMmdebstrapMakesTheSameImage's, on Debian 12.
var guestSuites = []struct{ source, suite string }{
	{"trixie", "trixie"},
	{"default", ""},
}

// Each guest boots and apt-get installs a package inside, with both
// bootstrappers.
func TestGuests(t *testing.T) {
	Scenario(t, OnDebian13, WithoutBase)
	h := BootHostOf(t, Debian13)
	stale := releaseExpired(t, DebianMirror(), "unstable")
	t.Logf("the mirror's unstable Release file expired: %v", stale)

	var b strings.Builder
	b.WriteString(`variable "mirror" { type = string }
variable "check_valid_until" {
  type    = bool
  default = true
}
`)
	var sources []string
	for _, g := range guestSuites {
		for _, tool := range []string{"debootstrap", "mmdebstrap"} {
			name := g.source + "-" + tool
			suite := ""
			if g.suite != "" {
				suite = fmt.Sprintf("  suite             = %q\n", g.suite)
			}
			fmt.Fprintf(&b, "source \"nspawn\" %q {\n%s  variant           = \"minbase\"\n  bootstrapper      = %q\n"+
				"  mirror            = var.mirror\n  network           = \"host\"\n  check_valid_until = var.check_valid_until\n  timeout           = \"90s\"\n}\n",
				name, suite, tool)
			sources = append(sources, `"source.nspawn.`+name+`"`)
		}
	}
	fmt.Fprintf(&b, `build {
  sources = [%s]
  provisioner "shell" {
    inline = [
      "apt-get update 2>&1 | tee /root/apt-update.log",
      "DEBIAN_FRONTEND=noninteractive apt-get install -y -q hello",
      "echo $(hostname) says $(hello)",
    ]
  }
}
`, strings.Join(sources, ", "))
	dir := h.Project("guests", map[string]string{"guests.pkr.hcl": b.String()})

	if stale {
		// A stale mirror stops the build before boot, naming the option.
		t.Run("expired Release file", func(t *testing.T) {
			for _, name := range []string{"default-debootstrap", "default-mmdebstrap"} {
				r := h.packer(dir, "build", "-var", "mirror="+DebianMirror(), "-only=*."+name, ".")
				expectFailure(t, r, "Release file has expired", "check_valid_until = false")
				if h.hasImage(name) {
					t.Errorf("%s: the failed build left its container", name)
				}
			}
		})
	}
	args := []string{"build", "-var", "mirror=" + DebianMirror()}
	if stale {
		args = append(args, "-var", "check_valid_until=false")
	}
	r := h.packer(dir, append(args, ".")...)
	expectSuccess(t, r)
	for _, g := range guestSuites {
		for _, tool := range []string{"debootstrap", "mmdebstrap"} {
			name := g.source + "-" + tool
			if !strings.Contains(r.out, name+": "+name+" says Hello, world!") {
				t.Errorf("%s: no hello from inside", name)
			}
			suite := g.suite
			if suite == "" {
				suite = "unstable"
			}
			// One-line or deb822 sources, as the tool writes them.
			sources, _ := filepath.Glob(h.machine(name, "etc/apt/sources.list*"))
			more, _ := filepath.Glob(h.machine(name, "etc/apt/sources.list.d/*"))
			var all string
			for _, f := range append(sources, more...) {
				if b, err := os.ReadFile(f); err == nil {
					all += string(b)
				}
			}
			if !strings.Contains(all, suite) {
				t.Errorf("%s: apt's sources do not name %s:\n%s", name, suite, all)
			}
			aptLog := h.machine(name, "root/apt-update.log")
			fileContains(t, aptLog, "Reading package lists")
			for _, bad := range []string{"W:", "E:", "Err:"} {
				if b := readFile(t, aptLog); strings.Contains(b, bad) {
					t.Errorf("%s: apt-get update warned:\n%s", name, b)
				}
			}
		}
	}
	h.noMachinesRunning()
}

// releaseExpired reads the suite's Release file from the mirror and tells
// whether its Valid-Until has passed.
func releaseExpired(t *testing.T, mirror, suite string) bool {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(strings.TrimSuffix(mirror, "/") + "/dists/" + suite + "/Release")
	if err != nil {
		t.Fatalf("reading the mirror's %s Release file: %v", suite, err)
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Valid-Until:"); ok {
			until, err := time.Parse(time.RFC1123, strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("the %s Release file's Valid-Until %q: %v", suite, v, err)
			}
			return until.Before(time.Now())
		}
	}
	return false
}
