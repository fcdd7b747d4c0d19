package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestNspawnSettingsRendering(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"host network", Config{Network: "host"}, []string{"[Network]\nVirtualEthernet=no\n"}},
		{"no network", Config{Network: "none"}, []string{"[Network]\nPrivate=yes\nVirtualEthernet=no\n"}},
		{"binds", Config{Bind: []string{"/srv/cache:/var/cache/x"}, BindReadOnly: []string{"/src"}},
			[]string{"[Files]\nBind=/srv/cache:/var/cache/x\nBindReadOnly=/src\n"}},
		{"capabilities", Config{Capabilities: []string{"CAP_SYS_TIME", "CAP_NET_ADMIN"}}, []string{"[Exec]\nCapability=CAP_NET_ADMIN CAP_SYS_TIME\n"}},
		{"no user namespaces", Config{PrivateUsers: 2}, []string{"[Exec]\nPrivateUsers=no\n"}},
		{"user namespaces", Config{PrivateUsers: 1}, []string{"[Exec]\nPrivateUsers=pick\n"}},
	}
	for _, tc := range cases {
		tc.cfg.PackerBuildName = "web"
		if !tc.cfg.wantsSettings() {
			t.Errorf("%s: wantsSettings is false", tc.name)
		}
		got := tc.cfg.nspawnSettings(false)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: settings\n%s\nlack\n%s", tc.name, got, w)
			}
		}
	}
	if (&Config{Network: "veth"}).wantsSettings() {
		t.Errorf("the default network needs no settings file")
	}
}

func TestSettingsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		kv   []interface{}
		want string
	}{
		{[]interface{}{"network", "bridge"}, `network: "bridge" is not one of veth, host, none`},
		{[]interface{}{"bind", []string{"relative:/x"}}, `bind: "relative:/x": give absolute paths`},
		{[]interface{}{"bind_ro", []string{"/nonexistent/src"}}, `bind_ro: "/nonexistent/src": /nonexistent/src does not exist`},
		{[]interface{}{"bind", []string{"/a:/b:/c"}}, `one "SRC:DST" pair per entry`},
		{[]interface{}{"capabilities", []string{"net_admin"}}, `capabilities: "net_admin" is not a capability name`},
		{[]interface{}{"exec_user", "bad user"}, `exec_user: "bad user" is not a user or group name`},
		{[]interface{}{"exec_group", "a;b"}, `exec_group: "a;b" is not a user or group name`},
	}
	for _, tc := range cases {
		kv := append([]interface{}{"cache_dir", dir, "machines_dir", dir}, tc.kv...)
		_, _, err := new(Builder).Prepare(rawConfig("web", kv...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v; want %q", tc.kv, err, tc.want)
		}
	}
}

// inode identifies a file, to tell "put back" from "rewritten".
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Sys().(*syscall.Stat_t).Ino
}

func TestSettingsFileLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keep, fail bool
		wantOurs   bool
	}{
		{"removed after the build", false, false, false},
		{"kept with keep_settings", true, false, true},
		{"removed after a failure, even with keep_settings", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestBuild(t, "network", "host", "keep_settings", tc.keep)
			makeTreeOnDebootstrap(tb)
			path := tb.builder.config.settingsPath()
			if err := os.MkdirAll(nspawnSettingsDir, 0o755); err != nil {
				t.Fatal(err)
			}
			const users = "[Exec]\nBoot=yes\n"
			if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(path)
			defer os.Remove(path + ".packer-builder-nspawn-saved")
			before := inode(t, path)
			var during string
			tb.hook.RunFunc = func(context.Context) error {
				b, _ := os.ReadFile(path)
				during = string(b)
				if tc.fail {
					return errors.New("provisioner failed")
				}
				return nil
			}
			_, err := tb.run(context.Background())
			if (err != nil) != tc.fail {
				t.Fatalf("Run: %v", err)
			}
			if !strings.Contains(during, "VirtualEthernet=no") {
				t.Errorf("during the build the settings file held %q", during)
			}
			got, _ := os.ReadFile(path)
			if tc.wantOurs {
				if !strings.Contains(string(got), "VirtualEthernet=no") {
					t.Errorf("keep_settings: file holds %q", got)
				}
				if saved, _ := os.ReadFile(path + ".packer-builder-nspawn-saved"); string(saved) != users {
					t.Errorf("keep_settings: the user's file is not kept aside: %q", saved)
				}
				return
			}
			if string(got) != users || inode(t, path) != before {
				t.Errorf("the user's settings file was not put back untouched: %q", got)
			}
		})
	}
}
