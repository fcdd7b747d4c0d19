package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// archiveMagic is how each compressed tar form begins.
var archiveMagic = []struct {
	suffixes []string
	magic    []byte
	what     string
}{
	{[]string{".tar.zst", ".tzst"}, []byte{0x28, 0xb5, 0x2f, 0xfd}, "zstd"},
	{[]string{".tar.gz", ".tgz"}, []byte{0x1f, 0x8b}, "gzip"},
	{[]string{".tar.xz", ".txz"}, []byte{0xfd, '7', 'z', 'X', 'Z', 0}, "xz"},
	{[]string{".tar.bz2", ".tbz2"}, []byte("BZh"), "bzip2"},
}

// checkImportFile looks at the start of a local import file, so a file
// that only has an archive's name fails before anything is created.
func checkImportFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf(`import: cannot read %q: %v`, path, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n == 0 {
		return fmt.Errorf(`import: %q is empty; give an image`, path)
	}
	lower := strings.ToLower(path)
	for _, a := range archiveMagic {
		for _, suffix := range a.suffixes {
			if strings.HasSuffix(lower, suffix) && !bytes.HasPrefix(head, a.magic) {
				return fmt.Errorf(`import: %q is not %s-compressed, as its name says; check the file or rename it`, path, a.what)
			}
		}
	}
	if strings.HasSuffix(lower, ".tar") && (n < 262 || string(head[257:262]) != "ustar") {
		return fmt.Errorf(`import: %q is not a tar archive, as its name says; check the file or rename it`, path)
	}
	return nil
}
