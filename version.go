package main

// pluginVersion is the plugin's version, kept here alone, canonical semver
// as Packer wants it in an installed plugin's file name.
const pluginVersion = "0.2.0"

// versionPrerelease marks every build but a release one as a development
// build, which Packer accepts as "dev" only. Release builds (make release,
// make deb) set it empty with -ldflags "-X main.versionPrerelease=".
var versionPrerelease = "dev"

// version is what --version and describe report: 0.2.0 for a release
// build, 0.2.0-dev otherwise. No build metadata: Packer drops it on install
// and then finds the file name and describe disagreeing.
func version() string {
	if versionPrerelease == "" {
		return pluginVersion
	}
	return pluginVersion + "-" + versionPrerelease
}
