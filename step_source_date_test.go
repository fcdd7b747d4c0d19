package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer/packer-plugin-sdk/multistep"
)

// sourceDateState is the bag for stepSourceDate on a directory container
// web whose lists hold a Release file dated date ("" for none).
func sourceDateState(t *testing.T, date string, kv ...interface{}) (multistep.StateBag, *communicator) {
	t.Helper()
	cfg := testConfig(t, kv...)
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	lists := filepath.Join(cfg.containerPath(), "var/lib/apt/lists")
	if err := os.MkdirAll(lists, 0o755); err != nil {
		t.Fatal(err)
	}
	if date != "" {
		if err := os.WriteFile(filepath.Join(lists, "m_dists_trixie_InRelease"), []byte("Date: "+date+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	state, f, _ := testState(t, cfg)
	c := &communicator{machine: f, name: "web"}
	state.Put("communicator", c)
	return state, c
}

func TestSourceDateFromTheEnvironment(t *testing.T) {
	t.Setenv(sourceDateEpochEnv, "1700000000")
	state, c := sourceDateState(t, "Sat, 09 Nov 2024 10:16:26 UTC")
	if action := (&stepSourceDate{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v", stepError(state))
	}
	if got, _ := state.Get(stateSourceDate).(time.Time); got.Unix() != 1_700_000_000 {
		t.Errorf("source date %v", got)
	}
	if want := []string{"SOURCE_DATE_EPOCH=1700000000"}; !reflect.DeepEqual(c.env, want) {
		t.Errorf("provisioner commands' environment %q, want %q", c.env, want)
	}
}

func TestSourceDateFromTheMirror(t *testing.T) {
	t.Setenv(sourceDateEpochEnv, "")
	state, c := sourceDateState(t, "Sat, 09 Nov 2024 10:16:26 UTC", "reproducible", true)
	if action := (&stepSourceDate{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v", stepError(state))
	}
	want := time.Date(2024, 11, 9, 10, 16, 26, 0, time.UTC)
	if got, _ := state.Get(stateSourceDate).(time.Time); !got.Equal(want) {
		t.Errorf("source date %v, want %v", got, want)
	}
	if len(c.env) != 1 || c.env[0] != "SOURCE_DATE_EPOCH=1731147386" {
		t.Errorf("provisioner commands' environment %q", c.env)
	}
}

func TestSourceDateFailures(t *testing.T) {
	t.Setenv(sourceDateEpochEnv, "")
	state, _ := sourceDateState(t, "", "reproducible", true)
	if (&stepSourceDate{}).Run(context.Background(), state) != multistep.ActionHalt ||
		!strings.Contains(stepError(state).Error(), "has no Release file in var/lib/apt/lists to take the time from; set SOURCE_DATE_EPOCH") {
		t.Errorf("no Release file: %v", stepError(state))
	}
	state, _ = sourceDateState(t, "", "reproducible", true)
	cfg := state.Get(stateConfig).(*Config)
	if err := os.RemoveAll(cfg.containerPath()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.containerPath()+".raw", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if (&stepSourceDate{}).Run(context.Background(), state) != multistep.ActionHalt ||
		!strings.Contains(stepError(state).Error(), "is a raw image, and reproducible exports need a directory container") {
		t.Errorf("raw image: %v", stepError(state))
	}
}

func TestSourceDateOnlyWhenReproducible(t *testing.T) {
	t.Setenv(sourceDateEpochEnv, "")
	state, c := sourceDateState(t, "Sat, 09 Nov 2024 10:16:26 UTC")
	if action := (&stepSourceDate{}).Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("Run: %v", stepError(state))
	}
	if _, ok := state.GetOk(stateSourceDate); ok || c.env != nil {
		t.Errorf("a plain build got a source date (%v) or an environment (%q)", state.Get(stateSourceDate), c.env)
	}
}
