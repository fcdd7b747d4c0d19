//go:build e2e

package e2e

import (
	"bufio"
	"errors"
	"os"
	"strings"
)

// debianMirror is the Debian mirror this machine's apt uses, read at run
// time so no mirror is written into the tests: the URIs of the first
// "Types: deb" stanza of debian.sources, else the first "deb" line of
// sources.list.
func debianMirror() (string, error) {
	if b, err := os.ReadFile("/etc/apt/sources.list.d/debian.sources"); err == nil {
		for _, stanza := range strings.Split(string(b), "\n\n") {
			fields := map[string]string{}
			for _, line := range strings.Split(stanza, "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
					fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
			}
			if strings.Contains(" "+fields["Types"]+" ", " deb ") && fields["URIs"] != "" {
				return strings.Fields(fields["URIs"])[0], nil
			}
		}
	}
	if f, err := os.Open("/etc/apt/sources.list"); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			words := strings.Fields(s.Text())
			if len(words) < 3 || words[0] != "deb" {
				continue
			}
			words = words[1:]
			if strings.HasPrefix(words[0], "[") { // [arch=... signed-by=...]
				for len(words) > 0 && !strings.HasSuffix(words[0], "]") {
					words = words[1:]
				}
				words = words[1:]
			}
			if len(words) > 0 {
				return words[0], nil
			}
		}
	}
	return "", errors.New("no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list")
}
