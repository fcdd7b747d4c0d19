package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sourceDateEpochEnv is the variable Debian's reproducible-builds tools
// read: the one time a reproducible build may write.
const sourceDateEpochEnv = "SOURCE_DATE_EPOCH"

// sourceDateFromEnv reads SOURCE_DATE_EPOCH from Packer's environment,
// which the plugin inherits: nil when it is unset.
func sourceDateFromEnv() (*time.Time, error) {
	value, ok := os.LookupEnv(sourceDateEpochEnv)
	if !ok || value == "" {
		return nil, nil
	}
	secs, err := strconv.ParseInt(value, 10, 64)
	if err != nil || secs < 0 {
		return nil, fmt.Errorf(`%s: %q in the environment is not a number of seconds since 1970; unset it or give one such as 1700000000`, sourceDateEpochEnv, value)
	}
	t := time.Unix(secs, 0).UTC()
	return &t, nil
}

// releaseDate is the newest Date of the Release files in the tree's
// package lists: the state of the mirror the image was made from, which
// is what a rebuild from the same mirror state has in common with it.
func releaseDate(tree string) (time.Time, bool) {
	files, _ := filepath.Glob(filepath.Join(tree, "var/lib/apt/lists/*Release"))
	var newest time.Time
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if t, ok := releaseField(b, "Date"); ok && t.After(newest) {
			newest = t
		}
	}
	return newest, !newest.IsZero()
}

// releaseField reads a date field of a Release file.
func releaseField(release []byte, field string) (time.Time, bool) {
	s := bufio.NewScanner(bytes.NewReader(release))
	for s.Scan() {
		value, ok := strings.CutPrefix(s.Text(), field+":")
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC1123, strings.TrimSpace(value))
		if err != nil {
			t, err = time.Parse(time.RFC1123Z, strings.TrimSpace(value))
		}
		return t.UTC(), err == nil
	}
	return time.Time{}, false
}

// releaseDateTimeout bounds the fetch of a mirror's Release file.
const releaseDateTimeout = 30 * time.Second

// mirrorReleaseDate reads the Date of suite's Release file at mirror, or
// at the mirror debootstrap picks when mirror is empty, before anything is
// installed: a reproducible build gives it to the bootstrapper as
// SOURCE_DATE_EPOCH, and the same mirror state gives it again.
func mirrorReleaseDate(ctx context.Context, mirror, suite string) (time.Time, error) {
	if mirror == "" {
		m, err := debootstrapDefaultMirror(suite)
		if err != nil {
			return time.Time{}, err
		}
		mirror = m
	}
	base := strings.TrimRight(mirror, "/") + "/dists/" + suite + "/"
	var errs []error
	for _, name := range []string{"InRelease", "Release"} {
		b, err := fetch(ctx, base+name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t, ok := releaseField(b, "Date"); ok {
			return t, nil
		}
		errs = append(errs, fmt.Errorf("%s%s has no Date", base, name))
	}
	return time.Time{}, errors.Join(errs...)
}

// fetch reads a file:// or http(s):// URL, Packer's proxy settings and all.
func fetch(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return os.ReadFile(u.Path)
	}
	ctx, cancel := context.WithTimeout(ctx, releaseDateTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", rawURL, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// debootstrapProgram is the debootstrap script, whose DEF_MIRROR line
// names its default mirror; tests point it elsewhere.
var debootstrapProgram = "/usr/sbin/debootstrap"

// debootstrapDefaultMirror is the mirror debootstrap uses for suite when
// given none: its suite script's default_mirror, else its own DEF_MIRROR.
func debootstrapDefaultMirror(suite string) (string, error) {
	for _, f := range []struct{ path, prefix string }{
		{filepath.Join(debootstrapScripts, suite), "default_mirror "},
		{debootstrapProgram, "DEF_MIRROR="},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), f.prefix); ok {
				return strings.Trim(strings.TrimSpace(v), `"'`), nil
			}
		}
	}
	return "", fmt.Errorf(`reproducible: no mirror is set and debootstrap's default could not be read; set "mirror" or SOURCE_DATE_EPOCH`)
}
