//go:build e2e && bench

package bench

import (
	"os"
	"os/exec"
)

// formatImage makes a sparse image file of size bytes at path in the host
// and formats it from outside with mkfs, whose package hint names.
func (b *bench) formatImage(path string, size int64, mkfs, hint string) {
	f, err := os.Create(b.h.Path(path))
	if err == nil {
		err = f.Truncate(size)
		f.Close()
	}
	if err != nil {
		b.t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", b.h.Path(path)).CombinedOutput(); err != nil {
		b.t.Fatalf("%s (%s): %v\n%s", mkfs, hint, err, out)
	}
}
