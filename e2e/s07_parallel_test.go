//go:build e2e

package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

const parallelTemplate = `
source "nspawn" "par-a" {
  clone   = "base"
  timeout = "60s"
}
source "nspawn" "par-b" {
  clone   = "base"
  timeout = "60s"
}
build {
  sources = ["source.nspawn.par-a", "source.nspawn.par-b"]
  provisioner "shell" {
    inline = [
      "date +%s > /root/began",
      "sleep 8",
      "date +%s > /root/ended",
      "echo $(hostname) > /root/name",
    ]
  }
}
`

// Two sources in one build run at once (Packer's default), both cloned
// from one base, and both succeed.
func TestParallelSources(t *testing.T) {
	scenario(t)
	baseImage(t)
	h := bootHost(t)
	h.MustRun("sh", "-c", `zstd -dc "$1" | machinectl import-tar - base`, "sh", baseInHost)
	dir := h.Project("parallel", map[string]string{"parallel.pkr.hcl": parallelTemplate})
	expectSuccess(t, h.Build(dir, "."))
	for _, name := range []string{"par-a", "par-b"} {
		expectFile(t, h.MachinePath(name, "root/name"), name)
	}
	// Each provisioner sleeps 8 s; run one after the other, their times
	// would not overlap.
	aBegan, aEnded := unixFile(t, h.MachinePath("par-a", "root/began")), unixFile(t, h.MachinePath("par-a", "root/ended"))
	bBegan, bEnded := unixFile(t, h.MachinePath("par-b", "root/began")), unixFile(t, h.MachinePath("par-b", "root/ended"))
	if aBegan >= bEnded || bBegan >= aEnded {
		t.Errorf("the builds ran one after the other: par-a %d..%d, par-b %d..%d", aBegan, aEnded, bBegan, bEnded)
	}
	expectPresent(t, h.MachinePath("base", "etc/os-release"), "cloning leaves the base")
	expectNothingRunning(t, h)
}

func unixFile(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}
