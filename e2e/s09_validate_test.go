//go:build e2e

package e2e

import (
	"os"
	"slices"
	"testing"
)

// packer validate rejects bad configurations, naming the option, and
// touches nothing on the host.
func TestValidateRejectsBadConfig(t *testing.T) {
	scenario(t)
	h := bootHost(t)
	h.MustRun("tar", "-cf", "/root/empty-but-real.tar", "-T", "/dev/null")
	before := machinesDir(t, h)
	cases := []struct {
		name     string
		file     string // template file name
		template string
		want     []string // in the output
	}{
		{"import and clone", "t.pkr.hcl", `
source "nspawn" "both" {
  import = "/root/empty-but-real.tar"
  clone  = "base"
}
build { sources = ["source.nspawn.both"] }
`, []string{`"import" and "clone"`}},
		{"bad name", "t.json", `{"builders": [{"type": "nspawn", "name": "a/b", "suite": "bookworm"}]}`,
			[]string{"name:", `"a/b"`}},
		{"relative machines_dir", "t.pkr.hcl", `
source "nspawn" "rel" {
  machines_dir = "machines"
}
build { sources = ["source.nspawn.rel"] }
`, []string{"machines_dir:", `"machines"`, "relative"}},
		{"missing import file", "t.pkr.hcl", `
source "nspawn" "missing" {
  import = "/root/no-such-image.tar.zst"
}
build { sources = ["source.nspawn.missing"] }
`, []string{"import:", "/root/no-such-image.tar.zst", "does not exist"}},
		{"unknown key in HCL2", "t.pkr.hcl", `
source "nspawn" "typo" {
  sweet = "bookworm"
}
build { sources = ["source.nspawn.typo"] }
`, []string{"Unsupported argument", "sweet"}},
		{"unknown key in JSON", "t.json", `{"builders": [{"type": "nspawn", "name": "typo", "sweet": "bookworm"}]}`,
			[]string{"unknown configuration key", "sweet"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := h.In(t)
			dir := h.Project("validate-"+string(rune('a'+i)), map[string]string{c.file: c.template})
			target := "."
			if c.file == "t.json" {
				target = c.file
			}
			expectFailure(t, h.Validate(dir, target), c.want...)
		})
	}
	t.Run("nothing created", func(t *testing.T) {
		if after := machinesDir(t, h); !slices.Equal(before, after) {
			t.Errorf("/var/lib/machines held %q before and %q after", before, after)
		}
		if images := h.In(t).Images(); len(images) > 0 {
			t.Errorf("machinectl lists images %v; want none", images)
		}
		expectNothingRunning(t, h)
	})
}

// machinesDir lists /var/lib/machines in the host.
func machinesDir(t *testing.T, h *Host) []string {
	t.Helper()
	entries, err := os.ReadDir(h.Path("/var/lib/machines"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
