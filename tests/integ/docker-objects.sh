#!/bin/bash
# The Docker door's volumes, networks, images, builds and events, driven by
# Debian's docker CLI 20.10 (docker_as) through real nginx -> berth-fcgi ->
# dockerd: two operators side by side use the same names at once and never
# see, use or remove each other's; a volume with bind driver options, a
# macvlan network and a build on the host network are refused naming the
# reason; docker events shows only the caller's own objects.
. "$(dirname "$0")/../lib.sh"

groups <<'EOF'
# name      tags
volumes     objects    # create, ls (filters), inspect, rm, prune; bob's own "data"
networks    objects    # create, ls, inspect, connect-free rm; macvlan, subnets, options refused
images      build      # build FROM scratch (classic builder), images, tag, rmi, history; pulls
refusals               # raw requests: bodies and parameters refused by name
events                 # docker events --since --until: the caller's own only
EOF

INST="t-dkobj-$$"
cat >"$T/berth.conf" <<CONF
users = { root = "admin"; alice = "operator"; bob = "operator"; };
policy = {
  operator = { images = [ "berth-test/*" ]; volumes = true; memory = "64m"; memory_max = "256m";
               networks = [ "bridge" ]; quota = { volumes = 6; networks = 6; }; };
  admin = { images = [ "*" ]; volumes = true; };
};
CONF
{ htpasswd_line root r; htpasswd_line alice a; htpasswd_line bob b; } >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" --docker-port 0 || exit 1
T0=$(date +%s)

A() { docker_as alice a -- "$@"; }
B() { docker_as bob b -- "$@"; }
R() { docker_as root r -- "$@"; }
# refused NAME PATTERN CMD...: CMD fails and says PATTERN (grep -E).
refused() {
	local name=$1 pat=$2 out; shift 2
	if out=$("$@" 2>&1); then
		not_ok "$name (it succeeded: $(printf '%.200s' "$out"))"
	elif printf '%s' "$out" | grep -Eq "$pat"; then
		ok "$name"
	else
		not_ok "$name (said: $(printf '%.300s' "$out"))"
	fi
}
# says NAME PATTERN CMD...: CMD succeeds and its output matches PATTERN.
says() {
	local name=$1 pat=$2 out; shift 2
	if ! out=$("$@" 2>&1); then
		not_ok "$name (failed: $(printf '%.300s' "$out"))"
	elif printf '%s' "$out" | grep -Eq "$pat"; then
		ok "$name"
	else
		not_ok "$name (said: $(printf '%.300s' "$out"))"
	fi
}
lacks() { # lacks NAME PATTERN CMD...: CMD succeeds and its output does not match PATTERN.
	local name=$1 pat=$2 out; shift 2
	if out=$("$@" 2>&1) && ! printf '%s' "$out" | grep -Eq "$pat"; then
		ok "$name"
	else
		not_ok "$name (said: $(printf '%.300s' "$out"))"
	fi
}

# --- volumes ------------------------------------------------------------------
if group volumes; then
	says "alice creates volume data" '^data$' A volume create --label app=web data
	says "bob creates his own data at once" '^data$' B volume create data
	check "two volumes in dockerd, each namespaced" test "$(docker volume ls -q --filter "label=berth.instance=$INST" --filter label=berth.name=data | grep -vc '^data$')" = 2
	says "alice's list shows data by its berth name" 'local +data$' A volume ls
	says "ls -f label=app=web finds hers" 'data' A volume ls -q -f label=app=web
	lacks "bob's -f label=app=web finds nothing of hers" 'data' B volume ls -q -f label=app=web
	says "-f dangling=true lists unused data" '^data$' A volume ls -q -f dangling=true
	says "-f name=dat matches by part" '^data$' A volume ls -q -f name=dat
	says "inspect: berth name, user labels only, no host path" '^data map\[app:web\] $' \
		A volume inspect -f '{{.Name}} {{.Labels}} {{.Mountpoint}}' data
	refused "bind driver options refused naming the reason" 'DriverOpts.*bind mount of a host path' \
		A volume create -o type=none -o o=bind -o device=/etc etcvol
	check "nothing made for it" test -z "$(docker volume ls -q --filter "label=berth.instance=$INST" --filter label=berth.name=etcvol)"
	refused "another driver refused" 'only the local driver' A volume create -d nfsdrv v2
	refused "berth.* labels reserved" 'berth\. are reserved' A volume create --label berth.owner=bob v3
	refused "alice's volume by its Docker name is no volume of bob's" 'No such volume|no such volume' \
		B volume inspect "$(docker volume ls -q --filter "label=berth.instance=$INST" --filter label=berth.owner=alice --filter label=berth.name=data)"
	says "bob removes his data" '^data$' B volume rm data
	says "alice's data is still there" '^data$' A volume inspect -f '{{.Name}}' data
	says "prune takes alice's unused data" 'data' A volume prune -f
	lacks "and none is left" 'data' A volume ls -q
fi

# --- networks -----------------------------------------------------------------
if group networks; then
	says "alice creates network back" '^[0-9a-f]{64}$' A network create back
	says "bob creates his own back at once" '^[0-9a-f]{64}$' B network create back
	check "two networks in dockerd" test "$(docker network ls -q --filter "label=berth.instance=$INST" --filter label=berth.name=back | wc -l)" = 2
	says "alice lists back and the shared bridge" 'back' A network ls --format '{{.Name}}'
	says "the shared bridge is listed" '^bridge$' A network ls --format '{{.Name}}' -f name=bridge
	says "inspect: berth name, bridge driver, a subnet" '^back bridge [0-9.]+/[0-9]+$' \
		A network inspect -f '{{.Name}} {{.Driver}} {{(index .IPAM.Config 0).Subnet}}' back
	lacks "the bridge's inspect names no one's containers" '[0-9a-f]{12}' \
		A network inspect -f '{{range $k, $v := .Containers}}{{$k}}{{end}}' bridge
	refused "macvlan refused naming the reason" "macvlan is refused.*host's network interfaces" \
		A network create -d macvlan mv
	refused "a chosen subnet refused" "network pool" A network create --subnet 10.99.0.0/24 sub
	refused "a bridge option refused" 'bridge.name is refused' \
		A network create -o com.docker.network.bridge.name=eth9 opt
	refused "IPv6 refused" 'EnableIPv6' A network create --ipv6 v6
	refused "Docker's own names refused" "Docker's own network" A network create host
	refused "bob cannot remove alice's back by its id" 'No such network|no such network' \
		B network rm "$(docker network ls -q --no-trunc --filter "label=berth.instance=$INST" --filter label=berth.owner=alice --filter label=berth.name=back)"
	says "bob removes his back" '^back$' B network rm back
	says "alice's back is still there" '^back$' A network inspect -f '{{.Name}}' back
	says "alice removes hers" '^back$' A network rm back
fi

# --- images and builds --------------------------------------------------------
CTX=$T/ctx
mkdir -p "$CTX"
cp /bin/busybox "$CTX/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "true"]\n' >"$CTX/Dockerfile"
if group images; then
	says "images lists the allow-list's test image" 'berth-test/busybox +1 ' A images
	says "alice builds facade/bb:1 (classic builder, NDJSON progress)" 'Successfully tagged facade/bb:1$' \
		A build -t facade/bb:1 "$CTX"
	echo 'LABEL who=bob' >>"$CTX/Dockerfile"
	says "bob builds his own facade/bb:1 at once" 'Successfully tagged facade/bb:1$' \
		B build -t facade/bb:1 "$CTX"
	AID=$(A image inspect -f '{{.Id}}' facade/bb:1) BID=$(B image inspect -f '{{.Id}}' facade/bb:1)
	check "the two tags name two images" test -n "$AID" -a -n "$BID" -a "$AID" != "$BID"
	check "dockerd holds neither as a bare facade/bb:1" test -z "$(docker images -q facade/bb:1)"
	says "alice's images show hers without the namespace" '^facade/bb:1$' \
		A images --format '{{.Repository}}:{{.Tag}}' facade/bb
	lacks "no one's namespace shows to alice" 'berth\.' A images --format '{{.Repository}}'
	says "inspect shows her tag and no berth labels" '^\[facade/bb:1\] map\[\]$' \
		A image inspect -f '{{.RepoTags}} {{.Config.Labels}}' facade/bb:1
	says "history lists its layers" 'COPY file:.* in /bin/busybox' A image history --no-trunc facade/bb:1
	check "alice tags it myapp:1" A tag facade/bb:1 myapp:1
	says "tagged in her namespace: hers to see" '^myapp:1$' A images --format '{{.Repository}}:{{.Tag}}' myapp
	lacks "bob sees no myapp" 'myapp' B images --format '{{.Repository}}'
	refused "bob cannot inspect alice's by her Docker tag" 'No such image' \
		B image inspect "$(docker images --format '{{.Repository}}:{{.Tag}}' | grep '/myapp:1$' | head -1)"
	refused "bob cannot remove the shared test image" 'shared, not yours' B rmi berth-test/busybox:1
	refused "bob cannot remove alice's image by id" "No such image|not yours" B rmi "$AID"
	says "alice runs the image she built, by her own tag" '^own image$' \
		A run --rm facade/bb:1 /bin/busybox echo own image
	# What a Dockerfile makes dockerd fetch is checked before the build starts.
	BOBS=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^berth\..*/facade/bb:1$' | while read -r t; do
		[ "$(docker image inspect -f '{{.Id}}' "$t")" = "$BID" ] && echo "$t"; done | head -1)
	mkdir -p "$T/ctx2"
	# df_refused NAME PATTERN DOCKERFILE [BUILD OPTIONS...]: alice's build of it refused.
	df_refused() {
		printf "$3" >"$T/ctx2/Dockerfile"
		refused "$1" "$2" A build "${@:4}" -t x:1 "$T/ctx2"
	}
	df_refused "FROM another tenant's tag: No such image, naming the line" \
		'Dockerfile line 1: FROM .*No such image' "FROM $BOBS\n"
	df_refused "COPY --from another tenant's tag: No such image" \
		'line 2: COPY --from .*No such image' "FROM berth-test/busybox:1\nCOPY --from=$BOBS /bin/busybox /b\n"
	df_refused "a build argument naming another tenant's tag: No such image" 'No such image' \
		'ARG BASE=berth-test/busybox:1\nFROM $BASE\n' --build-arg "BASE=$BOBS"
	df_refused "FROM outside the allow-list is refused" \
		"FROM alpine:3 is not in the operator role's allow-list" 'FROM alpine:3\n'
	df_refused "ADD from a URL is refused (dockerd would fetch it from the host)" 'ADD from a URL' \
		'FROM berth-test/busybox:1\nADD http://127.0.0.1:1/x /x\n'
	df_refused "FROM her own tag through a variable: refused, saying why" 'written out' \
		'ARG B=facade/bb:1\nFROM $B\n'
	printf 'FROM facade/bb:1\nLABEL layer=two\n' >"$T/ctx2/Dockerfile"
	says "FROM her own tag builds (the Dockerfile names it as dockerd knows it)" \
		'Successfully tagged onmine:1$' A build -t onmine:1 "$T/ctx2"
	says "... and runs" '^on her own$' A run --rm onmine:1 /bin/busybox echo on her own
	printf 'FROM scratch AS files\nCOPY busybox /bin/busybox\nFROM berth-test/busybox:1\nCOPY --from=files /bin/busybox /bin/bb2\n' >"$CTX/Dockerfile.stages"
	says "a multi-stage build from stages and the allow-list builds" 'Successfully tagged staged:1$' \
		A build -f "$CTX/Dockerfile.stages" -t staged:1 "$CTX"
	refused "a build on the host network is refused naming the reason" 'network mode host is refused' \
		A build --network host -t x:1 "$CTX"
	refused "a cgroup parent is refused" 'cgroupparent is refused' A build --cgroup-parent /x -t x:1 "$CTX"
	refused "a pull outside the allow-list is refused" "not in the operator role's allow-list" A pull alpine:3
	refused "an allowed pull reaches dockerd, which answers its error" 'dockerd: .*registry|dockerd: ' \
		A pull berth-test/busybox:9
	says "alice removes her tags" 'Untagged: myapp:1' A rmi myapp:1 facade/bb:1 staged:1
	says "bob removes his" 'Untagged: facade/bb:1' B rmi facade/bb:1
	check "what she keeps (onmine:1) is all this instance holds" test "$(docker images --filter "label=berth.instance=$INST" -q | sort -u | wc -l)" = 1
fi

# --- raw requests refused by name ---------------------------------------------
D=$DOCKER_URL/v1.41
cases refusals <<'EOF'
# name                                   | who     | method | url | body | status | assertions...
unknown volume field refused by name     | alice:a | POST | $D/volumes/create | {"Name":"x","Foo":1} | 400 | body ~ Foo
unknown list filter: dockerd's words     | alice:a | GET  | $D/volumes?filters=%7B%22until%22%3A%5B%221%22%5D%7D | - | 400 | body ~ invalid filter 'until'
overlay refused with the reason          | alice:a | POST | $D/networks/create | {"Name":"o","Driver":"overlay"} | 403 | body ~ Swarm
connect: fixed addresses refused         | alice:a | POST | $D/networks/bridge/connect | {"Container":"x","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.0.0.9"}}} | 403 | body ~ only Aliases
fromSrc import refused                   | alice:a | POST | $D/images/create?fromSrc=http://x/y.tar | - | 403 | body ~ fromSrc
remote build context refused             | alice:a | POST | $D/build?remote=http://x/ctx.tar | - | 403 | body ~ remote
BuildKit build refused                   | alice:a | POST | $D/build?version=2 | - | 403 | body ~ DOCKER_BUILDKIT=0
a namespaced reference is no image       | alice:a | GET  | $D/images/berth.bob.0123abcd/x:1/json | - | 404 | body ~ No such image
a build with no context                  | alice:a | POST | $D/build?t=x | - | 400 | body ~ context
a viewer of nothing cannot build         | anonymous | POST | $D/build | - | 401
EOF

# --- events -------------------------------------------------------------------
if group events; then
	S=$(date +%s)
	A volume create evvol >/dev/null && B volume create bobvol >/dev/null &&
		A network create evnet >/dev/null && A volume rm evvol >/dev/null &&
		B volume rm bobvol >/dev/null && A network rm evnet >/dev/null
	sleep 1
	U=$(($(date +%s) + 1))
	EVA=$(A events --since "$S" --until "$U" --format '{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "name"}}' 2>&1)
	check "alice's events: her volume's create and destroy by its berth name" \
		test "$(printf '%s\n' "$EVA" | grep -c '^volume \(create\|destroy\) evvol')" = 2
	check "her network's, by its berth name" test "$(printf '%s\n' "$EVA" | grep -c '^network \(create\|destroy\) .* evnet$')" = 2
	check "none of bob's" test "$(printf '%s\n' "$EVA" | grep -c bobvol)" = 0
	check "no namespaced names" test "$(printf '%s\n' "$EVA" | grep -c '\.alice\.\|\.bob\.')" = 0
	check "four events in all" test "$(printf '%s\n' "$EVA" | grep -c .)" = 4
	EVB=$(B events --since "$S" --until "$U" --filter type=volume --filter event=destroy --format '{{.Type}} {{.Action}} {{.Actor.ID}}' 2>&1)
	check "bob's, filtered by type and event: his volume's destroy alone" test "$EVB" = "volume destroy bobvol"
fi

stop_berth "$PID_main"
check "berth-up's exit removed the images its door built" test -z "$(docker images --filter "label=berth.instance=$INST" -q)"
check "alice and bob left no volume or network behind" test -z "$(docker volume ls -q --filter "label=berth.instance=$INST" --filter label=berth.owner=alice)$(docker network ls -q --filter "label=berth.instance=$INST" --filter label=berth.name=back)"
finish
