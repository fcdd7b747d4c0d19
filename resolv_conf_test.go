package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hostsResolvConf = "nameserver 192.0.2.53\n"

// useHostResolvConf points the host's resolv.conf at a file of the test's.
func useHostResolvConf(t *testing.T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte(hostsResolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
	old := hostResolvConf
	hostResolvConf = path
	t.Cleanup(func() { hostResolvConf = old })
}

// replaceAsNspawnDoes puts the host's file in the tree, as
// ResolvConf=replace-host does at boot.
func replaceAsNspawnDoes(t *testing.T, tree string) {
	t.Helper()
	p := filepath.Join(tree, resolvConfPath)
	_ = os.Remove(p)
	if err := os.WriteFile(p, []byte(hostsResolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImageResolvConfComesBack(t *testing.T) {
	const stub = "../run/systemd/resolve/stub-resolv.conf"
	cases := []struct {
		name string
		// make sets up the image's file; check says what must be there after.
		make  func(p string) error
		check func(p string) string
	}{
		{"resolved's symlink",
			func(p string) error { return os.Symlink(stub, p) },
			func(p string) string {
				if target, err := os.Readlink(p); err != nil || target != stub {
					return "want the symlink to " + stub
				}
				return ""
			}},
		{"a file of the image's own",
			func(p string) error { return os.WriteFile(p, []byte("nameserver 198.51.100.1\n"), 0o600) },
			func(p string) string {
				b, err := os.ReadFile(p)
				info, _ := os.Lstat(p)
				if err != nil || string(b) != "nameserver 198.51.100.1\n" || info.Mode().Perm() != 0o600 {
					return "want the image's bytes, mode 0600"
				}
				return ""
			}},
		{"no file at all",
			func(p string) error { return nil },
			func(p string) string {
				if _, err := os.Lstat(p); !os.IsNotExist(err) {
					return "want no file"
				}
				return ""
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			useHostResolvConf(t)
			tree := t.TempDir()
			p := filepath.Join(tree, resolvConfPath)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			saved, err := saveResolvConf(tree)
			if err != nil {
				t.Fatalf("save: %v", err)
			}
			replaceAsNspawnDoes(t, tree)
			restored, err := saved.restore(tree)
			if err != nil || !restored {
				t.Fatalf("restore: %v, %v; want it put back", restored, err)
			}
			if msg := tc.check(p); msg != "" {
				t.Errorf("%s: after restore: %s", tc.name, msg)
			}
		})
	}
}

func TestProvisionersResolvConfIsKept(t *testing.T) {
	useHostResolvConf(t)
	tree := t.TempDir()
	p := filepath.Join(tree, resolvConfPath)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run/systemd/resolve/stub-resolv.conf", p); err != nil {
		t.Fatal(err)
	}
	saved, err := saveResolvConf(tree)
	if err != nil {
		t.Fatal(err)
	}
	const own = "nameserver 203.0.113.9\n"
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	restored, err := saved.restore(tree)
	if err != nil || restored {
		t.Fatalf("restore: %v, %v; want the provisioner's file left alone", restored, err)
	}
	if b, _ := os.ReadFile(p); string(b) != own {
		t.Errorf("the provisioner's resolv.conf became %q; want %q", b, own)
	}
}

// A build on the host's network boots with the host's resolv.conf and
// leaves the image's own in place.
func TestHostNetworkBuildUsesHostsResolvConf(t *testing.T) {
	useHostResolvConf(t)
	tb := newTestBuild(t, "network", "host")
	makeTreeOnDebootstrap(tb)
	const stub = "../run/systemd/resolve/stub-resolv.conf"
	var settings string
	tb.fake.exec = func(req execRequest) (int, error) { return 0, nil }
	tb.hook.RunFunc = func(context.Context) error {
		b, _ := os.ReadFile(tb.builder.config.settingsPath())
		settings = string(b)
		replaceAsNspawnDoes(t, tb.builder.config.containerPath())
		return nil
	}
	// The tree appears at debootstrap; its link is made before the start.
	maker := tb.builder.newHost(nil).(*treeMaker)
	if err := os.MkdirAll(filepath.Join(maker.from, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(stub, filepath.Join(maker.from, resolvConfPath)); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tb.builder.config.settingsPath())
	if _, err := tb.run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, tb.out)
	}
	if !strings.Contains(settings, "ResolvConf=replace-host") {
		t.Errorf("settings during the build:\n%s\nlack ResolvConf=replace-host", settings)
	}
	if target, err := os.Readlink(filepath.Join(tb.builder.config.containerPath(), resolvConfPath)); err != nil || target != stub {
		t.Errorf("after the build /etc/resolv.conf links to %q (%v); want %q", target, err, stub)
	}
	if !strings.Contains(tb.out.String(), "Put back the image's own /etc/resolv.conf") {
		t.Errorf("the build did not say it put the file back:\n%s", tb.out)
	}
}
