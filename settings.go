package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// nspawnSettingsDir holds the trusted settings files that machinectl start
// applies; tests point it elsewhere.
var nspawnSettingsDir = "/etc/systemd/nspawn"

var (
	networkModes   = []string{"veth", "host", "none"}
	capabilityName = regexp.MustCompile(`^CAP_[A-Z_]+$`)
	userName       = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?$|^[0-9]+$`)
)

// settingsPath is the build's settings file.
func (c *Config) settingsPath() string {
	return filepath.Join(nspawnSettingsDir, c.PackerBuildName+".nspawn")
}

// wantsSettings reports whether any option needs a settings file.
func (c *Config) wantsSettings() bool {
	return (c.Network != "" && c.Network != "veth") || len(c.Bind) > 0 || len(c.BindReadOnly) > 0 ||
		len(c.Capabilities) > 0 || c.PrivateUsers != 0
}

func (c *Config) validateSettings() []error {
	var errs []error
	if c.Network != "" && !contains(networkModes, c.Network) {
		errs = append(errs, fmt.Errorf(`network: %q is not one of %s`, c.Network, strings.Join(networkModes, ", ")))
	}
	for option, binds := range map[string][]string{"bind": c.Bind, "bind_ro": c.BindReadOnly} {
		for _, b := range binds {
			if err := checkBind(b); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", option, err))
			}
		}
	}
	for _, cap := range c.Capabilities {
		if !capabilityName.MatchString(cap) {
			errs = append(errs, fmt.Errorf(`capabilities: %q is not a capability name; use one such as "CAP_NET_ADMIN"`, cap))
		}
	}
	for option, name := range map[string]string{"exec_user": c.ExecUser, "exec_group": c.ExecGroup} {
		if name != "" && !userName.MatchString(name) {
			errs = append(errs, fmt.Errorf(`%s: %q is not a user or group name or number`, option, name))
		}
	}
	return errs
}

// checkBind requires SRC[:DST] with absolute paths and an existing SRC.
func checkBind(bind string) error {
	src, dst, _ := strings.Cut(bind, ":")
	if dst == "" {
		dst = src
	}
	if !filepath.IsAbs(src) || !filepath.IsAbs(dst) {
		return fmt.Errorf(`%q: give absolute paths, as "/host/dir:/container/dir"`, bind)
	}
	if strings.ContainsAny(bind, "\n") || strings.Count(bind, ":") > 1 {
		return fmt.Errorf(`%q: give one "SRC:DST" pair per entry`, bind)
	}
	if !pathExists(src) {
		return fmt.Errorf(`%q: %s does not exist on the host`, bind, src)
	}
	return nil
}

// nspawnSettings renders the settings file for the options. hostDNS gives
// a container on the host's network the host's resolv.conf (see
// imageResolvConf).
func (c *Config) nspawnSettings(hostDNS bool) string {
	var b strings.Builder
	b.WriteString("# Written by packer-builder-nspawn for the build of " + c.PackerBuildName + ".\n")
	if c.PrivateUsers != 0 || len(c.Capabilities) > 0 || hostDNS {
		b.WriteString("[Exec]\n")
		if hostDNS {
			b.WriteString("ResolvConf=replace-host\n")
		}
		if c.PrivateUsers.True() {
			b.WriteString("PrivateUsers=pick\n")
		} else if c.PrivateUsers.False() {
			b.WriteString("PrivateUsers=no\n")
		}
		if len(c.Capabilities) > 0 {
			caps := append([]string(nil), c.Capabilities...)
			sort.Strings(caps)
			b.WriteString("Capability=" + strings.Join(caps, " ") + "\n")
		}
	}
	if len(c.Bind) > 0 || len(c.BindReadOnly) > 0 {
		b.WriteString("[Files]\n")
		for _, bind := range c.Bind {
			b.WriteString("Bind=" + bind + "\n")
		}
		for _, bind := range c.BindReadOnly {
			b.WriteString("BindReadOnly=" + bind + "\n")
		}
	}
	switch c.Network {
	case "host":
		b.WriteString("[Network]\nVirtualEthernet=no\n")
	case "none":
		b.WriteString("[Network]\nPrivate=yes\nVirtualEthernet=no\n")
	}
	return b.String()
}
