#!/bin/bash
# Production deployment: what an admin installs is what is tested here.
#  1. man pages render cleanly; the example config loads; the systemd units
#     pass `systemd-analyze verify`; `make install DESTDIR=` lays files out
#     where Debian keeps them and rewrites paths for other prefixes.
#  2. The shipped nginx site (nginx/berth-site.conf and its includes), with
#     only paths and ports templated, under `nginx -t` for each auth variant,
#     then end to end against our own berth-fcgi and the real dockerd:
#     basic auth, client certificates (CA, server and client certificates
#     made here with openssl) and auth_request to a stand-in provider.
#  3. Opt-in (BERTH_TEST_IMAGE=1, a few minutes): the container image, built
#     on a Debian base made with debootstrap + docker import.
. "$(dirname "$0")/../lib.sh"
. "$SRC_DIR/deploy/debian-setup.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
berth_install_packages groff-base systemd openssl >/dev/null || not_ok "test tools install"

FCGI_PID="" NGINX_PID="" CONTAINER=""
stop_all() {
	[ -n "$NGINX_PID" ] && { kill -QUIT "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; }
	NGINX_PID=""
	[ -n "$FCGI_PID" ] && { kill -TERM "$FCGI_PID" 2>/dev/null; wait "$FCGI_PID" 2>/dev/null; }
	# What the relay cases made (their owner's default network): berth-up would remove it.
	[ -n "$FCGI_PID" ] && "$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" \
		--instance "deploy-$$" --allow-root cleanup >/dev/null 2>&1
	FCGI_PID=""
	[ -n "$CONTAINER" ] && docker rm -f "$CONTAINER" >/dev/null 2>&1
	CONTAINER=""
}
trap stop_all EXIT

# ---------------------------------------------------------------- 1. static
for m in "$SRC_DIR"/man/*.[0-9]; do
	w=$(groff -man -Tutf8 -ww "$m" 2>&1 >/dev/null)
	[ -z "$w" ] && ok "man page $(basename "$m") renders without warnings" ||
		not_ok "man page $(basename "$m"): $w"
done

out=$("$BERTH_FCGI" --config "$SRC_DIR/deploy/berth.conf.example" --state-dir "$T/ex-state" check-config 2>&1)
check "berth.conf.example loads ($out)" grep -q ': ok$' <<<"$out"

# systemd-analyze checks that ExecStart= exists and that Documentation= man
# pages resolve, so point both at this build; nothing else is changed.
mkdir -p "$T/units" "$T/man/man1" "$T/man/man5" "$T/man/man8"
for m in "$SRC_DIR"/man/*.[0-9]; do cp "$m" "$T/man/man${m##*.}/"; done
for u in "$SRC_DIR"/deploy/systemd/berth*.{socket,service,timer}; do
	sed "s|/usr/bin/berth-fcgi|$BERTH_FCGI|g" "$u" >"$T/units/$(basename "$u")"
done
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$T/units" && MANPATH="$T/man" systemd-analyze verify ./berth.socket ./berth.service \
		./berth-maintenance.service ./berth-maintenance.timer 2>&1)
	rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && ok "systemd-analyze verify: all units clean" ||
		not_ok "systemd-analyze verify (rc $rc): $out"
else
	not_ok "systemd-analyze missing"
fi
u="$SRC_DIR/deploy/systemd/berth.service"
for want in 'StandardInput=socket' 'User=berth' 'SupplementaryGroups=docker' 'StateDirectory=berth' \
	'ConfigurationDirectory=berth' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
	'PrivateTmp=yes' 'RestrictAddressFamilies=AF_UNIX' 'SystemCallFilter=@system-service' \
	'CapabilityBoundingSet=$'; do
	grep -q "^$want" "$u" || not_ok "berth.service lacks $want"
done
grep -q '^SocketGroup=www-data' "$SRC_DIR/deploy/systemd/berth.socket" &&
	grep -q '^SocketMode=0660' "$SRC_DIR/deploy/systemd/berth.socket" &&
	ok "berth.service hardening and socket 0660 www-data present" || not_ok "berth.socket mode/group"

# make install, Debian layout: files where Debian keeps them, and the nginx
# site and units byte for byte the ones tested here.
if make -C "$BUILD_DIR" install DESTDIR="$T/inst" prefix=/usr sysconfdir=/etc >"$T/install.log" 2>&1; then
	missing=""
	for f in usr/bin/berth-fcgi usr/bin/berth-up usr/share/man/man8/berth-fcgi.8 \
		usr/share/man/man1/berth-up.1 usr/share/man/man5/berth.conf.5 \
		usr/share/berth/nginx/berth-site.conf usr/share/berth/nginx/berth-fastcgi.conf \
		usr/share/berth/nginx/berth-auth-mtls.conf usr/share/berth/nginx/berth-up.conf.in \
		usr/share/berth/nginx/berth-docker.conf.in usr/share/berth/nginx/berth-docker-site.conf \
		usr/lib/systemd/system/berth.socket usr/lib/systemd/system/berth.service \
		usr/lib/systemd/system/berth-maintenance.timer usr/lib/sysusers.d/berth.conf \
		usr/share/doc/berth/examples/berth.conf.example usr/share/doc/berth/security.md; do
		[ -e "$T/inst/$f" ] || missing="$missing $f"
	done
	[ -d "$T/inst/usr/share/berth/dashboard" ] || missing="$missing usr/share/berth/dashboard/"
	[ -z "$missing" ] && ok "make install DESTDIR: Debian layout" || not_ok "make install lacks:$missing"
	cmp -s "$SRC_DIR/nginx/berth-site.conf" "$T/inst/usr/share/berth/nginx/berth-site.conf" &&
		cmp -s "$SRC_DIR/deploy/systemd/berth.service" "$T/inst/usr/lib/systemd/system/berth.service" &&
		ok "with Debian paths the installed site and units are the shipped files" ||
		not_ok "installed site/units differ from the shipped files"
else
	not_ok "make install DESTDIR=$T/inst: $(tail -5 "$T/install.log")"
fi
if make -C "$BUILD_DIR" install DESTDIR="$T/inst2" prefix=/opt/berth >"$T/install2.log" 2>&1; then
	grep -q 'include /opt/berth/share/berth/nginx/berth-tls.conf;' "$T/inst2/opt/berth/share/berth/nginx/berth-site.conf" &&
		grep -q '^ExecStart=/opt/berth/bin/berth-fcgi --config /opt/berth/etc/berth/berth.conf' \
			"$T/inst2/opt/berth/lib/systemd/system/berth.service" &&
		ok "another prefix: installed site and units point at it" || not_ok "paths not rewritten for prefix /opt/berth"
else
	not_ok "make install prefix=/opt/berth: $(tail -5 "$T/install2.log")"
fi

# Buffering off and long timeouts only in the streaming location.
awk '/^\tlocation /{loc=$0} /fastcgi_buffering off|fastcgi_read_timeout 1h/{print loc}' \
	"$SRC_DIR/nginx/berth-site.conf" | sort -u >"$T/streaming"
[ "$(wc -l <"$T/streaming")" = 1 ] && grep -q 'containers/\[^/\]+/logs|catalog/\[^/\]+/build|jobs/\[^/\]+/logs' "$T/streaming" &&
	ok "unbuffered, long-timeout proxying only on the streaming routes" || not_ok "streaming settings leak: $(cat "$T/streaming")"

# ---------------------------------------------------------------- 2. nginx site
# Certificates: a CA, a server certificate for 127.0.0.1, clients signed by
# the CA, one from a rogue CA, and two with tricky subjects.
mkdir -p "$T/etc/tls" "$T/pki"
P="$T/pki"
mkcert() { # mkcert NAME SUBJECT CA EXT: key and certificate NAME signed by CA
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" \
		-subj "$2" -out "$P/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$P/$1.csr" -CA "$P/$3.crt" -CAkey "$P/$3.key" -CAcreateserial \
			-days 2 -extfile <(printf '%s\n' "$4") -out "$P/$1.crt" 2>/dev/null
}
for ca in ca rogue; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=berth test $ca" -keyout "$P/$ca.key" -out "$P/$ca.crt" 2>/dev/null
done
CLIENT_EXT='extendedKeyUsage=clientAuth'
mkcert server "/CN=localhost" ca "$(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth')" &&
	mkcert alice "/O=berth test/CN=alice" ca "$CLIENT_EXT" &&
	mkcert vic "/CN=vic" ca "$CLIENT_EXT" &&
	mkcert rogue-alice "/CN=alice" rogue "$CLIENT_EXT" &&
	mkcert smuggle "/OU=x,CN=alice/CN=eve" ca "$CLIENT_EXT" &&
	mkcert spaced "/CN=alice admin" ca "$CLIENT_EXT" &&
	ok "openssl: CA, server and client certificates" || not_ok "openssl certificates"
cp "$P/server.crt" "$P/server.key" "$T/etc/tls/"
cp "$P/ca.crt" "$T/etc/tls/client-ca.crt"
{ htpasswd_line alice apw; htpasswd_line vic vpw; } >"$T/etc/htpasswd"
chmod 0644 "$T/etc/htpasswd"
mkdir -p "$T/dashboard"
echo '<!doctype html><title>berth</title>' >"$T/dashboard/index.html"

cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; vic = "viewer"; dave = "operator"; };
policy = { admin = { images = [ "berth-test/*" ]; }; };
CONF
"$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --listen "$T/berth.sock" \
	--workers 2 --allow-root --socket-group www-data --instance "deploy-$$" 2>"$T/berth.log" &
FCGI_PID=$!
wait_for 5 test -S "$T/berth.sock" && ok "berth-fcgi listening" || not_ok "berth-fcgi did not start: $(cat "$T/berth.log")"

port() { "$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" free-port; }
P_TLS=$(port) P_HTTP=$(port) P_MET=$(port) P_IDP=$(port) P_DOCK=$(port)
# By name, as a browser would: SNI and Host both say localhost, the name the
# rendered site is given below (an admin sets their own in server_name).
HTTPS="https://localhost:$P_TLS"
TLS=(--cacert "$P/ca.crt" --resolve "localhost:$P_TLS:127.0.0.1")

# render AUTH: the shipped nginx files with paths and ports made local and
# the AUTH include chosen, plus a tiny nginx.conf around them.
render() {
	local auth=$1 d="$T/ng-$1"
	mkdir -p "$d/conf" "$d/tmp"
	for f in "$SRC_DIR"/nginx/*.conf; do
		sed -e "s|/usr/share/berth/dashboard|$T/dashboard|g" \
			-e "s|/usr/share/berth/nginx/|$d/conf/|g" \
			-e "s|/etc/berth/|$T/etc/|g" \
			-e "s|unix:/run/berth/berth.sock|unix:$T/berth.sock|g" \
			-e "s|unix:/run/berth-relay/relay.sock|unix:$T/relay.sock|g" \
			-e "s|listen 443 |listen 127.0.0.1:$P_TLS |" \
			-e "s|listen 80;|listen 127.0.0.1:$P_HTTP;|" \
			-e "s|listen 127.0.0.1:9180;|listen 127.0.0.1:$P_MET;|" \
			-e "s|listen 2376 ssl;|listen 127.0.0.1:$P_DOCK ssl;|" \
			-e '/listen \[::\]/d' \
			-e "s|http://127.0.0.1:4180/|http://127.0.0.1:$P_IDP/|" \
			-e "s|server_name berth.example.org;|server_name localhost;|" \
			-e 's|^\tinclude \(.*/berth-auth-\)|\t# include \1|' \
			-e "s|^\t# include \(.*/berth-auth-$auth.conf;\)|\tinclude \1|" \
			"$f" >"$d/conf/$(basename "$f")"
	done
	cat >"$d/nginx.conf" <<NGX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user www-data www-data;")
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	fastcgi_temp_path $d/tmp/fastcgi;
	proxy_temp_path $d/tmp/proxy;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	include $d/conf/berth-site.conf;
	$( [ "$auth" = mtls ] && echo "include $d/conf/berth-docker-site.conf;")

	# Stand-in identity provider for auth_request: one bearer token, one user.
	server {
		listen 127.0.0.1:$P_IDP;
		location = /oauth2/auth {
			if (\$http_authorization = "Bearer dave-token") {
				add_header X-Auth-Request-User dave;
				return 200;
			}
			return 401;
		}
	}
}
NGX
	grep -q "^$(printf '\t')include .*/berth-auth-$auth.conf;" "$d/conf/berth-site.conf"
}

start_nginx() { # start_nginx AUTH
	local d="$T/ng-$1"
	"$NGINX" -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
	NGINX_PID=$!
	wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_TLS" 2>/dev/null
}
stop_nginx() {
	kill -QUIT "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; NGINX_PID=""
}

for auth in basic mtls request; do
	if render "$auth" && out=$("$NGINX" -e "$T/ng-$auth/error.log" -t -p "$T/ng-$auth" -c "$T/ng-$auth/nginx.conf" 2>&1); then
		ok "nginx -t: site with $auth auth"
	else
		not_ok "nginx -t ($auth): $out"
	fi
done

# --- basic auth
if start_nginx basic; then
	ok "nginx serves the basic-auth site"
	req GET "http://127.0.0.1:$P_HTTP/api/v1/whoami"
	[ "$STATUS" = 301 ] && grep -qi "^Location: https://" <<<"$HDRS" &&
		ok "plain HTTP redirects to HTTPS" || not_ok "plain HTTP redirect ($STATUS)"
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}"
	expect "basic: no credentials 401 JSON" 401 .error.code unauthenticated
	n=$(grep -ci '^WWW-Authenticate: Basic' <<<"$HDRS")
	[ "$n" = 1 ] && ok "401 asks for basic auth, once" || not_ok "WWW-Authenticate $n times: $HDRS"
	# Another host name (DNS rebinding), by name and by address: refused before auth.
	req POST "$HTTPS/api/v1/containers" '{"name":"rebind","image":"berth-test/busybox:1"}' "${TLS[@]}" -u alice:apw \
		-H 'Host: attacker.example' -H 'Origin: https://attacker.example'
	expect "basic: Host attacker.example refused with 421 JSON" 421 .error.code misdirected_request
	req GET "https://127.0.0.1:$P_TLS/api/v1/whoami" "" --cacert "$P/ca.crt" -u alice:apw -H 'Host: attacker.example'
	expect "basic: no SNI, Host attacker.example: refused too" 421 .error.code misdirected_request
	req GET "https://127.0.0.1:$P_TLS/api/v1/whoami" "" --cacert "$P/ca.crt" -u alice:apw
	expect "basic: by address, Host 127.0.0.1 is not a name the site was given" 421
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" -u alice:apw
	expect "basic: alice is admin" 200 .user alice && expect "basic: role from berth.conf" 200 .role admin
	# Held streams go through the site's relay location (docs/streams.md).
	req POST "$HTTPS/api/v1/containers" \
		'{"name":"relayed","image":"berth-test/busybox:1","command":["sh","-c","echo one; echo two; sleep 60"]}' \
		"${TLS[@]}" -u alice:apw
	expect "basic: container for the relay cases" 201
	wait_for 5 bash -c "curl -s ${TLS[*]} -u alice:apw '$HTTPS/api/v1/containers/relayed/logs' | grep -q two"
	req GET "$HTTPS/api/v1/containers/relayed/logs" "" "${TLS[@]}" -u alice:apw
	[ "$STATUS" = 200 ] && [ "$BODY" = "$(printf 'one\ntwo')" ] &&
		ok "basic: logs through the relay" || not_ok "basic: logs through the relay ($STATUS): $BODY"
	out=$(curl -s -N --max-time 2 "${TLS[@]}" -u alice:apw "$HTTPS/api/v1/containers/relayed/logs?follow=1")
	[ "$out" = "$(printf 'one\ntwo')" ] && ok "basic: a follow holds and streams" || not_ok "basic: follow: $out"
	req POST "$HTTPS/api/v1/containers/relayed/exec" '{"command":["sh","-c","echo hi; exit 4"]}' "${TLS[@]}" -u alice:apw
	expect "basic: exec through the relay" 200 .exit_code 4 && expect "basic: exec output" 200 .stdout hi
	req GET "$HTTPS/.berth-relay/00000000000000000000000000000000" "" "${TLS[@]}" -u alice:apw
	[ "$STATUS" = 404 ] && ok "basic: the relay location is internal" || not_ok "basic: /.berth-relay/ from outside: $STATUS"
	req GET "$HTTPS/.berth-resume/00000000000000000000000000000000" "" "${TLS[@]}" -u alice:apw
	[ "$STATUS" = 404 ] && ok "basic: the resume location is internal" || not_ok "basic: /.berth-resume/ from outside: $STATUS"
	req DELETE "$HTTPS/api/v1/containers/relayed?force=1" "" "${TLS[@]}" -u alice:apw
	expect "basic: relay case container removed" 204
	grep -qi "^Content-Security-Policy: default-src 'self'.*frame-ancestors 'none'" <<<"$HDRS" &&
		grep -qi '^Strict-Transport-Security: max-age=' <<<"$HDRS" &&
		grep -qi '^X-Frame-Options: DENY' <<<"$HDRS" &&
		ok "security headers: CSP, HSTS, X-Frame-Options" || not_ok "security headers missing: $HDRS"
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" -u vic:vpw -H 'Remote-User: alice' \
		-H 'X-Remote-User: alice' -H 'X-Forwarded-User: alice' -H 'X-Auth-Request-User: alice'
	expect "basic: spoofed identity headers ignored" 200 .user vic
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" -u alice:wrong
	expect "basic: wrong password 401" 401 .error.code unauthenticated
	req GET "$HTTPS/" "" "${TLS[@]}" -u vic:vpw
	[ "$STATUS" = 200 ] && grep -q '<title>berth' <<<"$BODY" && grep -qi '^Content-Security-Policy:' <<<"$HDRS" &&
		ok "dashboard served with its CSP" || not_ok "dashboard ($STATUS)"
	req GET "$HTTPS/metrics" "" "${TLS[@]}" -u alice:apw
	[ "$STATUS" = 404 ] && ok "/metrics not served on the public port" || not_ok "/metrics on the public port: $STATUS"
	req GET "http://127.0.0.1:$P_MET/metrics"
	[ "$STATUS" = 200 ] && grep -q '^berth_' <<<"$BODY" &&
		ok "/metrics from loopback" || not_ok "/metrics from loopback ($STATUS)"
	head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
	STATUS=$(curl -s "${TLS[@]}" -u alice:apw -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$T/big" "$HTTPS/api/v1/containers"); BODY=$(cat "$T/body")
	expect "2 MB body refused by nginx as JSON 413" 413 .error.code payload_too_large
	if curl -s -o /dev/null "${TLS[@]}" --tlsv1.1 --tls-max 1.1 "$HTTPS/" 2>/dev/null; then
		not_ok "TLS 1.1 accepted"
	else
		ok "TLS 1.1 refused"
	fi
	# Reads are never rate-limited, changes are.
	reads=0 limited=0 codes=""
	for _ in $(seq 1 40); do
		s=$(curl -s -o /dev/null -w '%{http_code}' "${TLS[@]}" -u vic:vpw "$HTTPS/api/v1/whoami")
		[ "$s" = 429 ] && reads=$((reads + 1))
	done
	# All at once: one by one, a loaded machine's TLS handshakes alone can
	# space them wider than the limit's 5 per second.
	pids=()
	for i in $(seq 1 40); do
		curl -s -o "$T/body$i" -w '%{http_code}\n' "${TLS[@]}" -u vic:vpw -X POST "$HTTPS/api/v1/health" >"$T/code$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 1 40); do
		[ "$(cat "$T/code$i")" = 429 ] && limited=$((limited + 1)) && BODY=$(cat "$T/body$i")
		codes+=" $(cat "$T/code$i")"
	done
	[ $reads = 0 ] && [ $limited -gt 0 ] && [ "$(jqb .error.code)" = too_many_requests ] &&
		ok "limit_req: 40 reads pass, $limited of 40 quick mutations get 429 JSON" ||
		not_ok "limit_req (reads limited $reads, mutations limited $limited:$codes)"
	stop_nginx
else
	not_ok "nginx (basic) did not start: $(cat "$T/ng-basic/error.log")"
	stop_nginx
fi

# --- client certificates
cert() { echo --cert "$P/$1.crt" --key "$P/$1.key"; }
if start_nginx mtls; then
	ok "nginx serves the mTLS site"
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}"
	[ "$STATUS" != 200 ] && [ "$STATUS" != 000 ] && [ "$(jqb .error.code)" = unauthenticated ] &&
		ok "mTLS: no client certificate refused ($STATUS JSON)" || not_ok "mTLS without a certificate: $STATUS $BODY"
	# shellcheck disable=SC2046
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" $(cert alice)
	expect "mTLS: identity is the CN" 200 .user alice && expect "mTLS: alice is admin" 200 .role admin
	# shellcheck disable=SC2046
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" $(cert vic) -u alice:apw -H 'Remote-User: alice' \
		-H 'X-Remote-User: alice' -H 'X-SSL-Client-S-DN: CN=alice'
	expect "mTLS: spoofed headers and basic credentials ignored" 200 .user vic
	# shellcheck disable=SC2046
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" $(cert rogue-alice)
	[ "$STATUS" != 200 ] && ok "mTLS: certificate from another CA refused ($STATUS)" || not_ok "rogue CA accepted: $BODY"
	# shellcheck disable=SC2046
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" $(cert smuggle)
	[ "$STATUS" = 403 ] && ok "mTLS: CN=alice smuggled in an OU is not alice (eve, no role: 403)" ||
		not_ok "smuggled CN: $STATUS $BODY"
	# shellcheck disable=SC2046
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" $(cert spaced)
	expect "mTLS: a CN that is no user name gives no identity" 401 .error.code unauthenticated
	req GET "http://127.0.0.1:$P_MET/metrics"
	[ "$STATUS" = 200 ] && ok "mTLS site: /metrics from loopback" || not_ok "mTLS /metrics ($STATUS)"
	# The Docker door's production site (berth-docker-site.conf): Docker's remote TLS model.
	mkdir -p "$T/dcerts"
	cp "$P/ca.crt" "$T/dcerts/ca.pem"; cp "$P/alice.crt" "$T/dcerts/cert.pem"; cp "$P/alice.key" "$T/dcerts/key.pem"
	dcli() { DOCKER_HOST="tcp://localhost:$P_DOCK" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$T/dcerts" \
		DOCKER_CONFIG="$T/dcerts" timeout 30 "${DOCKER_CLI:-/usr/bin/docker}" "$@"; }
	out=$(dcli version --format '{{.Server.Platform.Name}} {{.Server.APIVersion}}' 2>&1)
	[[ "$out" == "berth "*" 1.41" ]] && ok "docker site: docker version over client certificates" ||
		not_ok "docker site: docker version: $out"
	out=$(dcli info --format '{{.Name}}' 2>&1)
	[ "$out" = berth ] && ok "docker site: docker info answers (it needs a role: the CN is the user)" || not_ok "docker site: docker info: $out"
	req GET "https://localhost:$P_DOCK/_ping" "" --cacert "$P/ca.crt" --resolve "localhost:$P_DOCK:127.0.0.1"
	[ "$STATUS" != 200 ] && ok "docker site: no client certificate, no answer ($STATUS)" ||
		not_ok "docker site answered without a certificate"
	# shellcheck disable=SC2046
	req GET "https://localhost:$P_DOCK/api/v1/whoami" "" --cacert "$P/ca.crt" --resolve "localhost:$P_DOCK:127.0.0.1" $(cert alice)
	expect "docker site: berth's own API is not on the door" 404 .message "page not found"
	stop_nginx
else
	not_ok "nginx (mtls) did not start: $(cat "$T/ng-mtls/error.log")"
	stop_nginx
fi

# --- auth_request to an identity provider
if start_nginx request; then
	ok "nginx serves the auth_request site"
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" -H 'X-Auth-Request-User: alice' -H 'Remote-User: alice'
	expect "auth_request: provider says no, identity headers do not help" 401 .error.code unauthenticated
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" -H 'Authorization: Bearer dave-token' \
		-H 'X-Auth-Request-User: alice' -H 'Remote-User: alice'
	expect "auth_request: identity from the provider's answer only" 200 .user dave
	req GET "$HTTPS/api/v1/whoami" "" "${TLS[@]}" -u alice:apw
	expect "auth_request: basic credentials are not identity" 401
	stop_nginx
else
	not_ok "nginx (request) did not start: $(cat "$T/ng-request/error.log")"
	stop_nginx
fi

# ---------------------------------------------------------------- 3. image (opt-in)
# No registry here: the base is Debian made with debootstrap from the apt
# mirror this host uses, imported once and kept as berth-test/debian:bookworm.
debian_mirror() {
	local m
	m=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)/*$|\1|p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	echo "${m:-http://deb.debian.org/debian}"
}
image_test() {
	local base=berth-test/debian:bookworm img="berth-test/berth:deploy-$$" p_img st
	berth_install_packages debootstrap >/dev/null || { not_ok "debootstrap install"; return; }
	if ! docker image inspect "$base" >/dev/null 2>&1; then
		if debootstrap --variant=minbase bookworm "$T/rootfs" "$(debian_mirror)" >"$T/debootstrap.log" 2>&1 &&
			tar -C "$T/rootfs" -c . | docker import - "$base" >/dev/null; then
			ok "Debian base image made with debootstrap + docker import"
		else
			not_ok "debootstrap base: $(tail -5 "$T/debootstrap.log")"
			return
		fi
		rm -rf "$T/rootfs"
	fi
	if docker build --build-arg BASE="$base" -f "$SRC_DIR/deploy/container/Dockerfile" -t "$img" \
		"$SRC_DIR" >"$T/image-build.log" 2>&1; then
		ok "container image builds on the local base"
	else
		not_ok "docker build: $(tail -15 "$T/image-build.log")"
		return
	fi
	p_img=$(port)
	CONTAINER="berth-deploy-test-$$"
	docker run -d --name "$CONTAINER" -p "127.0.0.1:$p_img:443" \
		-v /var/run/docker.sock:/var/run/docker.sock \
		-v "$T/berth.conf:/etc/berth/berth.conf:ro" -v "$T/etc/htpasswd:/etc/berth/htpasswd:ro" \
		-v "$T/etc/tls/server.crt:/etc/berth/tls/server.crt:ro" \
		-v "$T/etc/tls/server.key:/etc/berth/tls/server.key:ro" "$img" >/dev/null
	wait_for 30 curl -s -o /dev/null "${TLS[@]}" "https://127.0.0.1:$p_img/"
	req GET "https://127.0.0.1:$p_img/api/v1/whoami" "" "${TLS[@]}" -u alice:apw -H 'Remote-User: vic'
	expect "image: basic auth identity through the container's nginx" 200 .user alice
	req GET "https://127.0.0.1:$p_img/api/v1/health" "" "${TLS[@]}" -u vic:vpw
	expect "image: berth reaches the mounted Docker socket" 200 .docker ok
	req GET "https://127.0.0.1:$p_img/api/v1/whoami" "" "${TLS[@]}"
	expect "image: no credentials 401" 401 .error.code unauthenticated
	st=$(docker exec "$CONTAINER" bash -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = berth-fcgi ] && stat -c %U $p; done' | sort -u | tr '\n' ' ')
	[ "$st" = "berth " ] && ok "image: berth-fcgi runs as user berth" || not_ok "image: berth-fcgi users: $st"
	docker stop -t 20 "$CONTAINER" >/dev/null
	st=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
	[ "$st" = 0 ] && ok "image: stops cleanly on docker stop" ||
		not_ok "image: exit $st; $(docker logs "$CONTAINER" 2>&1 | tail -5)"
	docker rm -f "$CONTAINER" >/dev/null 2>&1
	CONTAINER=""
	docker rmi "$img" >/dev/null 2>&1
}
if [ "${BERTH_TEST_IMAGE:-}" = 1 ]; then
	image_test
else
	echo "# container image test skipped (BERTH_TEST_IMAGE=1 runs it)"
fi

pids="$FCGI_PID"
stop_all
left=$(for p in $pids; do pgrep -P "$p"; kill -0 "$p" 2>/dev/null && echo "$p"; done)
[ -z "$left" ] && [ ! -e "$T/berth.sock" ] && ok "berth-fcgi and nginx stopped, socket gone" ||
	not_ok "left running: $left"
finish
