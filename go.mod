module packer-builder-nspawn

go 1.26

// Direct dependencies. packer v1.6.6 is the plugin RPC server and SDK that
// Debian's packaged packer (1.6.6) speaks; later releases dropped that plugin
// protocol, so it stays pinned. hcl and go-cty come with it, at its versions,
// for the generated HCL2 spec. mapstructure (below, at packer's version)
// decodes the configuration. x/sys, at the version packer already builds
// in, gives syncfs, which package syscall lacks on amd64. protobuf, at the
// version packer already builds in, encodes the config spec for Packer's
// protocol v2 (protowire only). The codec is the shim below, where the
// plugin hooks that encoding in. cyclonedx-go and spdx/tools-golang are
// the reference Go models and writers of the two SBOM formats (`sbom`),
// so the files follow each spec without hand-made JSON; neither moves
// any version above (spdx brings only anchore/go-struct-converter).
require (
	github.com/CycloneDX/cyclonedx-go v0.12.0
	github.com/hashicorp/hcl/v2 v2.6.0
	github.com/hashicorp/packer v1.6.6
	github.com/spdx/tools-golang v0.5.7
	github.com/ugorji/go/codec v1.2.8
	github.com/zclconf/go-cty v1.4.0
	golang.org/x/sys v0.0.0-20200930185726-fdedc70b468f
	google.golang.org/protobuf v1.25.0
)

require (
	cloud.google.com/go v0.66.0 // indirect
	cloud.google.com/go/storage v1.10.0 // indirect
	github.com/Azure/go-ntlmssp v0.0.0-20191115201650-bad6df29494a // indirect
	github.com/ChrisTrenkamp/goxpath v0.0.0-20170922090931-c385f95c6022 // indirect
	github.com/agext/levenshtein v1.2.1 // indirect
	github.com/anchore/go-struct-converter v0.1.0 // indirect
	github.com/apparentlymart/go-textseg/v12 v12.0.0 // indirect
	github.com/armon/go-metrics v0.0.0-20190430140413-ec5e00d3c878 // indirect
	github.com/aws/aws-sdk-go v1.36.0 // indirect
	github.com/bgentry/go-netrc v0.0.0-20140422174119-9fd32a8b3d3d // indirect
	github.com/dylanmei/iso8601 v0.1.0 // indirect
	github.com/fatih/color v1.9.0 // indirect
	github.com/gofrs/flock v0.7.3 // indirect
	github.com/gofrs/uuid v3.2.0+incompatible // indirect
	github.com/golang/groupcache v0.0.0-20200121045136-8c9f03a8e57e // indirect
	github.com/golang/protobuf v1.4.2 // indirect
	github.com/golang/snappy v0.0.1 // indirect
	github.com/google/uuid v1.1.1 // indirect
	github.com/googleapis/gax-go/v2 v2.0.5 // indirect
	github.com/hashicorp/consul/api v1.4.0 // indirect
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.1 // indirect
	github.com/hashicorp/go-getter/gcs/v2 v2.0.0-20200604122502-a6995fa1edad // indirect
	github.com/hashicorp/go-getter/s3/v2 v2.0.0-20200604122502-a6995fa1edad // indirect
	github.com/hashicorp/go-getter/v2 v2.0.0-20200604122502-a6995fa1edad // indirect
	github.com/hashicorp/go-hclog v0.12.0 // indirect
	github.com/hashicorp/go-immutable-radix v1.1.0 // indirect
	github.com/hashicorp/go-multierror v1.1.0 // indirect
	github.com/hashicorp/go-retryablehttp v0.5.4 // indirect
	github.com/hashicorp/go-rootcerts v1.0.2 // indirect
	github.com/hashicorp/go-safetemp v1.0.0 // indirect
	github.com/hashicorp/go-sockaddr v1.0.2 // indirect
	github.com/hashicorp/go-version v1.2.0 // indirect
	github.com/hashicorp/golang-lru v0.5.3 // indirect
	github.com/hashicorp/hcl v1.0.0 // indirect
	github.com/hashicorp/serf v0.9.2 // indirect
	github.com/hashicorp/vault/api v1.0.4 // indirect
	github.com/hashicorp/vault/sdk v0.1.13 // indirect
	github.com/hashicorp/yamux v0.0.0-20181012175058-2f1d1f20f75d // indirect
	github.com/jehiah/go-strftime v0.0.0-20171201141054-1d33003b3869 // indirect
	github.com/jmespath/go-jmespath v0.4.0 // indirect
	github.com/jstemmer/go-junit-report v0.9.1 // indirect
	github.com/kr/fs v0.0.0-20131111012553-2788f0dbd169 // indirect
	github.com/masterzen/simplexml v0.0.0-20190410153822-31eea3082786 // indirect
	github.com/masterzen/winrm v0.0.0-20200615185753-c42b5136ff88 // indirect
	github.com/mattn/go-colorable v0.1.6 // indirect
	github.com/mattn/go-isatty v0.0.12 // indirect
	github.com/mitchellh/go-fs v0.0.0-20180402234041-7b48fa161ea7 // indirect
	github.com/mitchellh/go-homedir v1.1.0 // indirect
	github.com/mitchellh/go-testing-interface v1.0.3 // indirect
	github.com/mitchellh/go-wordwrap v1.0.0 // indirect
	github.com/mitchellh/iochan v1.0.0 // indirect
	github.com/mitchellh/mapstructure v1.2.3 // indirect
	github.com/mitchellh/reflectwalk v1.0.0 // indirect
	github.com/nu7hatch/gouuid v0.0.0-20131221200532-179d4d0c4d8d // indirect
	github.com/packer-community/winrmcp v0.0.0-20180921204643-0fd363d6159a // indirect
	github.com/pierrec/lz4 v2.0.5+incompatible // indirect
	github.com/pkg/sftp v0.0.0-20160118190721-e84cc8c755ca // indirect
	github.com/ryanuber/go-glob v1.0.0 // indirect
	github.com/ulikunitz/xz v0.5.5 // indirect
	go.opencensus.io v0.22.4 // indirect
	golang.org/x/crypto v0.0.0-20200622213623-75b288015ac9 // indirect
	golang.org/x/lint v0.0.0-20200302205851-738671d3881b // indirect
	golang.org/x/mod v0.3.0 // indirect
	golang.org/x/net v0.0.0-20201110031124-69a78807bb2b // indirect
	golang.org/x/oauth2 v0.0.0-20200902213428-5d25da1a8d43 // indirect
	golang.org/x/text v0.3.3 // indirect
	golang.org/x/time v0.0.0-20191024005414-555d28b269f0 // indirect
	golang.org/x/tools v0.0.0-20201111133315-69daaf961d65 // indirect
	golang.org/x/xerrors v0.0.0-20200804184101-5ec99f83aff1 // indirect
	google.golang.org/api v0.32.0 // indirect
	google.golang.org/appengine v1.6.6 // indirect
	google.golang.org/genproto v0.0.0-20200918140846-d0d605568037 // indirect
	google.golang.org/grpc v1.32.0 // indirect
	gopkg.in/square/go-jose.v2 v2.3.1 // indirect
	ugorji.invalid/codec v1.2.8 // indirect
)

// The codec shim. packer v1.6.6 pins a 2015 ugorji codec, but Debian's packer
// is built with codec v1.2.8, and a plugin built with the 2015 one cannot talk
// to it (it panics at init on current Go, and cannot decode the timestamps in
// file uploads). A plain require of codec v1.2.8 is ambiguous (the 2015 root
// module also holds codec/) and packer's rpc code does not compile against
// 1.2.8 (RawToString is no longer a plain field). So:
//   - the 2015 root module becomes v1.2.8, which no longer holds codec/;
//   - github.com/ugorji/go/codec is ./codecshim, the three names packer's rpc
//     package uses, delegating to the real codec;
//   - the real codec v1.2.8 is reachable under the alias ugorji.invalid/codec.
// Use replace, not require, for the root module: go mod tidy drops the require.
replace (
	github.com/ugorji/go => github.com/ugorji/go v1.2.8
	github.com/ugorji/go/codec => ./codecshim
	ugorji.invalid/codec => github.com/ugorji/go/codec v1.2.8
)
