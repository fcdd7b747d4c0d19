//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A user runs the repository's example nspawn.pkr.hcl as its comment
// says: first the base (exported as base.tar.zst with a checksum), then
// the containers cloned from it and imported from the archive.
func TestExampleTemplate(t *testing.T) {
	scenario(t)
	example, err := os.ReadFile("../nspawn.pkr.hcl")
	if err != nil {
		t.Fatalf("the example template: %v", err)
	}
	mirror, err := debianMirror()
	if err != nil {
		t.Fatal(err)
	}
	h := bootHost(t)
	dir := h.Project("example", map[string]string{"nspawn.pkr.hcl": string(example)})
	project := func(p string) string { return h.Path(filepath.Join(dir, p)) }

	expectSuccess(t, h.Build(dir, "-var", "mirror="+mirror, "-only=*.base", "."))
	t.Run("base archive and its checksum", func(t *testing.T) {
		sum, err := os.ReadFile(project("base.tar.zst.sha256"))
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256File(t, project("base.tar.zst")); !strings.Contains(string(sum), want) {
			t.Errorf("base.tar.zst.sha256 holds %q; want the archive's sha256 %s", sum, want)
		}
	})

	expectSuccess(t, h.Build(dir, "-only=*.from-*", "."))
	for _, name := range []string{"base", "from-clone", "from-archive"} {
		t.Run("container "+name, func(t *testing.T) {
			h := h.In(t)
			if !h.HasImage(name) {
				t.Errorf("no container %s; images: %v", name, h.Images())
			}
			expectFile(t, h.MachinePath(name, "root/built-from.pkr.hcl"), "source \"nspawn\" \"base\"")
			if name != "base" {
				expectFile(t, h.MachinePath(name, "etc/motd"), name+" made from base")
			}
		})
	}
	t.Run("nothing left running", func(t *testing.T) { expectNothingRunning(t, h) })
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
