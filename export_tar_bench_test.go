package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWriteImageTar writes a tree shaped like a small system's: many
// small files over a few hundred directories, and a few big ones.
func BenchmarkWriteImageTar(b *testing.B) {
	dir := b.TempDir()
	small := make([]byte, 2048)
	for i := range 10_000 {
		p := filepath.Join(dir, fmt.Sprintf("usr/share/d%03d/e%02d/f%d", i%50, i%7, i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, small[:i%len(small)], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	big := make([]byte, 16<<20)
	var total int64
	for i := range 4 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("big%d", i)), big, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(big))
	}
	epoch := time.Unix(1_700_000_000, 0)
	b.SetBytes(total + 10_000*int64(len(small))/2)
	b.ResetTimer()
	for range b.N {
		if err := writeImageTar(io.Discard, dir, epoch); err != nil {
			b.Fatal(err)
		}
	}
}
