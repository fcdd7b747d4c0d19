package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

// pollUntil asks again after firstPollInterval, then after pauses
// doubling up to pollInterval.
func TestPollUntilBacksOff(t *testing.T) {
	var got []time.Duration
	for p := firstPollInterval; len(got) < 6; p = nextPause(p, pollInterval) {
		got = append(got, p)
	}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("pauses %v; want %v ms", got, want)
		}
	}
}

// It gives up at its timeout, having kept asking.
func TestPollUntilTimesOut(t *testing.T) {
	asked := 0
	err := pollUntil(context.Background(), 50*time.Millisecond, func(context.Context) bool {
		asked++
		return false
	})
	if !errors.Is(err, errPollTimeout) || asked < 2 {
		t.Errorf("got %v after %d questions; want errPollTimeout after several", err, asked)
	}
}

func TestPollUntilStopsWithTheBuild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := pollUntil(ctx, time.Minute, func(context.Context) bool { return false })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v; want context.Canceled", err)
	}
}
