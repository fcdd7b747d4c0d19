package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
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

// execLog records each Exec request's argv and what it read on stdin.
type execLog struct {
	mu    sync.Mutex
	argvs [][]string
	stdin [][]byte
}

func (l *execLog) add(req execRequest) {
	var in []byte
	if req.Stdin != nil {
		in, _ = io.ReadAll(req.Stdin)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.argvs = append(l.argvs, req.Argv)
	l.stdin = append(l.stdin, in)
}

func newTestCommunicator(answer func(req execRequest) (int, error)) (*communicator, *execLog) {
	log := new(execLog)
	fake := newFakeHost()
	fake.exec = func(req execRequest) (int, error) {
		log.add(req)
		if answer != nil {
			return answer(req)
		}
		return 0, nil
	}
	return &communicator{ctx: context.Background(), machine: fake, name: "web"}, log
}

func TestStartReportsExitStatusAndStreams(t *testing.T) {
	for _, code := range []int{0, 1, 3, 127} {
		comm, log := newTestCommunicator(func(req execRequest) (int, error) {
			fmt.Fprint(req.Stdout, "out\n")
			fmt.Fprint(req.Stderr, "err\n")
			return code, nil
		})
		var stdout, stderr bytes.Buffer
		cmd := &packersdk.RemoteCmd{Command: "echo out; echo err >&2; exit 3", Stdout: &stdout, Stderr: &stderr}
		if err := comm.Start(context.TODO(), cmd); err != nil {
			t.Fatal(err)
		}
		if got := cmd.Wait(); got != code {
			t.Errorf("exit %d: got status %d", code, got)
		}
		if stdout.String() != "out\n" || stderr.String() != "err\n" {
			t.Errorf("exit %d: stdout %q stderr %q; want each stream in its writer", code, stdout.String(), stderr.String())
		}
		want := []string{"/bin/sh", "-c", cmd.Command}
		if !reflect.DeepEqual(log.argvs[0], want) {
			t.Errorf("argv %q, want %q", log.argvs[0], want)
		}
	}
}

func TestStartFollowsBuildContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fake := newFakeHost()
	fake.blockOn = "exec"
	comm := &communicator{ctx: ctx, machine: fake, name: "web"}
	cmd := &packersdk.RemoteCmd{Command: "sleep 600"}
	if err := comm.Start(context.TODO(), cmd); err != nil {
		t.Fatal(err)
	}
	cancel()
	done := make(chan int)
	go func() { done <- cmd.Wait() }()
	select {
	case code := <-done:
		if code == 0 {
			t.Error("a cancelled command reported success")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the build did not end the command")
	}
}

// randomName makes a file name from awkward bytes: quotes, $, backticks,
// spaces, newlines, a leading dash.
func randomName(r *rand.Rand) string {
	const awkward = " '\"$`\\\n\t;&|*?()<>{}!#~-=%"
	var b strings.Builder
	b.WriteString("-")
	for i := 0; i < 1+r.Intn(20); i++ {
		if r.Intn(2) == 0 {
			b.WriteByte(awkward[r.Intn(len(awkward))])
		} else {
			b.WriteByte(byte('a' + r.Intn(26)))
		}
	}
	return strings.ReplaceAll(b.String(), "/", "")
}

func TestUploadAndDownloadPassPathsAsArguments(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		dst := "/tmp/" + randomName(r)
		content := []byte(randomName(r))
		comm, log := newTestCommunicator(func(req execRequest) (int, error) {
			if req.Argv[0] == "/bin/cat" {
				_, _ = req.Stdout.Write(content)
			}
			return 0, nil
		})
		info := os.FileInfo(fakeInfo{mode: 0o750})
		if err := comm.Upload(dst, bytes.NewReader(content), &info); err != nil {
			t.Fatalf("Upload(%q): %v", dst, err)
		}
		var got bytes.Buffer
		if err := comm.Download(dst, &got); err != nil {
			t.Fatalf("Download(%q): %v", dst, err)
		}
		wantArgvs := [][]string{
			{"/bin/sh", "-c", setModeScript, "sh", dst, "0750"},
			{"/bin/cat", "--", dst},
		}
		if !reflect.DeepEqual(log.argvs, wantArgvs) {
			t.Fatalf("path %q: argvs\n%q\nwant\n%q", dst, log.argvs, wantArgvs)
		}
		if !bytes.Equal(log.stdin[0], content) || !bytes.Equal(got.Bytes(), content) {
			t.Fatalf("path %q: content not byte-exact", dst)
		}
	}
}

type fakeInfo struct{ mode os.FileMode }

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() interface{}   { return nil }

func TestUploadFailureNamesDestination(t *testing.T) {
	comm, _ := newTestCommunicator(func(req execRequest) (int, error) {
		fmt.Fprintln(req.Stderr, "dd: failed to open '/nope/x': No such file or directory")
		return 1, nil
	})
	err := comm.Upload("/nope/x", strings.NewReader("x"), nil)
	if err == nil || !strings.Contains(err.Error(), "/nope/x") || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("got %v; want an error naming the path and dd's reason", err)
	}
}

func TestUploadDirTrailingSlash(t *testing.T) {
	src := filepath.Join(t.TempDir(), "site")
	if err := os.MkdirAll(filepath.Join(src, "css"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "css/a.css"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ src, want string }{
		{src, "site/css/a.css"},
		{src + "/", "css/a.css"},
	} {
		comm, log := newTestCommunicator(nil)
		if err := comm.UploadDir("/srv/www", tc.src, nil); err != nil {
			t.Fatalf("UploadDir(%q): %v", tc.src, err)
		}
		// One command makes the directory and unpacks into it.
		if want := [][]string{uploadDirArgv("/srv/www")}; !reflect.DeepEqual(log.argvs, want) {
			t.Errorf("%q: ran %q, want %q", tc.src, log.argvs, want)
		}
		if names := tarNames(t, log.stdin[0]); !contains(names, tc.want) {
			t.Errorf("%q: archive holds %q, want %q", tc.src, names, tc.want)
		}
	}
}

// The directory upload's script, run by a real sh and tar on hostile
// destination names: each ends up as the directory, created with its
// parents, and holds the archive's files.
func TestUploadDirRunsInARealShell(t *testing.T) {
	for _, tool := range []string{"/bin/sh", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := writeTar(&archive, src+"/", "", nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{`a b'c' "d" $(touch pwned) ;x`, "-n", "new\nline", "deep/er/-C"} {
		dst := filepath.Join(dir, name)
		argv := uploadDirArgv(dst)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Stdin = bytes.NewReader(archive.Bytes())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%q: %v: %s", name, err, out)
		}
		if got, err := os.ReadFile(filepath.Join(dst, "a.txt")); err != nil || string(got) != "a" {
			t.Errorf("%q: a.txt holds %q (%v)", name, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("part of a path ran as a command")
	}
}

func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}

func TestDownloadDir(t *testing.T) {
	archive := evilTar(t, [3]string{"logs/app.log", "file", ""})
	for _, tc := range []struct{ src, wantArgv string }{
		{"/var/logs/", "/bin/tar -c -f - -C /var/logs/ -- ."},
		{"/var/logs", "/bin/tar -c -f - -C /var -- logs"},
	} {
		// GNU tar pads its output to whole records.
		data := append(archive.Bytes(), make([]byte, tarRecord)...)
		comm, log := newTestCommunicator(func(req execRequest) (int, error) {
			_, err := req.Stdout.Write(data)
			return 0, err
		})
		dst := t.TempDir()
		if err := comm.DownloadDir(tc.src, dst, nil); err != nil {
			t.Fatalf("DownloadDir(%q): %v", tc.src, err)
		}
		if got := strings.Join(log.argvs[0], " "); got != tc.wantArgv {
			t.Errorf("%q: argv %q, want %q", tc.src, got, tc.wantArgv)
		}
		if body, err := os.ReadFile(filepath.Join(dst, "logs/app.log")); err != nil || string(body) != "evil" {
			t.Errorf("%q: extracted %q (%v)", tc.src, body, err)
		}
	}
}

func TestDownloadMissingFileFails(t *testing.T) {
	comm, _ := newTestCommunicator(func(req execRequest) (int, error) {
		fmt.Fprintln(req.Stderr, "cat: /nope: No such file or directory")
		return 1, nil
	})
	if err := comm.Download("/nope", io.Discard); err == nil || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("got %v; want cat's reason", err)
	}
}

func TestExecUserRunsEveryCommand(t *testing.T) {
	var users []string
	comm, _ := newTestCommunicator(func(req execRequest) (int, error) {
		users = append(users, req.User+":"+req.Group)
		return 0, nil
	})
	comm.user, comm.group = "app", "www-data"
	cmd := &packersdk.RemoteCmd{Command: "id"}
	if err := comm.Start(context.TODO(), cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := comm.Upload("/home/app/f", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u != "app:www-data" {
			t.Errorf("a command ran as %q; want app:www-data", u)
		}
	}
	if len(users) != 2 {
		t.Errorf("%d commands recorded, want 2", len(users))
	}
}

// The mode-setting upload runs in a real shell: the path and mode must
// arrive whole, never as part of the script.
func TestUploadWithModeRunsInARealShell(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	for _, name := range []string{`a b'c' "d" $(touch pwned) ;x`, "-n", "new\nline", "of=x"} {
		dst := filepath.Join(dir, name)
		info := os.FileInfo(fakeInfo{mode: 0o751})
		argv := uploadArgv(dst, &info)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader("body of " + name)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%q: %v: %s", name, err, out)
		}
		got, err := os.ReadFile(dst)
		if err != nil || string(got) != "body of "+name {
			t.Errorf("%q: content %q (%v)", name, got, err)
		}
		if st, err := os.Stat(dst); err != nil {
			t.Errorf("%q: %v", name, err)
		} else if st.Mode().Perm() != 0o751 {
			t.Errorf("%q: mode %v; want 0751", name, st.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("part of a path ran as a command")
	}
}
