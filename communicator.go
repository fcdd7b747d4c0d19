package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	packersdk "github.com/hashicorp/packer/packer-plugin-sdk/packer"
)

// communicator runs Packer's provisioners inside the container through
// systemd-run --machine. Paths always travel as separate arguments, never
// inside a shell string.
type communicator struct {
	// ctx is the build's context: Packer's RPC server hands Start a
	// context.TODO(), so cancelling a build would not reach the command.
	ctx     context.Context
	machine Host
	name    string
	// user and group run every command (exec_user, exec_group); empty
	// means root.
	user, group string
	// env is set in every command's environment (a reproducible build's
	// SOURCE_DATE_EPOCH).
	env []string
}

var _ packersdk.Communicator = (*communicator)(nil)

// Start runs cmd.Command with /bin/sh in the container and returns at once;
// the exit status arrives through cmd.SetExited.
func (c *communicator) Start(_ context.Context, cmd *packersdk.RemoteCmd) error {
	go func() {
		code, err := c.machine.Exec(c.ctx, c.name, execRequest{
			Argv:   []string{"/bin/sh", "-c", cmd.Command},
			User:   c.user,
			Group:  c.group,
			Env:    c.env,
			Stdin:  cmd.Stdin,
			Stdout: orDiscard(cmd.Stdout),
			Stderr: orDiscard(cmd.Stderr),
		})
		if err != nil {
			fmt.Fprintf(orDiscard(cmd.Stderr), "nspawn: %s\n", err)
			code = packersdk.CmdDisconnect
		}
		cmd.SetExited(code)
	}()
	return nil
}

// Upload writes r to the file dst in the container, with fi's mode if given.
func (c *communicator) Upload(dst string, r io.Reader, fi *os.FileInfo) error {
	if err := c.run(r, nil, uploadArgv(dst, fi)...); err != nil {
		return fmt.Errorf("upload to %s: %w", dst, err)
	}
	return nil
}

// setModeScript writes stdin to "$1", then gives it mode "$2": one command
// where dd and chmod would take two (a provisioner's script upload is on
// every shell provisioner's path). The path and mode are arguments, never
// part of the script, so no quoting is needed.
const setModeScript = `dd of="$1" bs=1M status=none && chmod "$2" -- "$1"`

// uploadArgv is the command that writes an upload to dst: dd, which takes
// everything after "of=" as the path, whatever its bytes.
func uploadArgv(dst string, fi *os.FileInfo) []string {
	if fi == nil || *fi == nil {
		return []string{"/bin/dd", "of=" + dst, "bs=1M", "status=none"}
	}
	mode := fmt.Sprintf("%04o", (*fi).Mode().Perm())
	return []string{"/bin/sh", "-c", setModeScript, "sh", dst, mode}
}

// UploadDir copies the host directory src into dst in the container. As
// with rsync, "src/" copies the contents, "src" the directory itself.
func (c *communicator) UploadDir(dst, src string, exclude []string) error {
	info, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("upload %s: %w", src, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("upload %s: not a directory", src)
	}
	prefix := ""
	if !strings.HasSuffix(src, "/") {
		prefix = filepath.Base(src)
	}
	// An OS pipe, so tar in the container reads what writeTar writes with
	// no copy in between; of the default size, not a bulk one (see
	// tarRecord), and blocking (see blockingPipe).
	pr, pw, err := blockingPipe()
	if err != nil {
		return fmt.Errorf("upload %s: %w", src, err)
	}
	written := make(chan error, 1)
	go func() {
		written <- writeTar(pw, src, prefix, exclude)
		pw.Close()
	}()
	err = c.run(pr, nil, uploadDirArgv(dst)...)
	// Ends a writeTar that tar stopped reading.
	pr.Close()
	if writeErr := <-written; err == nil && writeErr != nil {
		err = writeErr
	}
	if err != nil {
		return fmt.Errorf("upload %s to %s: %w", src, dst, err)
	}
	return nil
}

// extractIntoScript makes the directory "$1" and unpacks the tar stream on
// stdin into it: one command where mkdir and tar would take two. The path
// is an argument, never part of the script.
const extractIntoScript = `mkdir -p -- "$1" && exec tar -x --no-same-owner -f - -C "$1"`

// uploadDirArgv is the command that unpacks a directory upload into dst.
func uploadDirArgv(dst string) []string {
	return []string{"/bin/sh", "-c", extractIntoScript, "sh", dst}
}

// Download streams the file src in the container into w.
func (c *communicator) Download(src string, w io.Writer) error {
	if err := c.run(nil, w, "/bin/cat", "--", src); err != nil {
		return fmt.Errorf("download %s: %w", src, err)
	}
	return nil
}

// DownloadDir copies the container's directory src into the host directory
// dst: its contents for "src/", the directory itself for "src".
func (c *communicator) DownloadDir(src, dst string, exclude []string) error {
	dir, base := src, "."
	if !strings.HasSuffix(src, "/") {
		dir, base = path.Dir(src), path.Base(src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("download %s: %w", src, err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := extractTar(pr, dst, exclude)
		if err == nil {
			// tar pads its output past the end-of-archive marker.
			_, err = io.Copy(io.Discard, pr)
		}
		pr.CloseWithError(err)
		done <- err
	}()
	err := c.run(nil, pw, "/bin/tar", "-c", "-f", "-", "-C", dir, "--", base)
	pw.Close()
	if extractErr := <-done; err == nil {
		err = extractErr
	}
	if err != nil {
		return fmt.Errorf("download %s to %s: %w", src, dst, err)
	}
	return nil
}

// run runs argv in the container and turns a non-zero exit into an error
// that carries the command's last error line.
func (c *communicator) run(stdin io.Reader, stdout io.Writer, argv ...string) error {
	errOut := &tailBuffer{max: 2048}
	code, err := c.machine.Exec(c.ctx, c.name, execRequest{
		Argv: argv, Stdin: stdin, Stdout: orDiscard(stdout), Stderr: errOut,
		User: c.user, Group: c.group, Env: c.env,
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("%s exited with status %d: %s", argv[0], code, errOut.lastLine())
	}
	return nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// excluded reports whether rel matches one of the exclude patterns, by
// its full relative path or its base name.
func excluded(rel string, exclude []string) bool {
	for _, pattern := range exclude {
		if ok, _ := path.Match(pattern, rel); ok {
			return true
		}
		if ok, _ := path.Match(pattern, path.Base(rel)); ok {
			return true
		}
	}
	return false
}
