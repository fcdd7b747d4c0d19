package main

import (
	"regexp"
	"testing"
)

// Packer takes a plugin only under a canonical semver name, and of
// pre-releases only "dev".
func TestVersionIsCanonicalSemver(t *testing.T) {
	defer func(saved string) { versionPrerelease = saved }(versionPrerelease)
	canonical := regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	if !canonical.MatchString(pluginVersion) {
		t.Fatalf("pluginVersion %q is not canonical X.Y.Z", pluginVersion)
	}
	for prerelease, want := range map[string]string{"dev": pluginVersion + "-dev", "": pluginVersion} {
		versionPrerelease = prerelease
		if got := version(); got != want {
			t.Errorf("with prerelease %q: version %q, want %q", prerelease, got, want)
		}
	}
}
