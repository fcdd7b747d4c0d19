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
	server.Serve()
}
