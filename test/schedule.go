//go:build e2e

package e2e

import (
	"os"
	"strconv"
	"sync"
	"time"
)

// Trait tells the scheduler what a scenario is like, so the run starts the
// work that bounds its length first.
type Trait int

const (
	// Long scenarios start before the others: begun last, one would end
	// the run alone while the other slots stand empty.
	Long Trait = iota + 1
	// OnDebian13 scenarios boot Debian 13 hosts, which run one at a time
	// (see resolvedHost): their chain starts first, and the others fill the
	// slots while one of them runs.
	OnDebian13
	// ModernPacker scenarios wait for the Packers built in the background:
	// on a machine that has not built them yet, they start after the rest.
	ModernPacker
	// MakesBase is the scenario whose host builds the shared base (the
	// README's make base): it starts first, as most others wait for it.
	MakesBase
	// WithoutBase scenarios make every container they use: they fill the
	// slots while the shared base is being built.
	WithoutBase
)

// scheduler gives out a run's slots. go test lets every scenario start
// and they wait here: Go releases parallel tests in no fixed order, the
// scheduler picks the one to run.
type scheduler struct {
	// settle is how long the first scenarios have to arrive before the
	// first is picked: go test releases them all within it.
	settle time.Duration
	slots  func() int
	// packersBuilt tells whether every Packer the scenarios run is on disk.
	packersBuilt func() bool
	// baseBuilt tells whether the shared base is there to import.
	baseBuilt func() bool

	mu       sync.Mutex
	free     int
	debian13 bool // a scenario on Debian 13 holds a slot
	waiting  []*waiter
	started  bool
}

type waiter struct {
	traits map[Trait]bool
	ready  chan struct{}
}

var scenarios = &scheduler{settle: time.Second, slots: scenarioSlots, packersBuilt: packersBuilt, baseBuilt: baseBuilt}

// scenarioSlots is E2E_PARALLEL, which make e2e sets, or 4.
func scenarioSlots() int {
	if n, err := strconv.Atoi(os.Getenv("E2E_PARALLEL")); err == nil && n > 0 {
		return n
	}
	return 4
}

func packersBuilt() bool {
	for _, p := range packers {
		if !p.built() {
			return false
		}
	}
	return true
}

// wait blocks until the scheduler starts the scenario, and returns the
// function that gives its slot back.
func (s *scheduler) wait(traits []Trait) func() {
	w := &waiter{traits: map[Trait]bool{}, ready: make(chan struct{})}
	for _, tr := range traits {
		w.traits[tr] = true
	}
	s.mu.Lock()
	s.waiting = append(s.waiting, w)
	if !s.started {
		s.started = true
		s.free = s.slots()
		time.AfterFunc(s.settle, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.dispatch()
		})
	}
	s.mu.Unlock()
	<-w.ready
	return sync.OnceFunc(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.free++
		if w.traits[OnDebian13] {
			s.debian13 = false
		}
		s.dispatch()
	})
}

// dispatch starts waiting scenarios while a slot is free and one can run.
// Called with s.mu held.
func (s *scheduler) dispatch() {
	for s.free > 0 {
		best := -1
		for i, w := range s.waiting {
			if w.traits[OnDebian13] && s.debian13 {
				continue
			}
			if best < 0 || s.rank(w) < s.rank(s.waiting[best]) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		w := s.waiting[best]
		s.waiting = append(s.waiting[:best], s.waiting[best+1:]...)
		s.free--
		if w.traits[OnDebian13] {
			s.debian13 = true
		}
		close(w.ready)
	}
}

// rank orders the waiting scenarios, lowest first: the Debian 13 chain and
// the base's maker, then the long ones, then the rest; in each, those that
// would wait for a Packer or the base, not there yet, come last. Equal
// ranks keep their arrival order.
func (s *scheduler) rank(w *waiter) int {
	r := 20
	switch {
	case w.traits[OnDebian13], w.traits[MakesBase]:
		r = 0
	case w.traits[Long]:
		r = 10
	}
	if w.traits[ModernPacker] && !s.packersBuilt() {
		r += 5
	}
	if !w.traits[WithoutBase] && !w.traits[MakesBase] && !s.baseBuilt() {
		r += 5
	}
	return r
}
