#!/bin/sh
# The raw-tool side of the benchmarks: each operation done by hand with the
# tools the plugin drives, timed inside the throwaway host, so no nsenter
# or harness cost lands on this side. Prints "RESULT name seconds" lines.
# Usage: raw.sh OPERATION ARGS...; bench_test.go calls it.
set -eu

# The plugin's --include list for bookworm (basePackages in
# step_debootstrap.go, plus systemd-resolved).
INCLUDE=apt-utils,dbus,iputils-ping,netbase,procps,systemd-container,systemd-resolved
CACHE=/var/cache/apt/archives

now() { date +%s.%N; }
result() { echo "RESULT $1 $(echo "$3 $2" | awk '{printf "%.3f", $1 - $2}')"; }

# run NAME ARGV...: runs ARGV in the container, as provisioning does.
run() {
	name=$1
	shift
	systemd-run --machine="$name" --pipe --wait --quiet --collect -- "$@"
}

# upload_dir NAME DIR DEST: streams DIR's contents into DEST in the
# container as tar, in one command, as the plugin does.
upload_dir() {
	tar -C "$2" -cf - . |
		run "$1" /bin/sh -c 'mkdir -p -- "$1" && exec tar -x --no-same-owner -f - -C "$1"' sh "$3"
}

# start NAME: boots NAME with the settings file the plugin writes for
# network = "host" (the host cannot make veth links; README, Tests).
start() {
	mkdir -p /etc/systemd/nspawn
	printf '[Exec]\nResolvConf=replace-host\n[Network]\nVirtualEthernet=no\n' >"/etc/systemd/nspawn/$1.nspawn"
	machinectl start -- "$1"
}

# Polled as tightly as a shell can: no sleeps.
wait_reachable() { until run "$1" /bin/true 2>/dev/null; do :; done; }
wait_gone() { while machinectl show --property=Name -- "$1" >/dev/null 2>&1; do :; done; }

# calls NAME COUNT KIND: in the running container NAME, COUNT times what
# a shell provisioner of "true" makes systemd-run do (KIND shell: upload
# with the local file's mode, chmod, run, remove) or a single command
# "true" (KIND true: a Packer command is a shell line, for Packer as by
# hand).
calls() {
	script=/tmp/script.sh
	i=0
	while [ $i -lt "$2" ]; do
		if [ "$3" = shell ]; then
			printf '#!/bin/sh\ntrue\n' | run "$1" /bin/sh -c "cat > $script && chmod 0600 $script"
			run "$1" /bin/sh -c "chmod 0755 $script"
			run "$1" /bin/sh -c "chmod +x $script; $script"
			run "$1" /bin/sh -c "rm -f $script"
		else
			run "$1" /bin/sh -c true
		fi
		i=$((i + 1))
	done
}

op=$1
shift
case $op in
debootstrap) # DIR MIRROR [EXTRA ROW]: EXTRA packages added to the include list,
	# timed as ROW
	t0=$(now)
	debootstrap --variant=minbase --include=$INCLUDE${3:+,$3} --cache-dir=$CACHE bookworm "$1" "$2" >/dev/null
	result "${4:-debootstrap}" "$t0" "$(now)"
	rm -rf "$1"
	;;
debootstrap-arm64) # DIR MIRROR: the same for arm64, through qemu-user
	t0=$(now)
	debootstrap --arch=arm64 --variant=minbase --include=$INCLUDE --cache-dir=$CACHE bookworm "$1" "$2" >/dev/null
	result arm64 "$t0" "$(now)"
	rm -rf "$1"
	;;
mmdebstrap) # DIR MIRROR [EXTRA ROW]: the plugin's command line, cache hooks included,
	# but not its unsafe-io hook: mmdebstrap as a user would run it for the same image
	t0=$(now)
	NSPAWN_CACHE_DIR=$CACHE unshare --mount --propagation=private -- \
		mmdebstrap --mode=root --variant=minbase --include=$INCLUDE${3:+,$3} \
		--hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr \
		--skip=essential/unlink,cleanup/apt/lists \
		--setup-hook='mkdir -p "$1/var/cache/apt/archives" && mount --bind "$NSPAWN_CACHE_DIR" "$1/var/cache/apt/archives"' \
		--customize-hook='umount "$1/var/cache/apt/archives"' \
		bookworm "$1" "$2" >/dev/null 2>&1
	result "${4:-mmdebstrap}" "$t0" "$(now)"
	rm -rf "$1"
	;;
cycle) # SOURCE NAME: clone, start, the calls of one shell provisioner "true", poweroff
	t0=$(now)
	machinectl clone -- "$1" "$2"
	t1=$(now)
	start "$2"
	wait_reachable "$2"
	t2=$(now)
	calls "$2" 1 shell
	machinectl poweroff -- "$2"
	wait_gone "$2"
	t4=$(now)
	result cycle "$t0" "$t4"
	result clone "$t0" "$t1"
	result start "$t1" "$t2"
	machinectl remove -- "$2"
	;;
shutdown) # SOURCE NAME: poweroff of a clone that has finished booting
	machinectl clone -- "$1" "$2"
	start "$2"
	wait_reachable "$2"
	run "$2" /bin/sh -c "systemctl is-system-running --wait || true" >/dev/null
	t0=$(now)
	machinectl poweroff -- "$2"
	wait_gone "$2"
	result shutdown "$t0" "$(now)"
	machinectl remove -- "$2"
	;;
commands) # SOURCE NAME COUNT: COUNT shell provisioners' calls in a fresh clone
	machinectl clone -- "$1" "$2"
	start "$2"
	wait_reachable "$2"
	t0=$(now)
	calls "$2" "$3" shell
	result commands "$t0" "$(now)"
	machinectl poweroff -- "$2"
	wait_gone "$2"
	machinectl remove -- "$2"
	;;
files) # SOURCE NAME FILE DIR: stream DIR in as tar, FILE in through a cat
	# pipe and out again, into the container's /tmp (a tmpfs)
	machinectl clone -- "$1" "$2"
	start "$2"
	wait_reachable "$2"
	t0=$(now)
	upload_dir "$2" "$4" /tmp/bigdir
	result uploaddir "$t0" "$(now)"
	t0=$(now)
	run "$2" /bin/sh -c 'cat > /tmp/big' <"$3"
	t1=$(now)
	run "$2" /bin/cat /tmp/big >"$3.out"
	t2=$(now)
	result upload "$t0" "$t1"
	result download "$t1" "$t2"
	cmp -s "$3" "$3.out" || { echo "download differs" >&2; exit 1; }
	rm -f "$3.out"
	machinectl poweroff -- "$2"
	wait_gone "$2"
	machinectl remove -- "$2"
	;;
calls) # NAME COUNT KIND: the communicator benchmark's raw side, in turns with it
	t0=$(now)
	calls "$1" "$2" "$3"
	result "raw-$3" "$t0" "$(now)"
	;;
uploaddir) # NAME DIR DEST: the communicator benchmark's raw side, in turns with it
	t0=$(now)
	upload_dir "$1" "$2" "$3"
	result raw-uploaddir "$t0" "$(now)"
	;;
upload) # NAME FILE DEST: the communicator benchmark's raw side, in turns with it
	t0=$(now)
	run "$1" /bin/sh -c 'cat > "$1"' sh "$3" <"$2"
	result raw-upload "$t0" "$(now)"
	;;
download) # NAME SRC OUT: the communicator benchmark's raw side, in turns with it
	t0=$(now)
	run "$1" /bin/cat -- "$2" >"$3"
	result raw-download "$t0" "$(now)"
	;;
up) # SOURCE NAME: a running clone, for the communicator benchmark; untimed
	machinectl clone -- "$1" "$2"
	start "$2"
	wait_reachable "$2"
	;;
down) # NAME: untimed; asked over the bus, which an arm64 container obeys too
	# (machinectl poweroff's SIGRTMIN+4 reaches it as SIGRTMIN+2: emergency mode)
	systemctl --machine="$1" --no-block --job-mode=replace-irreversibly start poweroff.target
	wait_gone "$1"
	machinectl remove -- "$1"
	;;
import) # FILE NAME
	t0=$(now)
	zstd -dc -- "$1" | machinectl import-tar - "$2" >/dev/null 2>&1
	result import "$t0" "$(now)"
	machinectl remove -- "$2"
	;;
*)
	echo "raw.sh: unknown operation $op" >&2
	exit 2
	;;
esac
