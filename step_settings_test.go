package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
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

// ownSettingsDir points nspawnSettingsDir at a directory of the test's.
func ownSettingsDir(t *testing.T) string {
	t.Helper()
	old := nspawnSettingsDir
	nspawnSettingsDir = filepath.Join(t.TempDir(), "nspawn")
	t.Cleanup(func() { nspawnSettingsDir = old })
	return nspawnSettingsDir
}

const usersSettings = "[Exec]\nBoot=yes\n"

// writeUsersSettings puts a settings file of the user's where the build
// writes its own, and returns its inode.
func writeUsersSettings(t *testing.T, path string) uint64 {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(usersSettings), 0o600); err != nil {
		t.Fatal(err)
	}
	return inode(t, path)
}

// Its Cleanup removes the file it wrote and puts the user's back, after
// a build that failed or one that keeps no settings; keep_settings keeps
// the build's after a success, with the user's set aside.
func TestSettingsStepCleanup(t *testing.T) {
	for _, outcome := range buildOutcomes {
		for _, keep := range []bool{false, true} {
			for _, users := range []bool{false, true} {
				name := fmt.Sprintf("%s, keep_settings=%v, user's file=%v", outcome.name, keep, users)
				ownSettingsDir(t)
				cfg := testConfig(t, "network", "none", "keep_settings", keep)
				path, aside := cfg.settingsPath(), cfg.settingsPath()+".packer-builder-nspawn-saved"
				var before uint64
				if users {
					before = writeUsersSettings(t, path)
				}
				state, f, out := testState(t, cfg)
				step := &stepSettings{}
				if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
					t.Fatalf("%s: Run: %v\n%s", name, stepError(state), out)
				}
				if b, _ := os.ReadFile(path); !strings.Contains(string(b), "Private=yes") {
					t.Errorf("%s: during the build the settings file holds %q", name, b)
				}
				outcome.mark(state)
				step.Cleanup(state)
				got, _ := os.ReadFile(path)
				switch {
				case keep && !outcome.failed:
					if !strings.Contains(string(got), "Private=yes") {
						t.Errorf("%s: the build's file is gone: %q", name, got)
					}
					if saved, _ := os.ReadFile(aside); users && string(saved) != usersSettings {
						t.Errorf("%s: the user's file is not kept aside: %q", name, saved)
					}
				case users:
					if string(got) != usersSettings || inode(t, path) != before {
						t.Errorf("%s: the user's file was not put back untouched: %q", name, got)
					}
				default:
					if pathExists(path) {
						t.Errorf("%s: the build's file outlived the build: %q", name, got)
					}
				}
				if pathExists(aside) && !(keep && !outcome.failed && users) {
					t.Errorf("%s: %s left behind", name, aside)
				}
				if calls := f.callLog(); len(calls) != 0 {
					t.Errorf("%s: host calls %q; the step only writes a file", name, calls)
				}
			}
		}
	}
}

// When the step wrote nothing, its Cleanup touches nothing: the user's
// file stays, and so does one set aside by an earlier build that died.
func TestSettingsStepCleanupLeavesWhatItDidNotWrite(t *testing.T) {
	cases := []struct {
		name    string
		kv      []interface{}
		earlier bool
		halts   bool
	}{
		{"no settings wanted", nil, false, false},
		{"an earlier build's file set aside", []interface{}{"network", "none"}, true, true},
	}
	for _, tc := range cases {
		ownSettingsDir(t)
		cfg := testConfig(t, tc.kv...)
		path, aside := cfg.settingsPath(), cfg.settingsPath()+".packer-builder-nspawn-saved"
		before := writeUsersSettings(t, path)
		if tc.earlier {
			if err := os.WriteFile(aside, []byte("[Exec]\nBoot=no\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		state, _, out := testState(t, cfg)
		step := &stepSettings{}
		action := step.Run(context.Background(), state)
		if (action == multistep.ActionHalt) != tc.halts {
			t.Errorf("%s: Run %v (%v); want halt %v", tc.name, action, stepError(state), tc.halts)
		}
		if tc.halts {
			want := "settings: " + aside + " is there from an earlier build; put it back as " + path + " or remove it"
			if err := stepError(state); err == nil || err.Error() != want {
				t.Errorf("%s: error %v; want %q", tc.name, err, want)
			}
		}
		state.Put("error", errors.New("the build failed"))
		step.Cleanup(state)
		if got, _ := os.ReadFile(path); string(got) != usersSettings || inode(t, path) != before {
			t.Errorf("%s: the user's file was touched: %q\n%s", tc.name, got, out)
		}
		if tc.earlier {
			if got, _ := os.ReadFile(aside); string(got) != "[Exec]\nBoot=no\n" {
				t.Errorf("%s: the earlier build's file was touched: %q", tc.name, got)
			}
		}
	}
}
