package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A Release file as apt keeps it, with the fields that matter here.
func releaseFile(validUntil string) string {
	body := "Origin: Debian\nSuite: unstable\nDate: Fri, 30 Oct 2026 08:08:01 UTC\n"
	if validUntil != "" {
		body += "Valid-Until: " + validUntil + "\n"
	}
	return body + "SHA256:\n 0123 12 main/Release\n"
}

func writeLists(t *testing.T, tree string, files map[string]string) {
	t.Helper()
	dir := filepath.Join(tree, "var/lib/apt/lists")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpiredRelease(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		files map[string]string
		want  string // a part of the description, "" for none
	}{
		{"expired", map[string]string{"m_dists_unstable_Release": releaseFile("Fri, 06 Nov 2026 08:08:01 UTC")},
			"m_dists_unstable_Release was valid until Fri, 06 Nov 2026 08:08:01 UTC"},
		{"expired, in a signed InRelease", map[string]string{"m_dists_unstable_InRelease": "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" +
			releaseFile("Fri, 06 Nov 2026 08:08:01 UTC") + "-----BEGIN PGP SIGNATURE-----\n"}, "valid until"},
		{"still valid", map[string]string{"m_dists_unstable_Release": releaseFile("Wed, 09 Dec 2026 08:08:01 UTC")}, ""},
		{"a stable suite has no Valid-Until", map[string]string{"m_dists_trixie_Release": releaseFile("")}, ""},
		{"no lists at all", nil, ""},
		{"a Packages file is not read", map[string]string{"m_dists_unstable_main_binary-amd64_Packages": "Valid-Until: Fri, 06 Nov 2026 08:08:01 UTC\n"}, ""},
	}
	for _, tc := range cases {
		tree := t.TempDir()
		writeLists(t, tree, tc.files)
		got := expiredRelease(tree, now)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q; want %q", tc.name, got, tc.want)
		}
	}
}

// The fake's debootstrap leaves an expired Release file in the tree.
func expiredOnDebootstrap(tb *testBuild) {
	maker := makeTreeOnDebootstrap(tb)
	writeLists(tb.t, maker.from, map[string]string{"m_dists_unstable_Release": releaseFile("Fri, 06 Nov 2020 08:08:01 UTC")})
}

func TestExpiredMirrorFailsBeforeBoot(t *testing.T) {
	tb := newTestBuild(t)
	expiredOnDebootstrap(tb)
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Release file has expired") || !strings.Contains(err.Error(), "check_valid_until = false") {
		t.Fatalf("Run: %v; want the expiry named with the option that takes it", err)
	}
	assertNoCall(t, tb.fake, "start")
	if _, err := os.Stat(tb.builder.config.containerPath()); !os.IsNotExist(err) {
		t.Errorf("the failed build left its tree: %v", err)
	}
}

func TestExpiredMirrorTakenWhenAsked(t *testing.T) {
	tb := newTestBuild(t, "check_valid_until", false)
	expiredOnDebootstrap(tb)
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	b, err := os.ReadFile(filepath.Join(tb.builder.config.containerPath(), validUntilConf))
	if err != nil || !strings.Contains(string(b), aptIgnoreValidUntil) {
		t.Errorf("the image's apt setting: %q, %v; want %s", b, err, aptIgnoreValidUntil)
	}
}

func TestMmdebstrapExpiryGetsAdvice(t *testing.T) {
	tb := newTestBuild(t, "bootstrapper", "mmdebstrap")
	tb.fake.failOn["unshare"] = errors.New("mmdebstrap failed (exit status 1): E: Release file for http://m/debian/dists/unstable/InRelease is expired (invalid since 26d 1h). ... E: apt-get update failed")
	_, err := tb.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is expired") || !strings.Contains(err.Error(), "check_valid_until = false") {
		t.Fatalf("Run: %v; want apt's reason and the option", err)
	}
}

func TestReasonKeepsAptsCause(t *testing.T) {
	cases := []struct{ name, output, want string }{
		{"apt's cause, then its summary", "I: x\nE: Release file for http://m/InRelease is expired (invalid since 26d).\nE: apt-get update failed\n",
			"E: Release file for http://m/InRelease is expired (invalid since 26d). ... E: apt-get update failed"},
		{"one line", "W: something\nE: only this\n", "E: only this"},
		{"no E: line", "debootstrap: cannot\n", "debootstrap: cannot"},
	}
	for _, tc := range cases {
		tail := &tailBuffer{max: 2048}
		tail.Write([]byte(tc.output))
		if got := tail.reason(); got != tc.want {
			t.Errorf("%s: got %q; want %q", tc.name, got, tc.want)
		}
	}
}
