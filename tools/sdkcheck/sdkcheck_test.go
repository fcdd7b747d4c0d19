// Package sdkcheck talks to the plugin as Packer >= 1.12 does, through
// Packer's own plugin SDK at the version Packer 1.16 builds with: the
// plugin is started as Packer starts it, and its config spec is read in
// protobuf (protocol v2) and in gob.
package sdkcheck

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/rpc"
	"github.com/zclconf/go-cty/cty"
)

const magicCookie = "PACKER_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"

func TestConfigSpecInProtobuf(t *testing.T) {
	checkConfigSpec(t, startPlugin(t, true, "start", "builder", "--protobuf", "-packer-default-plugin-name-"))
}

func TestConfigSpecInGob(t *testing.T) {
	checkConfigSpec(t, startPlugin(t, false, "start", "builder", "-packer-default-plugin-name-"))
}

// Prepare's errors reach Packer as they do with gob: only the spec's
// encoding differs.
func TestPrepareErrorInProtobuf(t *testing.T) {
	b := startPlugin(t, true, "start", "builder", "--protobuf", "nspawn").Builder()
	_, _, err := b.Prepare(map[string]interface{}{
		"packer_build_name": "web", "import": "/srv/base.tar", "clone": "base",
	})
	if err == nil || !strings.Contains(err.Error(), `"import" and "clone" are both set`) {
		t.Fatalf("Prepare error %v; want the plugin's own", err)
	}
}

func checkConfigSpec(t *testing.T, c *rpc.Client) {
	t.Helper()
	spec := c.Builder().ConfigSpec()
	want := map[string]cty.Type{
		"suite":                 cty.String,
		"timeout":               cty.String,
		"export":                cty.List(cty.String),
		"bind":                  cty.List(cty.String),
		"packer_user_variables": cty.Map(cty.String),
		"cache_base":            cty.Bool,
	}
	for name, typ := range want {
		attr, ok := spec[name].(*hcldec.AttrSpec)
		if !ok {
			t.Errorf("%s: %T, want an attribute", name, spec[name])
			continue
		}
		if attr.Name != name || !attr.Type.Equals(typ) || attr.Required {
			t.Errorf("%s: got %s %s required=%v, want %s", name, attr.Name, attr.Type.GoString(), attr.Required, typ.GoString())
		}
	}
	if len(spec) < 30 {
		t.Errorf("only %d options in the spec", len(spec))
	}
}

// startPlugin runs the plugin with args as Packer does, connects to the
// socket it announces and returns the SDK's client for it.
func startPlugin(t *testing.T, protobuf bool, args ...string) *rpc.Client {
	t.Helper()
	bin := pluginBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), magicCookie)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no handshake: %v", err)
	}
	parts := strings.Split(strings.TrimSpace(line), "|")
	if len(parts) != 4 || parts[0] != "5" || parts[1] != "0" || parts[2] != "unix" {
		t.Fatalf("handshake %q; want 5|0|unix|PATH", line)
	}
	conn, err := net.Dial("unix", parts[3])
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	c.UseProto = protobuf
	t.Cleanup(func() { c.Close() })
	return c
}

// pluginBinary is $NSPAWN_PLUGIN, or the plugin built from this checkout.
func pluginBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("NSPAWN_PLUGIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "packer-plugin-nspawn")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	return bin
}
