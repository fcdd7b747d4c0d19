package main

import (
	"fmt"
	"log"
	"net"
	"net/rpc"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/packer/packer-plugin-sdk/plugin"
	packrpc "github.com/hashicorp/packer/packer-plugin-sdk/rpc"
	"github.com/ugorji/go/codec"
)

// The plugin API this binary speaks to Packer >= 1.7, and the SDK whose RPC
// it serves (packer v1.6.6's, whose wire format 1.7+ still accepts).
const (
	apiVersionMajor = "5"
	apiVersionMinor = "0"
	sdkVersion      = "1.6.6"
	// protocolVersion2 is Packer's name for the protocol that sends the
	// config spec in protobuf.
	protocolVersion2 = "v2"
)

// serveProtocol4 is the handshake Debian's packer 1.6.6 expects
// ("5|unix|ADDR"), done by packer v1.6.6's own plugin server.
func serveProtocol4() error {
	return serveBuilder(plugin.Server())
}

// serveBuilder serves the builder on server until Packer is done with it.
func serveBuilder(server *packrpc.Server, err error) error {
	if err != nil {
		return err
	}
	if err := server.RegisterBuilder(new(Builder)); err != nil {
		return err
	}
	server.Serve()
	return nil
}

// serveProtocol5 is the handshake of Packer >= 1.7 ("5|0|unix|ADDR"), then
// the same RPC server on the one connection Packer makes; with protobuf,
// the config spec goes in protobuf (Packer's protocol v2).
func serveProtocol5(protobuf bool) error {
	if os.Getenv(plugin.MagicCookieKey) != plugin.MagicCookieValue {
		return plugin.ErrManuallyStartedPlugin
	}
	if protobuf {
		codec.WrapServerCodec = func(c rpc.ServerCodec) rpc.ServerCodec {
			return protobufConfigSpec{ServerCodec: c, spec: new(Builder).ConfigSpec}
		}
	}
	dir, err := os.MkdirTemp("", "packer-plugin-nspawn-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	listener, err := net.Listen("unix", filepath.Join(dir, "plugin.sock"))
	if err != nil {
		return err
	}
	fmt.Printf("%s|%s|%s|%s\n", apiVersionMajor, apiVersionMinor, "unix", listener.Addr().String())
	_ = os.Stdout.Sync()
	conn, err := listener.Accept()
	listener.Close()
	if err != nil {
		return fmt.Errorf("accepting packer's connection: %w", err)
	}
	ignoreInterrupts()
	return serveBuilder(packrpc.NewServer(conn))
}

// ignoreInterrupts leaves Ctrl-C to Packer, which cancels the build through
// RPC and so lets every step clean up; the terminal sends it to us too.
func ignoreInterrupts() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for range ch {
			log.Print("interrupt received; packer cancels the build")
		}
	}()
}
