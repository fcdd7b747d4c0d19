//go:build e2e

package e2e

import (
	"fmt"
	"reflect"
	"testing"
)

func TestValidateRejectsBadInput(t *testing.T) {
	Scenario(t, WithoutBase)
	h := BootHost(t)
	cases := []struct {
		name, body, want string
	}{
		{"import-and-clone", `import = "/etc/os-release"
  clone = "base"`, `"import" and "clone" are both set`},
		{"relative-machines-dir", `machines_dir = "machines"`, `machines_dir: "machines" is a relative path`},
		{"relative-cache-dir", `cache_dir = "cache"`, `cache_dir: "cache" is a relative path`},
		{"missing-import", `import = "/nonexistent/base.tar.zst"`, `import: "/nonexistent/base.tar.zst" does not exist`},
		{"negative-timeout", `timeout = "-1s"`, `timeout: "-1s" is not positive`},
		{"zero-timeout", `timeout = "0s"`, `timeout: "0s" is not positive`},
		{"unknown-suite", `suite = "florp"`, `suite: "florp" is not a suite this debootstrap knows`},
		{"unknown-variant", `variant = "tiny"`, `variant: "tiny" is not a debootstrap variant`},
		{"unknown-key", `colour = "blue"`, `Unsupported argument`},
	}
	files := map[string]string{}
	for _, tc := range cases {
		files[tc.name+".pkr.hcl"] = fmt.Sprintf("source \"nspawn\" \"bad\" {\n  %s\n}\nbuild { sources = [\"source.nspawn.bad\"] }\n", tc.body)
	}
	files["bad-name.json"] = `{"builders": [{"type": "nspawn", "name": "a/b"}]}`
	files["unknown-key.json"] = `{"builders": [{"type": "nspawn", "name": "ok", "colour": "blue"}]}`
	dir := h.Project("validate", files)
	before := h.images()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectFailure(t, h.packer(dir, "validate", tc.name+".pkr.hcl"), tc.want)
		})
	}
	t.Run("bad-name", func(t *testing.T) {
		expectFailure(t, h.packer(dir, "validate", "bad-name.json"), `name: "a/b" is not a valid machine name`)
	})
	t.Run("unknown-key-json", func(t *testing.T) {
		expectFailure(t, h.packer(dir, "validate", "unknown-key.json"), `unknown configuration key: '"colour"'`)
	})
	if after := h.images(); !reflect.DeepEqual(before, after) {
		t.Errorf("validate changed the images: %v -> %v", before, after)
	}
}
