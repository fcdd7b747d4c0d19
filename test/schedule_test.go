//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// The scheduler starts the Debian 13 chain and the long scenarios first,
// one Debian 13 scenario at a time, and those waiting for a Packer last.
func TestSchedulerOrder(t *testing.T) {
	s := &scheduler{settle: 10 * time.Millisecond, slots: func() int { return 2 }, packersBuilt: func() bool { return false }}
	arrivals := []struct {
		name   string
		traits []Trait
	}{
		{"plain", nil},
		{"long", []Trait{Long}},
		{"d13", []Trait{OnDebian13}},
		{"d13-packer", []Trait{OnDebian13, ModernPacker}},
		{"packer", []Trait{ModernPacker}},
		{"d13-second", []Trait{OnDebian13}},
	}
	started := make(chan string, len(arrivals))
	giveBack := map[string]chan struct{}{}
	for i, a := range arrivals {
		giveBack[a.name] = make(chan struct{})
		go func() {
			release := s.wait(a.traits)
			started <- a.name
			<-giveBack[a.name]
			release()
		}()
		// Arrive in this order.
		for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
			s.mu.Lock()
			n := len(s.waiting)
			s.mu.Unlock()
			if n == i+1 || time.Now().After(deadline) {
				break
			}
		}
	}
	next := func() string {
		select {
		case name := <-started:
			return name
		case <-time.After(5 * time.Second):
			return "(none)"
		}
	}
	// Started together, they may report in either order.
	if first := map[string]bool{next(): true, next(): true}; !first["d13"] || !first["long"] {
		t.Fatalf("started first %v; want d13 and long", first)
	}
	// Each slot given back starts the next in rank.
	for _, step := range []struct{ giveBack, want string }{
		{"d13", "d13-second"},
		{"long", "plain"},
		{"d13-second", "d13-packer"},
		{"plain", "packer"},
	} {
		close(giveBack[step.giveBack])
		if got := next(); got != step.want {
			t.Fatalf("after %s gave its slot back, %s started; want %s", step.giveBack, got, step.want)
		}
	}
	close(giveBack["d13-packer"])
	close(giveBack["packer"])
}
