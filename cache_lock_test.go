package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCacheLockExcludesSecondBuild(t *testing.T) {
	dir := t.TempDir()
	var said []string
	say := func(s string) { said = append(said, s) }
	unlock, err := lockCache(context.Background(), dir, say)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := lockCache(ctx, dir, say); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while the first is held: got %v, want to wait until the deadline", err)
	}
	if len(said) != 1 || !strings.Contains(said[0], "Waiting for") {
		t.Errorf("the waiting build said %q; want one waiting message", said)
	}
	unlock()
	unlock2, err := lockCache(context.Background(), dir, say)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
