//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// The scheduler starts the base's maker, the Debian 13 chain and the long
// scenarios first, one Debian 13 scenario at a time, and those waiting
// for a Packer or the base last.
func TestSchedulerOrder(t *testing.T) {
	// The first pick comes when the test says, not after a settling time.
	s := &scheduler{settle: time.Hour, slots: func() int { return 2 }, packersBuilt: func() bool { return false }, baseBuilt: func() bool { return false }}
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
		{"without-base", []Trait{WithoutBase}},
		{"maker", []Trait{MakesBase}},
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
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			s.mu.Lock()
			n := len(s.waiting)
			s.mu.Unlock()
			if n == i+1 || time.Now().After(deadline) {
				break
			}
		}
	}
	s.mu.Lock()
	s.dispatch()
	s.mu.Unlock()
	next := func() string {
		select {
		case name := <-started:
			return name
		case <-time.After(time.Minute):
			return "(none)"
		}
	}
	// Started together, they may report in either order.
	if first := map[string]bool{next(): true, next(): true}; !first["maker"] || !first["d13"] {
		t.Fatalf("started first %v; want maker and d13", first)
	}
	// Each slot given back starts the next in rank.
	for _, step := range []struct{ giveBack, want string }{
		{"d13", "d13-second"},
		{"maker", "long"},
		{"d13-second", "d13-packer"},
		{"long", "without-base"},
		{"d13-packer", "plain"},
		{"without-base", "packer"},
	} {
		close(giveBack[step.giveBack])
		if got := next(); got != step.want {
			t.Fatalf("after %s gave its slot back, %s started; want %s", step.giveBack, got, step.want)
		}
	}
	close(giveBack["plain"])
	close(giveBack["packer"])
}
