# packer-builder-nspawn. `sudo make base` builds the example base container;
# `sudo make test` runs every test. See README.md.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Builds the Debian package; pinned, run through the Go module proxy.
NFPM        := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
HOST_PKGS   := packer debootstrap mmdebstrap systemd-container zstd e2fsprogs
PLUGIN      := packer-builder-nspawn
# Debian's packer 1.6.6 loads packer-builder-*, Packer >= 1.7 packer-plugin-*;
# one binary under both names serves both.
MODERN      := packer-plugin-nspawn
# The version is version.go's; release builds (make release, make deb)
# report it plain, every other build with "-dev".
VERSION     := $(shell sed -n 's/^const pluginVersion = "\(.*\)"$$/\1/p' version.go)
RELEASE_LDFLAGS := -X main.versionPrerelease=
API_VERSION := x5.0
# The source address templates give in required_plugins; Packer >= 1.10
# finds the plugin under PLUGIN_DIR/PLUGIN_SOURCE.
PLUGIN_SOURCE ?= github.com/packer-builder-nspawn/nspawn
PLUGIN_DIR  ?= $(HOME)/.packer.d/plugins
PACKER      ?= packer
# Where make release and make deb write; the tests point it elsewhere.
DIST        ?= dist
RELEASE_ARCHES := amd64 arm64
DEB_ARCH    ?= amd64
MAINTAINER  ?= $(shell git log -1 --format='%an <%ae>' 2>/dev/null)
export CGO_ENABLED ?= 0

.PHONY: all build generate check-generate deps base lint unit fuzz e2e soak bench test install plugin-layout release deb clean

all: build

build: $(PLUGIN)

$(PLUGIN): go.mod go.sum codecshim/go.mod $(wildcard *.go codecshim/*.go)
	$(GO) build -o $@ .

bin/mapstructure-to-hcl2: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/mapstructure-to-hcl2 github.com/hashicorp/packer/cmd/mapstructure-to-hcl2

# Regenerate config.hcl2spec.go and the option list of the docs
# (docs-partials/, included by docs/builders/nspawn.mdx) from the Config
# struct.
GENERATED := config.hcl2spec.go docs-partials
generate: bin/mapstructure-to-hcl2
	PATH="$(CURDIR)/bin:$$PATH" $(GO) generate .
	cd tools && $(GO) run ./optionsdoc ../config.go ../docs-partials

# Fails when the generated files are out of date with config.go, or new
# ones are not committed.
check-generate: generate
	git diff --exit-code -- $(GENERATED)
	@new="$$(git status --porcelain --untracked-files=all -- $(GENERATED))"; \
	if [ -n "$$new" ]; then echo "generated files not committed:"; echo "$$new"; exit 1; fi

# Host packages the plugin and its tests use (Debian).
deps:
	@missing=""; for p in $(HOST_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; fi

# Builds the example base container (/var/lib/machines/base) and base.tar.zst.
# BASE_VARS passes more to packer build, e.g. BASE_VARS='-var network=host'
# on a host without systemd-networkd for the default veth network.
BASE_VARS   ?=
base: deps build
	packer build -force -only='*.base' $(BASE_VARS) .

# The end-to-end, soak and benchmark code is linted too.
LINT_TAGS := e2e soak bench
lint:
	test -z "$$(gofmt -l . | tee /dev/stderr)"
	$(GO) vet -tags '$(LINT_TAGS)' ./...
	$(GO) run $(STATICCHECK) -tags '$(LINT_TAGS)' ./...

# The inner loop: no root, no containers. -race needs cgo.
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	cd tools && $(GO) test -count=1 ./optionsdoc
	cd tools/sdkcheck && $(GO) test -count=1 ./...

# Each fuzz target for a bounded time; the seeds are in the tests. Go
# minimizes each new input for up to 60 s by default, one run of the fuzz
# function per byte and then per pair of bytes, and counts none of those runs
# until it is done: a 2 KB tar seed held both workers from the first second
# to the end of a 20 s run. A bounded minimization keeps every target fuzzing.
FUZZ_TARGETS       := FuzzPrepare FuzzClassifyImport FuzzExtractTar FuzzFormatUSTAR
FUZZ_TIME          ?= 20s
FUZZ_MINIMIZE_TIME ?= 250ms
fuzz:
	for f in $(FUZZ_TARGETS); do $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZ_TIME) -fuzzminimizetime $(FUZZ_MINIMIZE_TIME) . || exit 1; done

# Scenarios at once, each in hosts of its own; with 2 cores, four keep
# both busy while others wait on downloads, boots and emulation. go test
# lets every scenario start (-parallel 64) and the harness picks which
# run, the longest first (test/schedule.go). The
# foreign architecture scenario runs arm64 and armhf trees through
# qemu-user.
E2E_PARALLEL ?= 4
FOREIGN_PKGS := qemu-user-static binfmt-support arch-test
e2e: build
	$(MAKE) deps HOST_PKGS="$(FOREIGN_PKGS)"
	E2E_PARALLEL=$(E2E_PARALLEL) $(GO) test -tags e2e -v -count=1 -parallel 64 -timeout 80m ./test/

# Repeats a four-source parallel build 20 times, checking for leaks.
soak: build
	$(GO) test -tags 'e2e soak' -v -count=1 -timeout 30m -run 'TestSoak' ./test/

# Times each plugin operation against the raw tools doing the same work, in
# a throwaway host, and writes the table to BENCHMARKS.md. btrfs-progs
# formats the btrfs its clone row on btrfs runs on.
bench: deps build
	$(MAKE) deps HOST_PKGS="btrfs-progs $(FOREIGN_PKGS)"
	$(GO) test -tags 'e2e bench' -v -count=1 -timeout 80m ./bench/

test: deps lint check-generate unit fuzz e2e

# Puts the plugin in PLUGIN_DIR where every Packer line finds it: as
# packer-builder-nspawn for Debian's 1.6.6, packer-plugin-nspawn for 1.7 to
# 1.9, and in the layout of `packer plugins install` for 1.10 and newer,
# made by that command when the packer on the PATH has it.
install: build
	install -d "$(DESTDIR)$(PLUGIN_DIR)"
	install -m 0755 $(PLUGIN) "$(DESTDIR)$(PLUGIN_DIR)/$(PLUGIN)"
	ln -sf $(PLUGIN) "$(DESTDIR)$(PLUGIN_DIR)/$(MODERN)"
	if $(PACKER) plugins install --help 2>&1 | grep -q -- '-path'; then \
		PACKER_PLUGIN_PATH="$(DESTDIR)$(PLUGIN_DIR)" $(PACKER) plugins install --path ./$(PLUGIN) $(PLUGIN_SOURCE); \
	else \
		$(MAKE) --no-print-directory plugin-layout BINARY=$(PLUGIN) LAYOUT_DIR="$(DESTDIR)$(PLUGIN_DIR)/$(PLUGIN_SOURCE)"; \
	fi

# Copies BINARY into LAYOUT_DIR as `packer plugins install` would: named
# after the version it reports, with its SHA-256 beside it.
plugin-layout:
	file="$(LAYOUT_DIR)/$(MODERN)_v$$(./$(BINARY) --version)_$(API_VERSION)_linux_$$($(GO) env GOARCH)" && \
	install -d "$(LAYOUT_DIR)" && install -m 0755 $(BINARY) "$$file" && \
	sha256sum "$$file" | cut -d ' ' -f 1 > "$${file}_SHA256SUM"

# What a GitHub release of a Packer plugin holds, in dist/: a zip per
# platform holding the binary under the name packer init installs, and the
# zips' checksums. Plugins usually make this with goreleaser; the module
# proxy we build from serves no approved release of it, and its job here is
# the two commands below.
release:
	rm -rf $(DIST) && mkdir -p $(DIST)/bin
	for arch in $(RELEASE_ARCHES); do \
		name=$(MODERN)_v$(VERSION)_$(API_VERSION)_linux_$$arch; \
		GOARCH=$$arch $(GO) build -trimpath -ldflags "$(RELEASE_LDFLAGS)" -o $(DIST)/bin/$$name . && \
		(cd $(DIST)/bin && zip -q -X ../$$name.zip $$name) || exit 1; \
	done
	cd $(DIST) && sha256sum *.zip > $(MODERN)_v$(VERSION)_SHA256SUMS

# The Debian package: dist/packer-builder-nspawn_VERSION_ARCH.deb.
deb:
	mkdir -p $(DIST)/deb
	GOARCH=$(DEB_ARCH) $(GO) build -trimpath -ldflags "$(RELEASE_LDFLAGS)" -o $(DIST)/deb/$(PLUGIN) .
	sha256sum $(DIST)/deb/$(PLUGIN) | cut -d ' ' -f 1 > $(DIST)/deb/SHA256SUM
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@ARCH@|$(DEB_ARCH)|g' \
		-e 's|@BINARY@|$(DIST)/deb/$(PLUGIN)|g' -e 's|@CHECKSUM@|$(DIST)/deb/SHA256SUM|g' \
		-e 's|@PLUGIN_FILE@|$(MODERN)_v$(VERSION)_$(API_VERSION)_linux_$(DEB_ARCH)|g' \
		-e 's|@PLUGIN_SOURCE@|$(PLUGIN_SOURCE)|g' -e 's|@MAINTAINER@|$(MAINTAINER)|g' \
		packaging/nfpm.yaml > $(DIST)/deb/nfpm.yaml
	$(GO) run $(NFPM) package --config $(DIST)/deb/nfpm.yaml --packager deb \
		--target $(DIST)/$(PLUGIN)_$(VERSION)_$(DEB_ARCH).deb

clean:
	rm -rf $(PLUGIN) bin test/out $(DIST)
