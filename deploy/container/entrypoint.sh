#!/bin/bash
# entrypoint.sh - PID 2 of the berth image (tini is PID 1): prepare the
# berth user, config, TLS and the nginx site, then run berth-fcgi and nginx
# and stop both when either stops, so Docker's restart policy takes over.
#
# Mount:   /var/run/docker.sock (required), /etc/berth/berth.conf (required),
#          /etc/berth/htpasswd or /etc/berth/tls/client-ca.crt (per auth),
#          /etc/berth/tls/server.{crt,key} (else a self-signed pair is made),
#          /var/lib/berth (a volume: the state).
# Env:     BERTH_AUTH=basic|mtls|request (default basic), BERTH_WORKERS=4,
#          BERTH_SERVER_NAME (the host names berth answers to; unset: any).
set -u

die() {
	echo "berth container: $*" >&2
	exit 1
}

auth=${BERTH_AUTH:-basic}
workers=${BERTH_WORKERS:-4}
sock=/var/run/docker.sock
conf=/etc/berth/berth.conf
share=/usr/share/berth

case "$auth" in basic | mtls | request) ;; *) die "BERTH_AUTH must be basic, mtls or request" ;; esac
case "$workers" in '' | *[!0-9]*) die "BERTH_WORKERS must be a number" ;; esac
[ -S "$sock" ] || die "mount the Docker socket: -v /var/run/docker.sock:/var/run/docker.sock"
[ -r "$conf" ] || die "mount your berth.conf at $conf (example: $share/../doc/berth/examples/berth.conf.example)"
case "$auth" in
basic) [ -r /etc/berth/htpasswd ] || die "BERTH_AUTH=basic needs /etc/berth/htpasswd" ;;
mtls) [ -r /etc/berth/tls/client-ca.crt ] || die "BERTH_AUTH=mtls needs /etc/berth/tls/client-ca.crt" ;;
esac

# berth reaches dockerd through the socket's group, whatever number the host
# gave it: make a group with that gid here and put berth in it.
gid=$(stat -c %g "$sock")
[ "$gid" != 0 ] || echo "berth container: warning: $sock belongs to group root; berth gets group root" >&2
grp=$(getent group "$gid" | cut -d: -f1)
if [ -z "$grp" ]; then
	groupadd -g "$gid" docker-host || die "cannot make a group for gid $gid"
	grp=docker-host
fi
usermod -a -G "$grp" berth || die "cannot add berth to group $grp"

# The state volume may come from a backup or another container: make it
# berth's, then let berth itself create its layout (check-config does).
chown -R berth:berth /var/lib/berth
setpriv --reuid=berth --regid=berth --init-groups \
	/usr/bin/berth-fcgi --config "$conf" check-config || die "bad configuration"

if [ ! -s /etc/berth/tls/server.crt ] || [ ! -s /etc/berth/tls/server.key ]; then
	echo "berth container: no /etc/berth/tls/server.{crt,key}; making a self-signed pair" >&2
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$(hostname)" \
		-keyout /etc/berth/tls/server.key -out /etc/berth/tls/server.crt 2>/dev/null) ||
		die "cannot write /etc/berth/tls (mount your certificate there)"
fi

# The shipped site, unchanged but for the auth include, the host names and
# IPv4 only: Docker publishes ports over IPv4 and containers often have no
# IPv6.  Without BERTH_SERVER_NAME berth's server is the default one, so it
# answers whatever name the host is reached by; with it, other names get 421.
if [ -n "${BERTH_SERVER_NAME:-}" ]; then
	names=(-e "s|server_name berth.example.org;|server_name $BERTH_SERVER_NAME;|")
else
	names=(-e 's| default_server;|;|')
fi
sed "${names[@]}" -e 's|^\tinclude \(.*/berth-auth-\)|\t# include \1|' \
	-e "s|^\t# include \(.*/berth-auth-$auth.conf;\)|\tinclude \1|" \
	-e '/listen \[::\]/d' \
	"$share/nginx/berth-site.conf" >/etc/nginx/sites-enabled/berth
nginx -t -q || die "nginx does not accept the site"

install -d -m 0755 /run/berth
# The same start-up environment as berth.service (docs/benchmarks.md, Memory).
LD_BIND_NOW=1 GNUTLS_NO_IMPLICIT_INIT=1 \
	/usr/bin/berth-fcgi --config "$conf" --user berth --socket-group www-data \
	--listen /run/berth/berth.sock --workers "$workers" &
fcgi=$!
nginx -g 'daemon off;' &
web=$!

stop() {
	kill -QUIT "$web" 2>/dev/null    # nginx: finish requests, then exit
	kill -TERM "$fcgi" 2>/dev/null   # berth: drain, then exit
	wait "$web" "$fcgi" 2>/dev/null
	exit 0
}
trap stop TERM INT

# Whichever stops first takes the other with it.
wait -n "$fcgi" "$web"
echo "berth container: a process stopped; stopping" >&2
kill -QUIT "$web" 2>/dev/null
kill -TERM "$fcgi" 2>/dev/null
wait
exit 1
