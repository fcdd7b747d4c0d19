package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// testConfig is the configuration of a build named "web" whose
// machines_dir and cache_dir are temp dirs, with a one-second timeout;
// kv sets more options, or others in their place. Not Prepare: a test of
// one step needs no checks of the host.
func testConfig(t *testing.T, kv ...interface{}) *Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := decodeConfig(rawConfig("web", append([]interface{}{"machines_dir", dir, "cache_dir", dir}, kv...)...))
	if err != nil {
		t.Fatal(err)
	}
	cfg.applyDefaults()
	cfg.timeout = time.Second
	return cfg
}

// testState is the state bag one step runs in, as Builder.Run fills it:
// cfg, a fake host, a mock provisioning hook, and a UI writing into the
// returned buffer. A test that wraps the fake puts the wrapper in
// stateHost itself.
func testState(t *testing.T, cfg *Config) (*multistep.BasicStateBag, *fakeHost, *bytes.Buffer) {
	t.Helper()
	f := newFakeHost()
	out := new(bytes.Buffer)
	state := new(multistep.BasicStateBag)
	state.Put(stateConfig, cfg)
	state.Put(stateHost, f)
	state.Put("ui", &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: out, ErrorWriter: out})
	state.Put("hook", new(packersdk.MockHook))
	return state, f, out
}

// stepError is the error a step put in the state bag, or nil.
func stepError(state multistep.StateBag) error {
	err, _ := state.Get("error").(error)
	return err
}

// buildOutcomes are the ways a build can end when the steps' Cleanups
// run, each as it marks the state bag. Only "succeeded" leaves a step's
// work in place.
var buildOutcomes = []struct {
	name   string
	failed bool
	mark   func(multistep.StateBag)
}{
	{"succeeded", false, func(multistep.StateBag) {}},
	{"failed", true, func(s multistep.StateBag) { s.Put("error", errors.New("a later step failed")) }},
	{"cancelled", true, func(s multistep.StateBag) { s.Put(multistep.StateCancelled, true) }},
	{"halted", true, func(s multistep.StateBag) { s.Put(multistep.StateHalted, true) }},
}
