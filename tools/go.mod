// Build-time tools only, kept apart so they add nothing to the plugin's
// dependencies. mapstructure-to-hcl2 is packer v1.6.6's own HCL2 spec
// generator; it needs a newer golang.org/x/tools than packer pins to load
// packages built by Go 1.26.
module packer-builder-nspawn/tools

go 1.26

require github.com/hashicorp/packer v1.6.6

require (
	github.com/agext/levenshtein v1.2.1 // indirect
	github.com/apparentlymart/go-textseg/v12 v12.0.0 // indirect
	github.com/fatih/structtag v1.0.0 // indirect
	github.com/hashicorp/hcl/v2 v2.6.0 // indirect
	github.com/mitchellh/go-wordwrap v1.0.0 // indirect
	github.com/zclconf/go-cty v1.4.0 // indirect
	golang.org/x/mod v0.22.0 // indirect
	golang.org/x/sync v0.10.0 // indirect
	golang.org/x/text v0.3.3 // indirect
	golang.org/x/tools v0.28.0 // indirect
)
