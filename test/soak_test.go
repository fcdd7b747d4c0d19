//go:build e2e && soak

package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// soakRounds is how often the four-source build repeats (make soak).
const soakRounds = 20

// TestSoak repeats the parallel build and looks for leaks after each
// round: machines, images, mounts, units, processes. The first round sets
// the baseline, since it adds the four images and their unit instances.
func TestSoak(t *testing.T) {
	Scenario(t)
	h := BootHost(t)
	h.BaseContainer()
	dir := h.Project("soak", map[string]string{"t.pkr.hcl": parallelTemplate()})
	var baseline map[string]int
	failures, leaks := 0, 0
	for round := 1; round <= soakRounds; round++ {
		r := h.packer(dir, "build", "-force", ".")
		if r.code != 0 {
			failures++
			t.Errorf("round %d: packer exited %d:\n%s", round, r.code, lastLines(r.out, 20))
			continue
		}
		h.checkParallelBuild(t)
		h.noMachinesRunning()
		h.noToolsRunning()
		now := h.counts()
		if baseline == nil {
			baseline = now
			continue
		}
		for what, n := range now {
			// A few processes come and go on their own (timers, logind).
			if n > baseline[what] && (what != "processes" || n > baseline[what]+3) {
				leaks++
				t.Errorf("round %d: %s went from %d to %d", round, what, baseline[what], n)
			}
		}
	}
	t.Logf("soak: %d rounds of %d parallel builds: %d failed, %d leaks", soakRounds, len(parallelNames), failures, leaks)
}

// counts are the host resources a build could leak.
func (h *Host) counts() map[string]int {
	h.t.Helper()
	count := func(argv ...string) int {
		n, err := strconv.Atoi(strings.TrimSpace(h.Run("sh", "-c", strings.Join(argv, " ")+" | wc -l")))
		if err != nil {
			h.t.Fatal(err)
		}
		return n
	}
	return map[string]int{
		"mounts":    count("findmnt", "-rn"),
		"units":     count("systemctl", "list-units", "--all", "--no-legend", "--plain"),
		"processes": count("ls", "-d", "/proc/[0-9]*"),
		"images":    count("machinectl", "list-images", "--no-legend"),
	}
}
