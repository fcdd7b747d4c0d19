//go:build e2e

package e2e

import "testing"

// The Packer builds, make deb and make release take minutes on a fresh
// machine: begun at once, they overlap the first scenarios instead of
// holding up the last ones.
func TestMain(m *testing.M) {
	Main(m, Packer1_9.Start, Packer1_16.Start, DebPackage.Start, ReleaseZips.Start)
}
