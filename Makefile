# packer-builder-nspawn. `sudo make base` builds the example base container;
# `sudo make test` runs every test. See README.md.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
HOST_PKGS   := packer debootstrap mmdebstrap systemd-container zstd e2fsprogs
PLUGIN      := packer-builder-nspawn
# Debian's packer 1.6.6 loads packer-builder-*, Packer >= 1.7 packer-plugin-*;
# one binary under both names serves both.
MODERN      := packer-plugin-nspawn
PLUGIN_DIR  ?= $(HOME)/.packer.d/plugins
VERSION     ?= 0.1.0-dev+$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
export CGO_ENABLED ?= 0

.PHONY: all build generate check-generate deps base lint unit fuzz e2e soak bench test install clean

all: build

build: $(PLUGIN)

$(PLUGIN): go.mod go.sum codecshim/go.mod $(wildcard *.go codecshim/*.go)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $@ .

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
base: deps build
	packer build -force -only='*.base' .

# The end-to-end, soak and benchmark code is linted too.
LINT_TAGS := e2e soak bench
lint:
	test -z "$$(gofmt -l . | tee /dev/stderr)"
	$(GO) vet -tags '$(LINT_TAGS)' ./...
	$(GO) run $(STATICCHECK) -tags '$(LINT_TAGS)' ./...

unit:
	$(GO) test -count=1 ./...
	cd tools && $(GO) test -count=1 ./optionsdoc

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

# Scenarios at once, each in hosts of its own; with 2 cores, three keep
# both busy while others wait on downloads and boots.
E2E_PARALLEL ?= 3
e2e: build
	$(GO) test -tags e2e -v -count=1 -parallel $(E2E_PARALLEL) -timeout 80m ./test/

# Repeats a four-source parallel build 20 times, checking for leaks.
soak: build
	$(GO) test -tags 'e2e soak' -v -count=1 -timeout 30m -run 'TestSoak' ./test/

# Times each plugin operation against the raw tools doing the same work, in
# a throwaway host, and writes the table to BENCHMARKS.md. btrfs-progs
# formats the btrfs its clone row on btrfs runs on.
bench: deps build
	$(MAKE) deps HOST_PKGS=btrfs-progs
	$(GO) test -tags 'e2e bench' -v -count=1 -timeout 80m ./bench/

test: deps lint check-generate unit fuzz e2e

# Puts the plugin where both packer lines look: ~/.packer.d/plugins.
install: build
	install -d $(DESTDIR)$(PLUGIN_DIR)
	install -m 0755 $(PLUGIN) $(DESTDIR)$(PLUGIN_DIR)/$(MODERN)
	ln -sf $(MODERN) $(DESTDIR)$(PLUGIN_DIR)/$(PLUGIN)

clean:
	rm -rf $(PLUGIN) bin test/out
