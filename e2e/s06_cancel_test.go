//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cancelLimit is how long packer may take to exit after Ctrl-C: the
// templates' timeout (the longest the plugin waits for a shutdown) plus a
// few seconds.
const cancelLimit = 60*time.Second + 15*time.Second

const cancelTemplate = `
variable "mirror" { type = string }

source "nspawn" "cancel-deboot" {
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "60s"
}

source "nspawn" "cancel-prov" {
  import  = "` + hostShareDir + `/base.tar.zst"
  timeout = "60s"
}

build {
  sources = ["source.nspawn.cancel-deboot", "source.nspawn.cancel-prov"]
  provisioner "shell" {
    inline = ["echo now-sleeping", "sleep 600"]
  }
}
`

// A user presses Ctrl-C during debootstrap and during provisioning: packer
// stops promptly and leaves no container, no mount, no process and no
// running machine.
func TestCancel(t *testing.T) {
	scenario(t)
	baseImage(t)
	mirror, err := debianMirror()
	if err != nil {
		t.Fatal(err)
	}
	h := bootHost(t)
	dir := h.Project("cancel", map[string]string{"cancel.pkr.hcl": cancelTemplate})

	cases := []struct {
		name    string
		machine string
		// waitFor is output that shows the build is where it is to be
		// cancelled: for debootstrap, its second stage, which runs dpkg
		// in the new tree with /proc mounted there.
		waitFor string
		running string // a pattern of the processes the cancel must end
	}{
		{"during debootstrap", "cancel-deboot", "I: Installing core packages", `(^|/| )debootstrap( |$)`},
		{"during provisioning", "cancel-prov", "now-sleeping", `(^| )sleep 600( |$)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := h.In(t)
			p := h.StartPacker(dir, "build", "-var", "mirror="+mirror, "-only=*."+c.machine, ".")
			if !p.WaitFor(c.waitFor, 5*time.Minute) {
				t.Fatalf("packer never printed %q; output:\n%s", c.waitFor, tail(p.Output(), 30))
			}
			time.Sleep(2 * time.Second)
			if !hasProcess(h, c.running) {
				t.Errorf("before the cancel no process matches %q, so the check after it would prove nothing; processes:\n%s",
					c.running, strings.Join(h.Processes(), "\n"))
			}
			sent := time.Now()
			if err := p.Interrupt(); err != nil {
				t.Fatal(err)
			}
			if !p.Wait(cancelLimit) {
				t.Fatalf("packer still running %s after SIGINT; output:\n%s", cancelLimit, tail(p.Output(), 30))
			}
			t.Logf("packer exited %d, %s after SIGINT", p.Code, time.Since(sent).Round(100*time.Millisecond))
			if p.Code == 0 {
				t.Errorf("packer exited 0 after SIGINT; want a failure")
			}
			expectAbsent(t, h.MachinePath(c.machine, ""), "a cancelled build removes its container")
			expectNoMountsUnder(t, h, "/var/lib/machines/"+c.machine)
			expectNoProcess(t, h, c.running)
			expectNothingRunning(t, h)
		})
	}
}

func hasProcess(h *Host, pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, p := range h.Processes() {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// expectNoMountsUnder fails the test if the host has anything mounted at
// or below dir (a path inside the host).
func expectNoMountsUnder(t *testing.T, h *Host, dir string) {
	t.Helper()
	info, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", h.leader))
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	s := bufio.NewScanner(bytes.NewReader(info))
	for s.Scan() {
		if f := strings.Fields(s.Text()); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			left = append(left, f[4])
		}
	}
	if len(left) > 0 {
		t.Errorf("mounts left under %s: %q", dir, left)
	}
}
