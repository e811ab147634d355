# deploy/debian-setup.sh - sourced by ./run and tests/run: install the Debian
# packages berth needs, start dockerd when none answers, build berth.
# Functions only; nothing runs on source.

BERTH_PKGS=(build-essential autoconf automake libtool pkg-config libfcgi-dev libcurl4-openssl-dev
	libjson-c-dev libconfig-dev libarchive-dev libevent-dev libssl-dev libyaml-dev nginx-light docker.io busybox-static curl
	openssl)

# berth_install_packages [EXTRA...]: installs what is missing (needs root).
berth_install_packages() {
	local want=() p
	for p in "${BERTH_PKGS[@]}" "$@"; do
		[ "$p" = nginx-light ] && command -v nginx >/dev/null && continue
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
	done
	[ ${#want[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages (run as root to install them): ${want[*]}" >&2
		return 1
	fi
	echo "== installing ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq "${want[@]}" >/dev/null
}

berth_docker_up() {
	curl -s --max-time 2 --unix-socket /var/run/docker.sock http://d/_ping 2>/dev/null | grep -q OK
}

# berth_start_dockerd: starts dockerd in the background when nothing answers.
berth_start_dockerd() {
	berth_docker_up && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "dockerd is not answering on /var/run/docker.sock and only root can start it" >&2
		return 1
	fi
	echo "== starting dockerd (log: /var/log/dockerd.log)"
	if command -v systemctl >/dev/null && systemctl start docker 2>/dev/null; then
		:
	else
		(setsid dockerd >/var/log/dockerd.log 2>&1 &)
	fi
	for _ in $(seq 1 100); do berth_docker_up && return 0; sleep 0.3; done
	echo "dockerd did not start; see /var/log/dockerd.log" >&2
	return 1
}

# berth_needs_autoreconf SRC: no configure yet, or one older than its sources.
# Later edits of configure.ac or Makefile.am are make's business: automake's
# rebuild rules rerun what is needed from inside a configured build.
berth_needs_autoreconf() {
	local src=$1
	[ ! -x "$src/configure" ] || [ ! -f "$src/Makefile.in" ] ||
		[ "$src/configure.ac" -nt "$src/configure" ] || [ "$src/Makefile.am" -nt "$src/Makefile.in" ]
}

# berth_build SRC BUILD [CONFIGURE-ARGS...]: autotools build out of tree,
# doing only what changed: autoreconf and configure run once, then make.
berth_build() {
	local src=$1 build=$2; shift 2
	if berth_needs_autoreconf "$src"; then
		(cd "$src" && autoreconf -fi >"$build.autoreconf.log" 2>&1) || { cat "$build.autoreconf.log" >&2; return 1; }
	fi
	mkdir -p "$build"
	(cd "$build" && { [ -f Makefile ] || "$src/configure" -q "$@"; } && make -j2 >"$build.make.log" 2>&1) ||
		{ tail -40 "$build.make.log" >&2; return 1; }
}
