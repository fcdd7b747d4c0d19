//go:build e2e

package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Build-time nspawn settings and provisioning as a user.
func TestSettingsAndExecUser(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	h.Run("mkdir", "-p", "/srv/rw", "/srv/ro", "/etc/systemd/nspawn")
	if err := os.WriteFile(h.Path("/srv/ro/in"), []byte("read only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const users = "[Exec]\n# the user's own settings\n"
	settingsFile := h.Path("/etc/systemd/nspawn/settings.nspawn")
	if err := os.WriteFile(settingsFile, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := h.Project("settings", map[string]string{"t.pkr.hcl": `
source "nspawn" "settings" {
  clone         = "base"
  timeout       = "60s"
  network       = "none"
  bind          = ["/srv/rw:/mnt/rw"]
  bind_ro       = ["/srv/ro:/mnt/ro"]
  capabilities  = ["CAP_IPC_LOCK"]
  private_users = false
}
source "nspawn" "as-user" {
  clone      = "base"
  timeout    = "60s"
  network    = "host"
  exec_user  = "nobody"
  exec_group = "nogroup"
}
build {
  name    = "settings"
  sources = ["source.nspawn.settings"]
  provisioner "shell" {
    inline = [
      "cat /proc/net/dev > /root/netdev",
      "cat /mnt/ro/in > /root/ro-copy",
      "echo written > /mnt/rw/out",
      "! touch /mnt/ro/x",
      "grep CapBnd /proc/self/status > /root/capbnd",
      "cat /proc/self/uid_map > /root/uid_map",
    ]
  }
}
source "nspawn" "kept-settings" {
  clone         = "base"
  timeout       = "60s"
  network       = "host"
  keep_settings = true
}
build {
  name    = "kept"
  sources = ["source.nspawn.kept-settings"]
  provisioner "shell" { inline = ["true"] }
}
build {
  name    = "as-user"
  sources = ["source.nspawn.as-user"]
  provisioner "shell" { inline = ["id -un > /var/tmp/whoami"] }
  provisioner "file" {
    source      = "t.pkr.hcl"
    destination = "/var/tmp/uploaded"
  }
  provisioner "shell" { inline = ["stat -c %U /var/tmp/uploaded > /var/tmp/owner"] }
}
`})
	r := h.packer(dir, "build", ".")
	expectSuccess(t, r)

	t.Run("network none", func(t *testing.T) {
		b, _ := os.ReadFile(h.machine("settings", "root/netdev"))
		for _, line := range strings.Split(string(b), "\n")[2:] {
			if f := strings.Fields(line); len(f) > 0 && f[0] != "lo:" {
				t.Errorf("interface %s besides lo", f[0])
			}
		}
	})
	t.Run("binds", func(t *testing.T) {
		fileContains(t, h.machine("settings", "root/ro-copy"), "read only")
		fileContains(t, h.Path("/srv/rw/out"), "written")
		if exists(h.Path("/srv/ro/x")) {
			t.Errorf("bind_ro was writable")
		}
	})
	t.Run("capabilities", func(t *testing.T) {
		b, _ := os.ReadFile(h.machine("settings", "root/capbnd"))
		f := strings.Fields(string(b))
		if len(f) != 2 {
			t.Fatalf("CapBnd line %q", b)
		}
		mask, _ := strconv.ParseUint(f[1], 16, 64)
		if mask&(1<<14) == 0 {
			t.Errorf("CAP_IPC_LOCK not in the bounding set %s", f[1])
		}
	})
	t.Run("private_users false", func(t *testing.T) {
		if m := strings.Fields(readFile(t, h.machine("settings", "root/uid_map"))); len(m) < 2 || m[1] != "0" {
			t.Errorf("uid_map %q; want the host's ids", m)
		}
	})
	t.Run("user's settings file put back", func(t *testing.T) {
		if got := readFile(t, settingsFile); got != users {
			t.Errorf("settings.nspawn holds %q after the build", got)
		}
		if exists(h.Path("/etc/systemd/nspawn/as-user.nspawn")) {
			t.Errorf("the build's settings file for as-user is still there")
		}
	})
	t.Run("keep_settings", func(t *testing.T) {
		fileContains(t, h.Path("/etc/systemd/nspawn/kept-settings.nspawn"), "VirtualEthernet=no")
	})
	t.Run("exec_user", func(t *testing.T) {
		fileContains(t, h.machine("as-user", "var/tmp/whoami"), "nobody")
		fileContains(t, h.machine("as-user", "var/tmp/owner"), "nobody")
	})
	h.noMachinesRunning()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
