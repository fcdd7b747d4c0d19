package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDescribeForModernPacker(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"describe"}, &out, &out); code != 0 {
		t.Fatalf("describe exited %d: %s", code, out.String())
	}
	var d map[string]interface{}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("describe printed no JSON: %v\n%s", err, out.String())
	}
	want := map[string]interface{}{
		"version":          version(),
		"api_version":      "x5.0",
		"protocol_version": "v2",
		"sdk_version":      "1.6.6",
		"builders":         []interface{}{"-packer-default-plugin-name-"},
		"post_processors":  []interface{}{},
		"provisioners":     []interface{}{},
		"datasources":      []interface{}{},
	}
	for key, value := range want {
		got, _ := json.Marshal(d[key])
		exp, _ := json.Marshal(value)
		if string(got) != string(exp) {
			t.Errorf("describe %s: got %s, want %s", key, got, exp)
		}
	}
}

func TestCommandLine(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{[]string{"--version"}, 0, version(), ""},
		{[]string{"start", "builder", "other"}, 2, "", "usage:"},
		{[]string{"start", "builder", "--protobuf", "other"}, 2, "", "usage:"},
		{[]string{"start", "builder", "--protobuf"}, 2, "", "usage:"},
		{[]string{"start", "builder", "nspawn", "extra"}, 2, "", "usage:"},
		{[]string{"start", "provisioner", "nspawn"}, 2, "", "usage:"},
		{[]string{"bogus"}, 2, "", "usage:"},
		// Started by hand, without Packer's magic cookie.
		{[]string{"start", "builder", "nspawn"}, 1, "", "Please do not execute plugins directly"},
		{[]string{"start", "builder", "-packer-default-plugin-name-"}, 1, "", "Please do not execute plugins directly"},
		// Packer >= 1.12, to a plugin that announces protocol v2.
		{[]string{"start", "builder", "--protobuf", "-packer-default-plugin-name-"}, 1, "", "Please do not execute plugins directly"},
		{[]string{"start", "builder", "nspawn", "--protobuf"}, 1, "", "Please do not execute plugins directly"},
		{nil, 1, "", "Please do not execute plugins directly"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		t.Setenv("PACKER_PLUGIN_MAGIC_COOKIE", "")
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.inStdout) || !strings.Contains(stderr.String(), tc.inStderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.inStdout, tc.inStderr)
		}
	}
}

// Packer >= 1.7 passes keys that 1.6.6 did not; Prepare must take them.
func TestPrepareTakesModernPackerKeys(t *testing.T) {
	raw := rawConfig("web",
		"cache_dir", t.TempDir(), "machines_dir", t.TempDir(),
		"packer_core_version", "1.9.4",
		"packer_template_path", "/srv/templates",
		"packer_sensitive_variables", []string{},
		"packer_user_variables", map[string]string{},
	)
	b := new(Builder)
	if _, _, err := b.Prepare(raw); err != nil {
		t.Fatalf("Prepare with Packer 1.9.4's keys: %v", err)
	}
	if b.config.PackerCoreVersion != "1.9.4" {
		t.Errorf("packer_core_version: got %q", b.config.PackerCoreVersion)
	}
}
