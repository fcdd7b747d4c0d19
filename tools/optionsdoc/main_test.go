package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOptionTableAndReadme(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.go")
	readme := filepath.Join(dir, "README.md")
	src := "package main\n\ntype Config struct {\n\tEmbedded `mapstructure:\",squash\"`\n" +
		"\t// The suite, a | b. Default\n\t// `unstable`.\n\tSuite string `mapstructure:\"suite\"`\n" +
		"\thidden string\n}\n"
	if err := os.WriteFile(config, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, []byte("# x\n"+beginMarker+"old\n"+endMarker+"tail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(config, readme); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(readme)
	want := "# x\n" + beginMarker + "| option | meaning |\n|---|---|\n| `suite` | The suite, a \\| b. Default `unstable`. |\n" + endMarker + "tail\n"
	if string(got) != want {
		t.Errorf("README:\n%s\nwant:\n%s", got, want)
	}
	if err := os.WriteFile(readme, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(config, readme); err == nil || !strings.Contains(err.Error(), "lacks the markers") {
		t.Errorf("a README without markers: got %v", err)
	}
}
