package main

import (
	"context"
	"errors"
	"time"
)

// pollInterval paces the checks of a container's state: short, so the
// build follows the container within a few milliseconds (each check is a
// short-lived machinectl or systemctl), without busy-looping.
const pollInterval = 10 * time.Millisecond

// firstPollInterval is pollUntil's first pause: the state it waits for is
// often a few milliseconds away (a container whose init has exited leaves
// machined's list right after).
const firstPollInterval = time.Millisecond

// errPollTimeout is pollUntil's answer when timeout passed first.
var errPollTimeout = errors.New("timed out")

// pollUntil asks done until it says yes, for at most timeout: again after
// firstPollInterval, then after pauses doubling up to pollInterval. It
// returns ctx's error if the build ends first.
func pollUntil(ctx context.Context, timeout time.Duration, done func(context.Context) bool) error {
	return poll(ctx, firstPollInterval, pollInterval, timeout, done)
}

// pollEvery is pollUntil asking every interval.
func pollEvery(ctx context.Context, interval, timeout time.Duration, done func(context.Context) bool) error {
	return poll(ctx, interval, interval, timeout, done)
}

// poll asks done, pausing first, then twice as long each time up to
// longest, between the questions.
func poll(ctx context.Context, first, longest, timeout time.Duration, done func(context.Context) bool) error {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pause := first
	for !done(waitCtx) {
		select {
		case <-waitCtx.Done():
			if err := ctx.Err(); err != nil {
				return err
			}
			return errPollTimeout
		case <-time.After(pause):
		}
		pause = nextPause(pause, longest)
	}
	return nil
}

// nextPause doubles pause, up to longest.
func nextPause(pause, longest time.Duration) time.Duration {
	return min(2*pause, longest)
}
