package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Files written into a debootstrapped image; the names sort late so they
// win over the distribution's own snippets.
const (
	noRecommendsPath = "etc/apt/apt.conf.d/90nspawn-no-recommends"
	noRecommends     = "APT::Install-Recommends \"false\";\n"
	noDocsPath       = "etc/dpkg/dpkg.cfg.d/90nspawn-no-docs"
	noDocs           = "# Containers carry no documentation; copyright files stay.\n" +
		"path-exclude=/usr/share/doc/*\n" +
		"path-include=/usr/share/doc/*/copyright\n" +
		"path-exclude=/usr/share/man/*\n" +
		"path-exclude=/usr/share/info/*\n"
)

// setUpImage applies the image conventions to the tree at dir. It works
// through os.Root so no symlink in the tree can lead outside it.
func setUpImage(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	steps := []func(*os.Root) error{
		writeConfigs, trimImage, removeHostname, emptyMachineID, allowConsoleRoot,
	}
	for _, step := range steps {
		if err := step(root); err != nil {
			return err
		}
	}
	return nil
}

func writeConfigs(root *os.Root) error {
	for name, body := range map[string]string{noRecommendsPath: noRecommends, noDocsPath: noDocs} {
		if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
			return err
		}
		if err := root.WriteFile(name, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// emptyMachineID leaves the identity to the first boot of each container
// made from the tree (debootstrap writes one; the base cache would hand
// that one to every clone).
func emptyMachineID(root *os.Root) error {
	if err := root.WriteFile("etc/machine-id", nil, 0o444); err != nil {
		return err
	}
	err := root.Remove("var/lib/dbus/machine-id")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// removeHostname lets nspawn set the hostname from the machine name;
// debootstrap copies the build host's name into the image.
func removeHostname(root *os.Root) error {
	err := root.Remove("etc/hostname")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// allowConsoleRoot lets root log in on the container console (machinectl
// login, -b in a terminal): debootstrap leaves root's password locked.
// Only the host's root can reach that console.
func allowConsoleRoot(root *os.Root) error {
	shadow, err := fs.ReadFile(root.FS(), "etc/shadow")
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(shadow), "\n") {
		fields := strings.Split(line, ":")
		if len(fields) > 2 && fields[0] == "root" && (fields[1] == "*" || fields[1] == "!" || fields[1] == "!*") {
			fields[1] = ""
			line = strings.Join(fields, ":")
		}
		out.WriteString(line)
	}
	return root.WriteFile("etc/shadow", out.Bytes(), 0o640)
}
