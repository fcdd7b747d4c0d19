// Command packer-builder-nspawn is a Packer builder plugin that builds and
// provisions systemd-nspawn containers.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/packer/packer-plugin-sdk/plugin"
)

func main() {
	server, err := plugin.Server()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := server.RegisterBuilder(new(Builder)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server.Serve()
}
