package main

import (
	"bufio"
	"bytes"
	"fmt"
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
