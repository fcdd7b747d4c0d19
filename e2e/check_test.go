//go:build e2e

package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Assertions the scenarios share. Each failure says what was expected and
// shows what was found.

// expectSuccess fails the test unless packer exited 0.
func expectSuccess(t *testing.T, r Result) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("packer %s exited %d; want 0. Output:\n%s", strings.Join(r.Args, " "), r.Code, tail(r.Out, 40))
	}
}

// expectFailure fails the test unless packer exited non-zero and its
// output holds every one of want.
func expectFailure(t *testing.T, r Result, want ...string) {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("packer %s exited 0; want a failure. Output:\n%s", strings.Join(r.Args, " "), tail(r.Out, 40))
	}
	for _, w := range want {
		if !strings.Contains(r.Out, w) {
			t.Errorf("packer %s: output lacks %q. Output:\n%s", strings.Join(r.Args, " "), w, tail(r.Out, 40))
		}
	}
}

// expectOutputMatches fails the test unless the output matches pattern.
func expectOutputMatches(t *testing.T, r Result, pattern string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(r.Out) {
		t.Errorf("packer %s: output does not match %q. Output:\n%s", strings.Join(r.Args, " "), pattern, tail(r.Out, 40))
	}
}

// expectNothingRunning fails the test if the host's machined lists any
// running machine.
func expectNothingRunning(t *testing.T, h *Host) {
	t.Helper()
	if running := h.In(t).Machines(); len(running) > 0 {
		t.Errorf("machines left running: %v", running)
	}
}

// expectNoProcess fails the test if a process whose command line matches
// pattern still runs in the host after a short grace period.
func expectNoProcess(t *testing.T, h *Host, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	var found []string
	for deadline := time.Now().Add(5 * time.Second); ; {
		found = found[:0]
		for _, p := range h.Processes() {
			if re.MatchString(p) {
				found = append(found, p)
			}
		}
		if len(found) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(found) > 0 {
		t.Errorf("processes matching %q left in the host: %q", pattern, found)
	}
}

// expectFile fails the test unless the file (seen from outside) holds want.
func expectFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("want a file holding %q: %v", want, err)
		return
	}
	if !strings.Contains(string(b), want) {
		t.Errorf("%s lacks %q; it holds:\n%s", path, want, tail(string(b), 20))
	}
}

// expectAbsent fails the test if path exists.
func expectAbsent(t *testing.T, path, why string) {
	t.Helper()
	if exists(path) {
		t.Errorf("%s exists; want it absent: %s", path, why)
	}
}

// expectPresent fails the test unless path exists.
func expectPresent(t *testing.T, path, why string) {
	t.Helper()
	if !exists(path) {
		t.Errorf("%s is missing; want it there: %s", path, why)
	}
}

// anyFileContains reports whether a regular file under dir holds want.
func anyFileContains(dir, want string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), want) {
				found = true
			}
		}
		return nil
	})
	return found
}

// filesNamed lists the files called name anywhere under dir.
func filesNamed(dir, name string) []string {
	var list []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name {
			list = append(list, p)
		}
		return nil
	})
	return list
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
