// Command packer-builder-nspawn is a Packer builder plugin that builds and
// provisions systemd-nspawn containers. One binary serves Debian's packer
// 1.6.6 (plugin protocol 4, run with no arguments) and Packer 1.7 and newer
// (protocol 5: "describe", then "start builder ...").
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// defaultComponentName is what Packer >= 1.7 calls a plugin's unnamed
// builder; it maps it to the plugin's own name, "nspawn".
const defaultComponentName = "-packer-default-plugin-name-"

const usage = `usage: packer-builder-nspawn [describe | start builder [--protobuf] nspawn | --version]
This is a Packer plugin: packer runs it, you do not. See README.md.
`

func main() {
	keepInheritedFDsFromTools()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches on the arguments Packer (or a person) gives.
func run(args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) == 0:
		err = serveProtocol4()
	case len(args) == 1 && (args[0] == "--version" || args[0] == "version"):
		fmt.Fprintln(stdout, version())
		return 0
	case len(args) == 1 && args[0] == "describe":
		err = describe(stdout)
	case len(args) >= 3 && args[0] == "start" && args[1] == "builder":
		name, protobuf, ok := builderToStart(args[2:])
		if !ok || (name != "nspawn" && name != defaultComponentName) {
			fmt.Fprint(stderr, usage)
			return 2
		}
		err = serveProtocol5(protobuf)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "packer-builder-nspawn:", err)
		return 1
	}
	return 0
}

// builderToStart reads "start builder"'s arguments: the builder's name,
// with Packer's --protobuf flag before or after it.
func builderToStart(args []string) (name string, protobuf, ok bool) {
	for _, a := range args {
		switch {
		case a == "--protobuf":
			protobuf = true
		case name == "":
			name = a
		default:
			return "", false, false
		}
	}
	return name, protobuf, name != ""
}

// description is what Packer >= 1.7 reads from "describe". It lists one
// builder under the default name, so templates call it "nspawn".
type description struct {
	Version        string   `json:"version"`
	SDKVersion     string   `json:"sdk_version"`
	APIVersion     string   `json:"api_version"`
	Builders       []string `json:"builders"`
	PostProcessors []string `json:"post_processors"`
	Provisioners   []string `json:"provisioners"`
	Datasources    []string `json:"datasources"`
	// ProtocolVersion "v2" tells Packer >= 1.12 that the plugin takes
	// --protobuf (see config_spec_proto.go); without it, Packer falls back
	// to gob for every plugin of the build.
	ProtocolVersion string `json:"protocol_version"`
}

func describe(w io.Writer) error {
	return json.NewEncoder(w).Encode(description{
		Version:         version(),
		SDKVersion:      sdkVersion,
		ProtocolVersion: protocolVersion2,
		APIVersion:      "x" + apiVersionMajor + "." + apiVersionMinor,
		Builders:        []string{defaultComponentName},
		PostProcessors:  []string{},
		Provisioners:    []string{},
		Datasources:     []string{},
	})
}
