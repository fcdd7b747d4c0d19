package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func quietMachine() *hostMachine { return &hostMachine{say: func(string) {}} }

func TestPipelinePassesData(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	err := quietMachine().pipeline(context.Background(),
		[]string{"sh", "-c", "printf payload"},
		[]string{"sh", "-c", `cat > "$1"`, "sh", out})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "payload" {
		t.Errorf("the consumer got %q, want payload", got)
	}
}

func TestPipelineReportsEitherFailure(t *testing.T) {
	for name, c := range map[string]struct {
		from, to []string
		want     string
	}{
		"producer": {[]string{"sh", "-c", "echo no archive >&2; exit 3"}, []string{"cat"}, "no archive"},
		"consumer": {[]string{"sh", "-c", "printf x"}, []string{"sh", "-c", "cat >/dev/null; echo no room >&2; exit 4"}, "no room"},
	} {
		err := quietMachine().pipeline(context.Background(), c.from, c.to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s fails: got %v, want an error saying %q", name, err, c.want)
		}
	}
}
