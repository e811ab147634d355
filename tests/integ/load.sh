#!/bin/bash
# Load: wrk with 64 connections of mixed reads and writes against berth-up
# (4 workers): zero 5xx, no worker restarted, and no worker's memory (VmRSS)
# growing over the run beyond a small tolerance.  BERTH_LOAD_SECONDS sets the
# length (tests/run: 15 s; docs/reliability.md: the full 60 s run).
. "$(dirname "$0")/../lib.sh"

DURATION=${BERTH_LOAD_SECONDS:-15}
CONNS=${BERTH_LOAD_CONNECTIONS:-64}
INST="t-load-$$"
IMG=berth-test/busybox:1
cat >"$T/berth.conf" <<CONF
anonymous = "admin";
policy = { admin = { images = [ "*" ]; }; };
CONF
start_berth l --config "$T/berth.conf" --workers 4 --instance "$INST" || exit 1
API="$URL/api/v1"
CMD='["sh","-c","trap \"exit 0\" TERM; while :; do sleep 1; done"]'
for n in a b c; do
	req POST "$API/containers" "{\"name\":\"$INST-$n\",\"image\":\"$IMG\",\"command\":$CMD}"
	expect "fixture container $n" 201
done

cat >"$T/mixed.lua" <<'LUA'
-- Mixed load: reads of every kind, idempotent writes, and one create/delete
-- cycle per thread every 20 requests.
local inst = os.getenv("INST")
local img = os.getenv("IMG")
local cmd = os.getenv("CMD")
dofile(os.getenv("WRK_STATUS"))
local n, pending = 0, nil
local reads = { "/api/v1/containers", "/api/v1/containers?all=1", "/api/v1/containers/" .. inst .. "-a",
  "/api/v1/containers/" .. inst .. "-b", "/api/v1/health", "/api/v1/whoami", "/api/v1/version",
  "/api/v1", "/api/v1/schemas/container", "/api/v1/containers/" .. inst .. "-nope" }
local json = { ["Content-Type"] = "application/json" }
function init(args) math.randomseed(id * 7919 + os.time()) end
function request()
  n = n + 1
  if n % 20 == 0 then
    if pending then
      local p = pending; pending = nil
      return wrk.format("DELETE", "/api/v1/containers/" .. p .. "?force=1")
    end
    pending = string.format("%s-w%d-%d", inst, id, n)
    return wrk.format("POST", "/api/v1/containers", json,
      string.format('{"name":"%s","image":"%s","command":%s}', pending, img, cmd))
  end
  local r = math.random(10)
  if r <= 7 then return wrk.format("GET", reads[math.random(#reads)]) end
  if r == 8 then
    return wrk.format("POST", "/api/v1/containers", json,
      string.format('{"name":"%s-c","image":"%s","command":%s}', inst, img, cmd))
  end
  if r == 9 then return wrk.format("POST", "/api/v1/containers/" .. inst .. "-a/start") end
  return wrk.format("POST", "/api/v1/containers", json, '{"image":"berth-test/busybox:1","nope":1}')
end
LUA

rss() { # rss PID...: VmRSS in kB, one per line
	local p
	for p in "$@"; do awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null; done
}
# Warm up (allocator pools, curl handles, caches), then take the baseline.
INST=$INST IMG=$IMG CMD=$CMD WRK_STATUS="$SRC_DIR/tests/wrk-status.lua" wrk -t2 -c"$CONNS" -d3s --timeout 60s -s "$T/mixed.lua" "$URL" >"$T/warm.out" 2>&1
mapfile -t W < <(worker_pids "$PID_l" | sort)
mapfile -t BEFORE < <(rss "${W[@]}")
INST=$INST IMG=$IMG CMD=$CMD WRK_STATUS="$SRC_DIR/tests/wrk-status.lua" wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 60s --latency \
	-s "$T/mixed.lua" "$URL" >"$T/wrk.out" 2>&1
mapfile -t AFTER < <(rss "${W[@]}")
mapfile -t W2 < <(worker_pids "$PID_l" | sort)

sed -n '/Thread Stats/,$p' "$T/wrk.out" | grep -vE '^\s+(50|75|90|99)%|Latency Distribution' | sed 's/^/# wrk: /'
total=$(sed -n 's/^requests //p' "$T/wrk.out")
fivexx=$(awk '/^status 5/ { n += $3 } END { print n + 0 }' "$T/wrk.out")
counted=$(awk '/^status/ { n += $3 } END { print n + 0 }' "$T/wrk.out")
errs=$(awk '/^errors/ { print $3 + $5 + $7 + $9 }' "$T/wrk.out")
check "$total requests in ${DURATION} s over $CONNS connections" test "${total:-0}" -gt 0
check "every answer's status counted ($counted of $total)" test "$counted" -ge "$total"
check "zero 5xx ($fivexx)" test "$fivexx" = 0
check "no socket errors or timeouts (${errs:-?})" test "${errs:-1}" = 0
check "no worker restarted (${W[*]})" test "${W[*]}" = "${W2[*]}"
grow=0
for i in "${!W[@]}"; do
	b=${BEFORE[i]:-0} a=${AFTER[i]:-0}
	echo "# worker ${W[i]}: VmRSS ${b} kB -> ${a} kB ($((a - b)) kB)"
	# Tolerance: 1 MiB or 10 %, whichever is larger.
	tol=$((b / 10 > 1024 ? b / 10 : 1024))
	[ $((a - b)) -gt "$tol" ] && grow=$((grow + 1))
done
check "no worker's memory grew beyond 1 MiB/10 % over the run ($grow grew)" test "$grow" = 0

kill -TERM "$PID_l"
wait_for 120 bash -c '! kill -0 "$1" 2>/dev/null' _ "$PID_l"
check "berth-up removed every container of the run" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
finish
