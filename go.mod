module packer-builder-nspawn

go 1.26

require github.com/hashicorp/packer v1.6.6

require (
	github.com/agext/levenshtein v1.2.1 // indirect
	github.com/apparentlymart/go-textseg/v12 v12.0.0 // indirect
	github.com/bgentry/go-netrc v0.0.0-20140422174119-9fd32a8b3d3d // indirect
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.1 // indirect
	github.com/hashicorp/go-getter/v2 v2.0.0-20200604122502-a6995fa1edad // indirect
	github.com/hashicorp/go-multierror v1.1.0 // indirect
	github.com/hashicorp/go-safetemp v1.0.0 // indirect
	github.com/hashicorp/go-version v1.2.0 // indirect
	github.com/hashicorp/hcl/v2 v2.6.0 // indirect
	github.com/hashicorp/yamux v0.0.0-20181012175058-2f1d1f20f75d // indirect
	github.com/mitchellh/go-homedir v1.1.0 // indirect
	github.com/mitchellh/go-testing-interface v1.0.3 // indirect
	github.com/mitchellh/go-wordwrap v1.0.0 // indirect
	github.com/mitchellh/iochan v1.0.0 // indirect
	github.com/ugorji/go/codec v1.2.8 // indirect
	github.com/ulikunitz/xz v0.5.5 // indirect
	github.com/zclconf/go-cty v1.4.0 // indirect
	golang.org/x/text v0.3.3 // indirect
	ugorji.invalid/codec v1.2.8 // indirect
)

replace (
	github.com/ugorji/go => github.com/ugorji/go v1.2.8
	github.com/ugorji/go/codec => ./codecshim
	ugorji.invalid/codec => github.com/ugorji/go/codec v1.2.8
)
