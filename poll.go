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

// errPollTimeout is pollUntil's answer when timeout passed first.
var errPollTimeout = errors.New("timed out")

// pollUntil asks done every pollInterval until it says yes, for at most
// timeout; it returns ctx's error if the build ends first.
func pollUntil(ctx context.Context, timeout time.Duration, done func(context.Context) bool) error {
	return pollEvery(ctx, pollInterval, timeout, done)
}

// pollEvery is pollUntil asking every interval.
func pollEvery(ctx context.Context, interval, timeout time.Duration, done func(context.Context) bool) error {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !done(waitCtx) {
		select {
		case <-waitCtx.Done():
			if err := ctx.Err(); err != nil {
				return err
			}
			return errPollTimeout
		case <-time.After(interval):
		}
	}
	return nil
}
