//go:build e2e && bench

// Package bench times each plugin operation against the raw tools doing
// the same work, in one throwaway systemd host and one run, and writes the
// table to BENCHMARKS.md. The goals are read from the table, never
// asserted: a slow machine must not fail a test.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	e2e "packer-builder-nspawn/test"
)

// rounds is how often each operation runs on each side, an even number
// so that each side goes first as often as the other (the first run after
// another operation's clean-up can be the slower); BENCH_ROUNDS changes
// it for a quick look.
var rounds = envInt("BENCH_ROUNDS", 6)

// foreignRounds is how many rounds the arm64 base-build row runs in (the
// first ones): each of its builds takes about three native ones, under
// qemu-user. BENCH_FOREIGN_ROUNDS changes it.
var foreignRounds = envInt("BENCH_FOREIGN_ROUNDS", 2)

// only, from BENCH_ONLY (comma-separated operation names), runs a subset;
// BENCHMARKS.md is then left alone.
var only = os.Getenv("BENCH_ONLY")

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestMain(m *testing.M) { e2e.Main(m) }

// benchPackages are the packages row's extra packages.
var benchPackages = []string{"nginx-light", "curl"}

// commandCount is how many "true" provisioners the communicator row runs.
const commandCount = 100

func template() string {
	var cmds strings.Builder
	for i := 0; i < commandCount; i++ {
		cmds.WriteString("  provisioner \"shell\" { inline = [\"true\"] }\n")
	}
	return `
variable "mirror" { type = string }
source "nspawn" "b-deb" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}
source "nspawn" "b-mm" {
  network = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  bootstrapper = "mmdebstrap"
  timeout      = "90s"
}
source "nspawn" "b-pkgs" {
  network  = "host"
  suite    = "bookworm"
  variant  = "minbase"
  mirror   = var.mirror
  packages = ["` + strings.Join(benchPackages, `", "`) + `"]
  timeout  = "90s"
}
source "nspawn" "b-mm-pkgs" {
  network      = "host"
  suite        = "bookworm"
  variant      = "minbase"
  mirror       = var.mirror
  bootstrapper = "mmdebstrap"
  packages     = ["` + strings.Join(benchPackages, `", "`) + `"]
  timeout      = "90s"
}
source "nspawn" "b-pkgs-prov" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  timeout = "90s"
}
source "nspawn" "b-export" {
  clone   = "base"
  network = "host"
  export  = ["/tmp/b-export.tar.zst"]
}
source "nspawn" "b-export-repro" {
  clone        = "base"
  network      = "host"
  reproducible = true
  export       = ["/tmp/b-export-repro.tar.zst"]
}
source "nspawn" "b-arm64" {
  network = "host"
  suite   = "bookworm"
  variant = "minbase"
  mirror  = var.mirror
  arch    = "arm64"
  timeout = "90s"
}
source "nspawn" "b-cache" {
  network = "host"
  suite      = "bookworm"
  variant    = "minbase"
  mirror     = var.mirror
  cache_base = true
  timeout    = "90s"
}
source "nspawn" "b-cycle" {
  clone = "base"
  network = "host"
}
source "nspawn" "b-stop" {
  clone = "base"
  network = "host"
}
source "nspawn" "b-cmds" {
  clone = "base"
  network = "host"
}
source "nspawn" "b-files" {
  clone = "base"
  network = "host"
}
source "nspawn" "b-import" {
  import = "big.tar.zst"
  network = "host"
}
build {
  sources = ["source.nspawn.b-deb", "source.nspawn.b-mm", "source.nspawn.b-arm64", "source.nspawn.b-cache", "source.nspawn.b-import"]
}
build {
  sources = ["source.nspawn.b-pkgs", "source.nspawn.b-mm-pkgs", "source.nspawn.b-export", "source.nspawn.b-export-repro"]
}
build {
  sources = ["source.nspawn.b-pkgs-prov"]
  provisioner "shell" { inline = ["apt-get install -y -q ` + strings.Join(benchPackages, " ") + `"] }
}
build {
  sources = ["source.nspawn.b-cycle"]
  provisioner "shell" { inline = ["true"] }
}
build {
  sources = ["source.nspawn.b-stop"]
  # The shutdown row stops a container that has finished booting, as
  # raw.sh does: one stopped mid-boot takes a time of its own.
  provisioner "shell" { inline = ["systemctl is-system-running --wait || true"] }
}
build {
  sources = ["source.nspawn.b-cmds"]
` + cmds.String() + `}
build {
  sources = ["source.nspawn.b-files"]
  provisioner "file" {
    source      = "` + memDir + `/bigdir/"
    destination = "/tmp/bigdir"
  }
  provisioner "file" {
    source      = "` + memDir + `/big"
    destination = "/tmp/big"
  }
  provisioner "file" {
    source      = "/tmp/big"
    destination = "` + memDir + `/big.out"
    direction   = "download"
  }
}
`
}

// samples holds one operation's timings, in seconds, for both sides.
type samples struct {
	plugin, raw []float64
}

type bench struct {
	t       *testing.T
	h       *e2e.Host
	dir     string // the project, inside the host
	mirror  string
	results map[string]*samples
	peakRSS int64 // the plugin's largest resident set under packer, in KiB
	builds  int   // how many packer builds ran
	commRSS int64 // the communicator benchmark's, in KiB
}

func (b *bench) add(name string, plugin bool, seconds float64) {
	s := b.results[name]
	if s == nil {
		s = new(samples)
		b.results[name] = s
	}
	if plugin {
		s.plugin = append(s.plugin, seconds)
	} else {
		s.raw = append(s.raw, seconds)
	}
}

func TestBenchmarks(t *testing.T) {
	e2e.Scenario(t)
	// A host set up for foreign architectures too, for the arm64 rows.
	h := e2e.BootHostOf(t, e2e.Debian12Foreign)
	b := &bench{t: t, h: h, mirror: e2e.DebianMirror(), results: map[string]*samples{}}
	b.setUpExt4()
	h.BaseContainer()
	b.dir = h.Project("bench", map[string]string{"bench.pkr.hcl": template()})
	raw, err := os.ReadFile("raw.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Path(b.dir+"/raw.sh"), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	archiveMiB := b.makeInputs()
	b.setUpBtrfs()

	for round := 0; round < rounds; round++ {
		// Alternate which side goes first, so neither always gets the
		// warmer caches.
		pluginFirst := round%2 == 0
		for _, op := range b.operations() {
			if only != "" && !strings.Contains(","+only+",", ","+op.name+",") {
				continue
			}
			if op.name == "arm64" && round >= foreignRounds {
				continue
			}
			for pair := 0; pair < max(pairsPerRound[op.name], 1); pair++ {
				first, second := op.plugin, op.raw
				if pluginFirst == (pair%2 == 1) {
					first, second = op.raw, op.plugin
				}
				// Each side starts with no dirty pages of the one
				// before waiting to be written out under it.
				syscall.Sync()
				first()
				syscall.Sync()
				second()
			}
		}
		t.Logf("round %d of %d done", round+1, rounds)
	}
	if b.builds > 0 && b.peakRSS == 0 {
		t.Fatal("no plugin process was seen under packer: the resident-set row would be empty")
	}
	table := b.table(archiveMiB)
	fmt.Println(table)
	if only != "" || rounds < 3 {
		t.Log("a partial run: BENCHMARKS.md left as it was")
		return
	}
	if err := os.WriteFile("../BENCHMARKS.md", []byte(b.report(table)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// memDir holds the file rows' data in the host, in memory (its /tmp is a
// tmpfs, as nspawn gives every container, the nested ones too, where those
// rows write): the rows time the transfer, not this machine's disk, whose
// write speed swings widely from run to run.
const memDir = "/tmp/bench"

// smallDirs is how many directories of 1024 small files the small-files
// upload row moves.
const smallDirs = 20

// makeInputs writes the 512 MiB file for the upload and download rows, a
// tree of small files for the second directory upload row, and
// an archive of about 200 MiB (the base plus incompressible data) for the
// import row; it returns the archive's size in MiB.
func (b *bench) makeInputs() float64 {
	h := b.h
	h.Run("mkdir", "-p", memDir+"/bigdir")
	h.Run("sh", "-c", "head -c 512M /dev/urandom > "+memDir+"/big")
	h.Run("ln", memDir+"/big", memDir+"/bigdir/big")
	// A tree of many small files: smallDirs directories of 1024 files of
	// 4 KiB.
	for d := 0; d < smallDirs; d++ {
		sub := fmt.Sprintf("%s/smalldir/%02d", memDir, d)
		h.Run("mkdir", "-p", sub)
		h.Run("sh", "-c", "head -c 4M /dev/urandom | split -b 4K -a 3 - "+sub+"/f")
	}
	// The communicator benchmark: the plugin's own test binary.
	build := exec.Command("go", "test", "-c", "-tags", "bench", "-o", h.Path(b.dir+"/commbench"), "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.t.Fatalf("building the communicator benchmark: %v\n%s", err, out)
	}
	h.Run("machinectl", "clone", "base", "bigsrc")
	h.Run("sh", "-c", "head -c 150M /dev/urandom > /var/lib/machines/bigsrc/root/random")
	h.Run("sh", "-c", "machinectl export-tar --format=uncompressed bigsrc - | zstd -q -T0 -o "+b.dir+"/big.tar.zst")
	h.Run("machinectl", "remove", "bigsrc")
	info, err := os.Stat(h.Path(b.dir + "/big.tar.zst"))
	if err != nil {
		b.t.Fatal(err)
	}
	return float64(info.Size()) / (1 << 20)
}

// operation is one row's pair of runs.
type operation struct {
	name        string
	plugin, raw func()
}

// pairsPerRound is how many runs each side of a row makes per round (1
// if not listed), the side going first changing from one pair to the
// next: more samples for a short row whose single runs swing widely. An
// import ends with importd flushing what it wrote, which on this disk
// takes anywhere from a small part of the unpacking's time to more than
// all of it (perf, in a throwaway host).
var pairsPerRound = map[string]int{"import": 4}

func (b *bench) operations() []operation {
	return []operation{
		{"debootstrap", func() { // base builds, each removed afterwards
			b.add("debootstrap", true, b.build("b-deb").total)
			b.h.Run("machinectl", "remove", "b-deb")
		}, func() { b.rawOp("debootstrap", "/var/lib/machines/raw-deb", b.mirror) }},
		{"mmdebstrap", func() {
			b.add("mmdebstrap", true, b.build("b-mm").total)
			b.h.Run("machinectl", "remove", "b-mm")
		}, func() { b.rawOp("mmdebstrap", "/var/lib/machines/raw-mm", b.mirror) }},
		{"packages", func() { // a base with packages, against the base and a provisioner's apt-get
			b.add("packages", true, b.build("b-pkgs").total)
			b.h.Run("machinectl", "remove", "b-pkgs")
			b.add("packages-provisioned", false, b.build("b-pkgs-prov").total)
			b.h.Run("machinectl", "remove", "b-pkgs-prov")
		}, func() {
			b.rawOp("debootstrap", "/var/lib/machines/raw-pkgs", b.mirror, strings.Join(benchPackages, ","), "packages")
		}},
		{"mmdebstrap-packages", func() {
			b.add("mmdebstrap-packages", true, b.build("b-mm-pkgs").total)
			b.h.Run("machinectl", "remove", "b-mm-pkgs")
		}, func() {
			b.rawOp("mmdebstrap", "/var/lib/machines/raw-mm-pkgs", b.mirror, strings.Join(benchPackages, ","), "mmdebstrap-packages")
		}},
		{"export", func() { // the same container exported plainly and reproducibly, in turns
			r := b.build("b-export")
			b.add("export", false, r.between("Exporting b-export to", "Build 'nspawn.b-export' finished"))
			b.h.Run("machinectl", "remove", "b-export")
			b.h.Run("rm", "-f", "/tmp/b-export.tar.zst")
		}, func() {
			r := b.build("b-export-repro")
			b.add("export", true, r.between("Exporting b-export-repro to", "Build 'nspawn.b-export-repro' finished"))
			b.h.Run("machinectl", "remove", "b-export-repro")
			b.h.Run("rm", "-f", "/tmp/b-export-repro.tar.zst")
		}},
		{"arm64", func() { // the same under qemu-user, removed or kept for the communicator row
			b.add("arm64", true, b.build("b-arm64").total)
			b.keepArm64Base()
		}, func() { b.rawOp("debootstrap-arm64", "/var/lib/machines/raw-arm64", b.mirror) }},
		{"cache_base", func() {
			// The cache_base row: a build that fills the cache, then one
			// that clones from it.
			b.purgeBases()
			b.add("cache_base", false, b.build("b-cache").total)
			b.h.Run("machinectl", "remove", "b-cache")
			b.add("cache_base", true, b.build("b-cache").total)
			b.h.Run("machinectl", "remove", "b-cache")
		}, func() {}},
		{"cycle", func() {
			r := b.build("b-cycle")
			b.addCycle("", r)
			b.add("clone", true, r.between("Cloning base as b-cycle", "Starting container b-cycle"))
			b.add("start", true, r.between("Starting container b-cycle", "Container b-cycle is up."))
			b.h.Run("machinectl", "remove", "b-cycle")
		}, func() { b.rawOp("cycle", "base", "raw-cycle") }},
		{"cycle-btrfs", func() {
			b.onBtrfs(func() {
				b.addCycle("-btrfs", b.build("b-cycle"))
				b.h.Run("machinectl", "remove", "b-cycle")
			})
		}, func() { b.onBtrfs(func() { b.rawOpAs("-btrfs", "cycle", "base", "raw-cycle") }) }},
		{"shutdown", func() {
			r := b.build("b-stop")
			b.add("shutdown", true, r.between("Powering off container b-stop", "Container b-stop is off."))
			b.h.Run("machinectl", "remove", "b-stop")
		}, func() { b.rawOp("shutdown", "base", "raw-stop") }},
		{"commands", func() {
			r := b.build("b-cmds")
			b.add("commands", true, r.between("Provisioning with shell script", "Powering off container b-cmds"))
			b.h.Run("machinectl", "remove", "b-cmds")
		}, func() { b.rawOp("commands", "base", "raw-cmds", strconv.Itoa(commandCount)) }},
		{"communicator", func() {
			b.communicator("base", "NSPAWN_BENCH_FILE="+memDir+"/big", "NSPAWN_BENCH_DIR="+memDir+"/bigdir", "NSPAWN_BENCH_SMALLDIR="+memDir+"/smalldir")
		}, func() {}},
		{"communicator-arm64", func() {
			b.arm64Base()
			b.communicator(arm64Base, "NSPAWN_BENCH_COMMANDS_ONLY=1", "NSPAWN_BENCH_SUFFIX=-arm64")
		}, func() {}},
		{"files", func() {
			r := b.build("b-files")
			b.add("uploaddir", true, r.between("Uploading "+memDir+"/bigdir/ => /tmp/bigdir", "Uploading "+memDir+"/big => /tmp/big"))
			b.add("upload", true, r.between("Uploading "+memDir+"/big => /tmp/big", "Downloading /tmp/big"))
			b.add("download", true, r.between("Downloading /tmp/big", "Powering off container b-files"))
			b.h.Run("rm", "-f", memDir+"/big.out")
			b.h.Run("machinectl", "remove", "b-files")
		}, func() { b.rawOp("files", "base", "raw-files", memDir+"/big", memDir+"/bigdir") }},
		{"import", func() {
			r := b.build("b-import")
			b.add("import", true, r.between("Importing", "Starting container b-import"))
			b.h.Run("machinectl", "remove", "b-import")
		}, func() { b.rawOp("import", b.dir+"/big.tar.zst", "raw-import") }},
	}
}

// addCycle records a clone cycle twice: the plugin's steps, from the
// clone to the build's end, and the whole packer build, Packer's own
// start included.
func (b *bench) addCycle(suffix string, r timedRun) {
	b.add("cycle"+suffix, true, r.between("Cloning base as b-cycle", "Build 'nspawn.b-cycle' finished"))
	b.add("cycle-build"+suffix, true, r.total)
}

// arm64Base is the arm64 container the arm64 communicator row clones.
const arm64Base = "base-arm64"

// keepArm64Base keeps the first arm64 build as arm64Base and removes the
// later ones.
func (b *bench) keepArm64Base() {
	if b.h.Cmd(context.Background(), "machinectl", "show-image", arm64Base).Run() == nil {
		b.h.Run("machinectl", "remove", "b-arm64")
		return
	}
	b.h.Run("machinectl", "rename", "b-arm64", arm64Base)
}

// arm64Base makes arm64Base, untimed, if no arm64 build has run yet
// (BENCH_ONLY without arm64).
func (b *bench) arm64Base() {
	if b.h.Cmd(context.Background(), "machinectl", "show-image", arm64Base).Run() == nil {
		return
	}
	b.build("b-arm64")
	b.keepArm64Base()
}

// communicator runs the communicator alone, with no Packer in between,
// against a running clone of source, with env telling it what to move.
func (b *bench) communicator(source string, env ...string) {
	b.h.Run("sh", b.dir+"/raw.sh", "up", source, "b-comm")
	argv := append([]string{"env", "NSPAWN_BENCH_MACHINE=b-comm", "NSPAWN_BENCH_RAW=" + b.dir + "/raw.sh", "NSPAWN_BENCH_COUNT=" + strconv.Itoa(commandCount)}, env...)
	out := b.h.Run(append(argv, b.dir+"/commbench", "-test.run=^TestCommunicatorBench$")...)
	b.h.Run("sh", b.dir+"/raw.sh", "down", "b-comm")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "RESULT" {
			continue
		}
		value, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			b.t.Fatalf("communicator benchmark: %q: %v", line, err)
		}
		b.t.Logf("communicator: %s %s", f[1], f[2])
		switch rawName, isRaw := strings.CutPrefix(f[1], "raw-"); {
		case f[1] == "comm-rss-kib":
			b.commRSS = max(b.commRSS, int64(value))
		case isRaw:
			b.add(rawName, false, value)
		default:
			b.add(f[1], true, value)
		}
	}
	if b.commRSS == 0 && source == "base" {
		b.t.Fatalf("the communicator benchmark reported nothing:\n%s", out)
	}
}

// purgeBases removes every cached base, as the README says to.
func (b *bench) purgeBases() {
	for _, line := range strings.Split(b.h.Run("machinectl", "list-images", "--all", "--no-legend"), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], ".nspawn-base-") {
			b.h.Run("machinectl", "remove", f[0])
		}
	}
}

// rawOp runs raw.sh in the host and records the times it reports.
func (b *bench) rawOp(op string, args ...string) { b.rawOpAs("", op, args...) }

// rawOpAs is rawOp recording each time under its name plus suffix.
func (b *bench) rawOpAs(suffix, op string, args ...string) {
	out := b.h.Run(append([]string{"sh", b.dir + "/raw.sh", op}, args...)...)
	found := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "RESULT" {
			seconds, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				b.t.Fatalf("raw.sh %s: %q: %v", op, line, err)
			}
			b.add(f[1]+suffix, false, seconds)
			// Each run's figures, to read beside the plugin's timelines.
			b.t.Logf("raw.sh %s: %s%s %s", op, f[1], suffix, f[2])
			found = true
		}
	}
	if !found {
		b.t.Fatalf("raw.sh %s reported nothing:\n%s", op, out)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// timedRun is one packer build with the time each output line arrived.
type timedRun struct {
	t     *testing.T
	lines []timedLine
	total float64
}

type timedLine struct {
	at   time.Time
	text string
}

// between is the time from the first line containing from to the first
// later line containing to.
func (r timedRun) between(from, to string) float64 {
	r.t.Helper()
	for i, l := range r.lines {
		if !strings.Contains(l.text, from) {
			continue
		}
		for _, m := range r.lines[i+1:] {
			if strings.Contains(m.text, to) {
				return m.at.Sub(l.at).Seconds()
			}
		}
	}
	r.t.Fatalf("packer output has no %q followed by %q", from, to)
	return 0
}

// build runs packer build for one source, timing it and each output line,
// and keeps the largest resident set any plugin process reached.
func (b *bench) build(source string) timedRun {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := b.h.CmdIn(ctx, b.dir, "packer", "build", "-var", "mirror="+b.mirror, "-only=nspawn."+source, ".")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	run := timedRun{t: b.t}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.builds++
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); b.watchRSS(cmd.Process.Pid, stop) }()
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		run.lines = append(run.lines, timedLine{time.Now(), ansi.ReplaceAllString(scanner.Text(), "")})
	}
	err = cmd.Wait()
	run.total = time.Since(start).Seconds()
	b.logTimeline(source, start, run.lines)
	close(stop)
	wg.Wait()
	if err != nil {
		var text []string
		for _, l := range run.lines {
			text = append(text, l.text)
		}
		if len(text) > 40 {
			text = text[len(text)-40:]
		}
		b.t.Fatalf("packer build -only=nspawn.%s: %v\n%s", source, err, strings.Join(text, "\n"))
	}
	return run
}

// logTimeline keeps each build's output, every line stamped with the
// seconds since packer started, in the test log: where the time goes.
func (b *bench) logTimeline(source string, start time.Time, lines []timedLine) {
	f, err := os.OpenFile(filepath.Join("out", "timelines.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "== packer build -only=nspawn.%s\n", source)
	for _, l := range lines {
		fmt.Fprintf(f, "%8.3f %s\n", l.at.Sub(start).Seconds(), l.text)
	}
}

// rssInterval paces watchRSS.
const rssInterval = 100 * time.Millisecond

// pluginComm is the plugin's name as /proc/PID/comm holds it: 15 bytes.
const pluginComm = "packer-builder-"

// watchRSS samples the peak resident set (VmHWM) of the plugin processes
// under root, packer's process, until stop closes. It reads only that
// small tree: scanning all of /proc as often took enough CPU to slow the
// plugin side's builds, the very thing measured. The kernel keeps
// the peak, so sampling misses only a process's last moments.
func (b *bench) watchRSS(root int, stop chan struct{}) {
	for {
		for _, pid := range pluginProcesses(root, 6) {
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(status), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
					if kib, err := strconv.ParseInt(f[1], 10, 64); err == nil && kib > b.peakRSS {
						b.peakRSS = kib
					}
				}
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(rssInterval):
		}
	}
}

// pluginProcesses lists the plugin processes among pid's descendants, at
// most depth levels down, not looking below a plugin (its tools).
func pluginProcesses(pid, depth int) []int {
	if depth == 0 {
		return nil
	}
	var found []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, field := range strings.Fields(string(b)) {
			child, err := strconv.Atoi(field)
			if err != nil {
				continue
			}
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child)); strings.TrimSpace(string(comm)) == pluginComm {
				found = append(found, child)
				continue
			}
			found = append(found, pluginProcesses(child, depth-1)...)
		}
	}
	return found
}
