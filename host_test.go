package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

func TestDebootstrapArgv(t *testing.T) {
	base := bootstrapOptions{Tool: "debootstrap", Suite: "bookworm", Target: "/var/lib/machines/web", CacheDir: "/var/cache/apt/archives", Include: []string{"dbus", "procps"}}
	withAll := base
	withAll.Variant, withAll.Mirror = "minbase", "http://127.0.0.1/debian"
	contrib := base
	contrib.Components = []string{"main", "contrib", "non-free-firmware"}
	cases := []struct {
		name string
		opts bootstrapOptions
		want []string
	}{
		{"defaults pass no variant or mirror", base, []string{"debootstrap", "--include=dbus,procps", "--cache-dir=/var/cache/apt/archives", "bookworm", "/var/lib/machines/web"}},
		{"variant and mirror", withAll, []string{"debootstrap", "--variant=minbase", "--include=dbus,procps", "--cache-dir=/var/cache/apt/archives", "bookworm", "/var/lib/machines/web", "http://127.0.0.1/debian"}},
		{"components", contrib, []string{"debootstrap", "--include=dbus,procps", "--components=main,contrib,non-free-firmware", "--cache-dir=/var/cache/apt/archives", "bookworm", "/var/lib/machines/web"}},
	}
	for _, tc := range cases {
		if got := bootstrapArgv(tc.opts); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// The user's packages come after the image's own, each once.
func TestIncludePackagesAddsTheUsers(t *testing.T) {
	got := includePackages("bookworm", []string{"nginx-light", "dbus", "curl", "curl"})
	want := append(append([]string(nil), basePackages...), "systemd-resolved", "nginx-light", "curl")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("include %q, want %q", got, want)
	}
}

// main alone is the tools' default and goes unsaid; repeats go.
func TestComponentsOption(t *testing.T) {
	for _, tc := range []struct {
		given []string
		want  []string
	}{
		{nil, nil},
		{[]string{"main"}, nil},
		{[]string{"main", "main"}, nil},
		{[]string{"main", "contrib", "main"}, []string{"main", "contrib"}},
	} {
		c := &Config{Components: tc.given}
		if got := c.components(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("components %q: got %q, want %q", tc.given, got, tc.want)
		}
	}
}

func TestIncludePackages(t *testing.T) {
	for suite, wantResolved := range map[string]bool{"bookworm": true, "trixie": true, "unstable": true, "noble": true, "bullseye": false, "jammy": false} {
		got := strings.Join(includePackages(suite, nil), ",")
		if strings.Contains(got, "systemd-resolved") != wantResolved {
			t.Errorf("suite %s: include %s; systemd-resolved wanted: %v", suite, got, wantResolved)
		}
		for _, pkg := range []string{"apt-utils", "iputils-ping", "netbase", "procps", "dbus", "systemd-container"} {
			if !strings.Contains(got, pkg) {
				t.Errorf("suite %s: include %s lacks %s", suite, got, pkg)
			}
		}
	}
}

func TestImportArgv(t *testing.T) {
	cases := []struct {
		src  importSource
		want []string // after the tool's own words
	}{
		{importSource{Kind: pullTar, Path: "https://h/b.tar", Verify: "no"}, []string{"pull-tar", "--verify=no", "--", "https://h/b.tar", "web"}},
		{importSource{Kind: pullTar, Path: "https://h/b.tar"}, []string{"pull-tar", "--", "https://h/b.tar", "web"}},
		{importSource{Kind: pullRaw, Path: "https://h/b.raw", Verify: "checksum"}, []string{"pull-raw", "--verify=checksum", "--", "https://h/b.raw", "web"}},
		{importSource{Kind: pullRaw, Path: "https://h/b.raw"}, []string{"pull-raw", "--", "https://h/b.raw", "web"}},
		{importSource{Kind: importTar, Path: "/srv/-b.tar"}, []string{"import-tar", "--", "/srv/-b.tar", "web"}},
		{importSource{Kind: importTarZstd, Path: "/srv/b.tar.zst"}, []string{"import-tar", "--", "-", "web"}},
		{importSource{Kind: importRaw, Path: "/srv/b.raw"}, []string{"import-raw", "--", "/srv/b.raw", "web"}},
		{importSource{Kind: importFS, Path: "/srv/tree"}, []string{"import-fs", "--", "/srv/tree", "web"}},
	}
	for _, tool := range transferTools {
		for _, tc := range cases {
			want := append(append([]string(nil), tool.head...), tc.want...)
			if got := importArgv(tool.tool, tc.src, "web"); !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %s %s (verify %q):\n got %q\nwant %q", tool.tool, tc.src.Kind, tc.src.Path, tc.src.Verify, got, want)
			}
		}
	}
}

// transferTools are both tools with the words each command line starts with.
var transferTools = []struct {
	tool importTool
	head []string
}{{machinectlTool, []string{"machinectl"}}, {importctlTool, []string{"importctl", "--class=machine"}}}

func TestExportArgv(t *testing.T) {
	cases := []struct {
		format exportFormat
		want   []string // after the tool's own words
	}{
		{exportTar, []string{"export-tar", "--format=uncompressed", "--", "web", "/srv/web.tar"}},
		{exportTarGz, []string{"export-tar", "--format=gzip", "--", "web", "/srv/web.tar"}},
		{exportTarXz, []string{"export-tar", "--format=xz", "--", "web", "/srv/web.tar"}},
		// To standard output, for zstd.
		{exportTarZstd, []string{"export-tar", "--format=uncompressed", "--", "web", "-"}},
		{exportRaw, []string{"export-raw", "--format=uncompressed", "--", "web", "/srv/web.tar"}},
	}
	for _, tool := range transferTools {
		for _, tc := range cases {
			want := append(append([]string(nil), tool.head...), tc.want...)
			if got := exportArgv(tool.tool, "web", tc.format, "/srv/web.tar"); !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %s:\n got %q\nwant %q", tool.tool, tc.format, got, want)
			}
		}
	}
}

func TestExecArgvKeepsCommandApart(t *testing.T) {
	got := execArgv("web", execRequest{Argv: []string{"/bin/cat", "--", "/tmp/a b;$(reboot)"}})
	// Each $ doubled: the container's service manager halves them again.
	want := []string{"systemd-run", "--machine=web", "--pipe", "--wait", "--quiet", "--collect", "--", "/bin/cat", "--", "/tmp/a b;$$(reboot)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	got = execArgv("web", execRequest{Argv: []string{"/bin/true"}, Env: []string{"SOURCE_DATE_EPOCH=1700000000"}})
	want = []string{"systemd-run", "--machine=web", "--pipe", "--wait", "--quiet", "--collect", "--setenv=SOURCE_DATE_EPOCH=1700000000", "--", "/bin/true"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with environment: got %q\nwant %q", got, want)
	}
	got = execArgv("web", execRequest{Argv: []string{"/bin/true"}, User: "app", Group: "www-data"})
	want = []string{"systemd-run", "--machine=web", "--pipe", "--wait", "--quiet", "--collect", "--uid=app", "--gid=www-data", "--", "/bin/true"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("as a user: got %q\nwant %q", got, want)
	}
}

func TestLineWriterEmitsWholeLines(t *testing.T) {
	var lines []string
	w := &lineWriter{emit: func(s string) { lines = append(lines, s) }}
	for _, chunk := range []string{"I: Retr", "ieving\r\nI: Val", "idating\n\nlast"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"I: Retrieving", "I: Validating", ""}; !reflect.DeepEqual(lines, want) {
		t.Errorf("before flush: got %q, want %q", lines, want)
	}
	w.Flush()
	if lines[len(lines)-1] != "last" {
		t.Errorf("flush: got %q, want the unterminated line \"last\"", lines)
	}
}

func TestTailBufferKeepsLastLine(t *testing.T) {
	tb := &tailBuffer{max: 16}
	_, _ = tb.Write([]byte("first line\nE: something broke\n"))
	if got := tb.lastLine(); got != "something broke" {
		t.Errorf("lastLine = %q, want the tail of the last line", got)
	}
}

func TestTransferInto(t *testing.T) {
	listings := map[string]string{
		"machinectl": "ID PERCENT TYPE LOCAL REMOTE\n" +
			" 1      45% tar  base  /srv/base.tar\n" +
			" 2        - raw  web2  https://h/web.raw\n" +
			"\n2 transfers listed.\n",
		"importctl": "ID PROGRESS TYPE       CLASS   LOCAL REMOTE\n" +
			" 1      45% import-tar machine base  /srv/base.tar\n" +
			" 2        - pull-raw   machine web2  https://h/web.raw\n" +
			"\n2 transfers listed.\n",
	}
	for tool, listing := range listings {
		for name, want := range map[string]bool{"base": true, "web2": true, "web": false, "45%": false, "machine": false, "LOCAL": false, "listed.": false} {
			if got := transferInto(listing, name); got != want {
				t.Errorf("%s listing: transferInto(%q) = %v, want %v", tool, name, got, want)
			}
		}
	}
	if transferInto("No transfers.\n", "No") {
		t.Error("an empty listing has a transfer")
	}
}

// A command that exits without reading its input must not wait for the
// input's writer to close it (Packer's SSH adapter keeps it open).
func TestDetachedStdinDoesNotWaitForEOF(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	stdin, done, err := detachedStdin(pr)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	cmd.Stdin = stdin
	finished := make(chan error, 1)
	go func() { finished <- cmd.Run() }()
	select {
	case err := <-finished:
		done()
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the command's Wait hung on an input that never ends")
	}
}

func TestDetachedStdinPassesData(t *testing.T) {
	stdin, done, err := detachedStdin(strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cat")
	cmd.Stdin = stdin
	out, err := cmd.Output()
	done()
	if err != nil || string(out) != "payload" {
		t.Errorf("cat got %q (%v), want payload", out, err)
	}
}

// fakeTools puts shell scripts named for host tools first on PATH; each
// logs its argv to log, one call a line.
func fakeTools(t *testing.T, scripts map[string]string) (log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "calls")
	for name, body := range scripts {
		script := "#!/bin/sh\necho \"" + name + " $*\" >>" + log + "\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return log
}

// A stopped container's journal is read once its unit has stopped, so
// the unit's last lines are in it; a running one's is read at once.
func TestJournalWaitsForStoppedUnit(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh:", err)
	}
	cases := []struct {
		name, machinectl string
		wantChecks       int
	}{
		{"stopped", `echo "Could not get path to machine: No machine 'web' known" >&2; exit 1`, 3},
		{"running", `echo Name=web`, 0},
	}
	for _, tc := range cases {
		log := fakeTools(t, map[string]string{
			"machinectl": tc.machinectl,
			// The unit stops on the third question.
			"systemctl":  `[ "$(grep -c '^systemctl is-active' "$(dirname "$0")/calls")" -ge 3 ] && { echo failed; exit 3; }; echo deactivating; exit 3`,
			"journalctl": `seq 1 20; echo "Detected unsupported legacy cgroup hierarchy, refusing execution."`,
		})
		h := &hostTools{say: func(string) {}}
		text, err := h.Journal(context.Background(), "web", time.Unix(1700000000, 5000), 15)
		// The last 15 lines, not journalctl's first 15 since the start.
		if want := "7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\nDetected unsupported legacy cgroup hierarchy, refusing execution."; err != nil || text != want {
			t.Errorf("%s: Journal = %q, %v; want the end of journalctl's output, %q", tc.name, text, err, want)
		}
		calls, _ := os.ReadFile(log)
		if n := strings.Count(string(calls), "systemctl is-active -- systemd-nspawn@web.service"); n != tc.wantChecks {
			t.Errorf("%s: asked the unit's state %d times, want %d:\n%s", tc.name, n, tc.wantChecks, calls)
		}
		if want := "journalctl --unit=systemd-nspawn@web.service --since=@1700000000.000005 --no-pager --quiet --output=cat\n"; !strings.HasSuffix(string(calls), want) {
			t.Errorf("%s: calls\n%s\nwant them to end in\n%s", tc.name, calls, want)
		}
	}
}

// A unit that never stops holds the journal back only briefly.
func TestJournalWaitIsBounded(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh:", err)
	}
	fakeTools(t, map[string]string{
		"machinectl": `echo "No machine 'web' known" >&2; exit 1`,
		"systemctl":  `echo deactivating; exit 3`,
		"journalctl": `echo last words`,
	})
	h := &hostTools{say: func(string) {}}
	t0 := time.Now()
	text, err := h.Journal(context.Background(), "web", time.Now(), 15)
	if took := time.Since(t0); took < unitSettleTimeout || took > unitSettleTimeout+2*time.Second {
		t.Errorf("took %s; want about %s", took, unitSettleTimeout)
	}
	if err != nil || text != "last words" {
		t.Errorf("Journal = %q, %v; want the journal all the same", text, err)
	}
}

func TestJournalFailureSaysWhy(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh:", err)
	}
	fakeTools(t, map[string]string{
		"machinectl": `echo Name=web`,
		"journalctl": `echo "No journal files were found." >&2; exit 1`,
	})
	h := &hostTools{say: func(string) {}}
	_, err := h.Journal(context.Background(), "web", time.Now(), 15)
	if want := "journalctl failed (exit status 1): No journal files were found."; err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
}

// The host's importctl, where there is one, runs the transfers; it is
// asked about machine images only.
func TestImportToolIsPickedFromTheHost(t *testing.T) {
	listing := `echo "ID PROGRESS TYPE CLASS LOCAL REMOTE"; echo "1 - import-tar machine web /srv/web.tar"`
	cases := []struct {
		name  string
		tools map[string]string
		want  string
	}{
		{"with importctl", map[string]string{"importctl": listing, "machinectl": "exit 9"}, "importctl --class=machine list-transfers --no-pager"},
		{"without", map[string]string{"machinectl": `echo "ID PERCENT TYPE LOCAL REMOTE"; echo "1 - tar web /srv/web.tar"`}, "machinectl list-transfers --no-pager"},
	}
	for _, tc := range cases {
		log := fakeTools(t, tc.tools)
		// Only the fakes: the host's own tools must not answer.
		t.Setenv("PATH", filepath.Dir(log))
		h := newHostTools(func(string) {})
		busy, err := h.Importing(context.Background(), "web")
		if err != nil || !busy {
			t.Errorf("%s: Importing = %v, %v; want the transfer into web", tc.name, busy, err)
		}
		if calls, _ := os.ReadFile(log); string(calls) != tc.want+"\n" {
			t.Errorf("%s: ran\n%s\nwant\n%s", tc.name, calls, tc.want)
		}
	}
}

// lockedBuffer is a buffer the log may write to from any goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLog sends the package's log, which Packer shows with
// PACKER_LOG=1, to a buffer for the rest of the test.
func captureLog(t *testing.T) *lockedBuffer {
	t.Helper()
	buf := new(lockedBuffer)
	old, flags := log.Writer(), log.Flags()
	log.SetOutput(buf)
	log.SetFlags(0)
	t.Cleanup(func() { log.SetOutput(old); log.SetFlags(flags) })
	return buf
}

// loggedEnd finds the line that logged the command line cmd and returns
// how the log says that command ended, or why it is not there.
func loggedEnd(logged, cmd string) (string, error) {
	var id string
	for _, line := range strings.Split(logged, "\n") {
		if n, ok := strings.CutPrefix(line, "host command "); ok && id == "" && strings.HasSuffix(n, ": "+cmd) {
			id = strings.TrimSuffix(n, ": "+cmd)
			continue
		}
		if end, ok := strings.CutPrefix(line, "host command "+id+": "); ok && id != "" {
			return end, nil
		}
	}
	if id == "" {
		return "", fmt.Errorf("no line logs %q", cmd)
	}
	return "", fmt.Errorf("command %s (%q) has no end logged", id, cmd)
}

// Every command the host tools run is in Packer's log, ready to paste,
// with how it ended: short queries, streamed tools with an environment of
// their own, both ends of a pipeline, and the communicator's commands in
// the container.
func TestHostCommandsAreLogged(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh:", err)
	}
	cache := filepath.Join(t.TempDir(), "apt cache")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "base.tar.zst")
	cases := []struct {
		name  string
		tools map[string]string
		run   func(h *hostTools) error
		want  map[string]string // command line: how it ended
	}{
		{"a query that answers yes", map[string]string{"machinectl": "echo Name=web"},
			func(h *hostTools) error { _, err := h.ImageKnown(context.Background(), "web"); return err },
			map[string]string{"machinectl show-image --property=Name -- web": "exit status 0"}},
		{"a query that answers no", map[string]string{"machinectl": `echo "No machine 'web' known" >&2; exit 1`},
			func(h *hostTools) error { _, err := h.Running(context.Background(), "web"); return err },
			map[string]string{"machinectl show --property=Name -- web": "exit status 1"}},
		{"a tool with an environment of its own", map[string]string{"unshare": "exit 0"},
			func(h *hostTools) error {
				return h.Bootstrap(context.Background(), bootstrapOptions{Tool: "mmdebstrap", Suite: "trixie", Target: "/m/web", CacheDir: cache, Include: []string{"dbus"}})
			},
			map[string]string{"NSPAWN_CACHE_DIR='" + cache + "' unshare --mount --propagation=private -- mmdebstrap --mode=root --include=dbus" +
				" --hook-dir=" + mmdebstrapHooks + " --skip=essential/unlink,cleanup/apt/lists" +
				` '--setup-hook=mkdir -p "$1/var/cache/apt/archives" && mount --bind "$NSPAWN_CACHE_DIR" "$1/var/cache/apt/archives"'` +
				` '--setup-hook=` + strings.ReplaceAll(unsafeIOHook, "'", `'\''`) + `'` +
				` '--customize-hook=umount "$1/var/cache/apt/archives"' trixie /m/web`: "exit status 0"}},
		// /bin/cat: PATH holds only the fakes, and a consumer that cannot
		// read would leave the producer a broken pipe.
		{"a pipeline", map[string]string{"zstd": "echo data", "machinectl": "/bin/cat >/dev/null; exit 4"},
			func(h *hostTools) error {
				return h.Import(context.Background(), importSource{Kind: importTarZstd, Path: archive}, "web")
			},
			map[string]string{"zstd -dc -- " + archive: "exit status 0", "machinectl import-tar -- - web": "exit status 4"}},
		{"the communicator's command in the container", map[string]string{"systemd-run": "exit 3"},
			func(h *hostTools) error {
				cmd := &packersdk.RemoteCmd{Command: `echo "it's" > '/tmp/a b'`}
				if err := (&communicator{ctx: context.Background(), machine: h, name: "web"}).Start(context.Background(), cmd); err != nil {
					return err
				}
				cmd.Wait()
				return nil
			},
			map[string]string{`systemd-run --machine=web --pipe --wait --quiet --collect -- /bin/sh -c 'echo "it'\''s" > '\''/tmp/a b'\'''`: "exit status 3"}},
		{"a tool that is not there", map[string]string{},
			func(h *hostTools) error { return h.Start(context.Background(), "web") },
			map[string]string{"machinectl start -- web": `did not start: exec: "machinectl": executable file not found in $PATH`}},
	}
	for _, tc := range cases {
		log := fakeTools(t, tc.tools)
		t.Setenv("PATH", filepath.Dir(log))
		logged := captureLog(t)
		_ = tc.run(&hostTools{say: func(string) {}, imports: machinectlTool})
		for cmd, want := range tc.want {
			end, err := loggedEnd(logged.String(), cmd)
			if err != nil || !strings.HasPrefix(end, want) {
				t.Errorf("%s: %v; ended %q; want %q, in\n%s", tc.name, err, end, want, logged)
			}
		}
	}
}

// A cancelled command's end says so, beside the signal that stopped it.
func TestCancelledHostCommandIsLoggedSo(t *testing.T) {
	logged := captureLog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _ = quietHost().output(ctx, "sleep", "5")
	end, err := loggedEnd(logged.String(), "sleep 5")
	if want := "signal: terminated (context deadline exceeded) after "; err != nil || !strings.HasPrefix(end, want) {
		t.Errorf("%v; ended %q; want %q", err, end, want)
	}
}

func TestShellQuote(t *testing.T) {
	cases := []struct {
		env, argv []string
		want      string
	}{
		{nil, []string{"machinectl", "show", "--property=Name", "--", "web-1.example_2"}, "machinectl show --property=Name -- web-1.example_2"},
		{nil, []string{"mkfs.ext4", "-d", "/srv/a b", "--", "", "1024K"}, "mkfs.ext4 -d '/srv/a b' -- '' 1024K"},
		{nil, []string{"sh", "-c", `echo "it's" $HOME`}, `sh -c 'echo "it'\''s" $HOME'`},
		{nil, []string{"~root", "#no", "a*", "x;y", "a\nb"}, "'~root' '#no' 'a*' 'x;y' 'a\nb'"},
		{[]string{"NSPAWN_CACHE_DIR=/var/cache/a b", "EMPTY="}, []string{"true"}, "NSPAWN_CACHE_DIR='/var/cache/a b' EMPTY='' true"},
	}
	for _, tc := range cases {
		if got := shellQuote(tc.env, tc.argv); got != tc.want {
			t.Errorf("shellQuote(%q, %q):\n got %s\nwant %s", tc.env, tc.argv, got, tc.want)
		}
	}
}

// What the log shows, pasted into a shell, runs the same words and the
// same environment.
func TestShellQuoteRoundTrips(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	words := []string{"plain", "", "a b", "it's", `"dq"`, `back\slash`, "$(touch pwned)", "`x`", "*", "~", "#c", "tab\there", "new\nline", "!", "a'b'c", "é", "-n"}
	cmd := shellQuote([]string{"QUOTED=a 'b' $c"}, append([]string{"sh", "-c", `printf '%s\0' "$QUOTED" "$@"`, "sh"}, words...))
	run := exec.Command(sh, "-c", cmd)
	run.Dir = t.TempDir()
	out, err := run.Output()
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if want := append([]string{"a 'b' $c"}, words...); !reflect.DeepEqual(got, want) {
		t.Errorf("the shell read back\n%q\nwant\n%q", got, want)
	}
	if entries, _ := os.ReadDir(run.Dir); len(entries) != 0 {
		t.Errorf("the shell ran a word: %v", entries)
	}
}

// The same input gives the same bytes on any host: no name or time in
// gzip, xz in one thread.
func TestCompressArgv(t *testing.T) {
	for format, want := range map[exportFormat]string{
		exportTarGz:   "gzip -n -c",
		exportTarXz:   "xz -c -T1",
		exportTarZstd: "zstd -q -c -T0",
	} {
		if got := strings.Join(compressArgv(format), " "); got != want {
			t.Errorf("%s: %q, want %q", format, got, want)
		}
	}
}

func TestMakeRawImageArgv(t *testing.T) {
	argv, env := makeRawImageArgv("/m/web", "/o/web.raw", 1<<30, nil)
	if got := strings.Join(argv, " "); got != "mkfs.ext4 -q -F -d /m/web -- /o/web.raw 1048576K" || env != nil {
		t.Errorf("plain: %q %q", got, env)
	}
	argv, env = makeRawImageArgv("/m/web", "/o/web.raw", 1<<30, &rawIdentity{UUID: "u", Epoch: time.Unix(1_700_000_000, 0)})
	if got := strings.Join(argv, " "); got != "mkfs.ext4 -q -F -d /m/web -U u -E hash_seed=u -- /o/web.raw 1048576K" ||
		!reflect.DeepEqual(env, []string{"E2FSPROGS_FAKE_TIME=1700000000"}) {
		t.Errorf("fixed: %q %q", got, env)
	}
}
