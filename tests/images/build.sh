#!/bin/bash
# Builds the local test images FROM scratch with Debian's static busybox
# (no registry is reachable): berth-test/busybox:1 and :2 (same content,
# different image ids, for update/roll tests).
set -eu
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp /bin/busybox "$ctx/busybox"
cat >"$ctx/Dockerfile" <<'DF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DF
docker build -q -t berth-test/busybox:1 "$ctx" >/dev/null 2>&1
echo "LABEL berth.test.variant=2" >>"$ctx/Dockerfile"
docker build -q -t berth-test/busybox:2 "$ctx" >/dev/null 2>&1
docker tag berth-test/busybox:1 berth-test/other:1
