-- tests/wrk-status.lua - shared by the wrk scripts of tests/integ (abuse, load),
-- loaded with dofile(os.getenv("WRK_STATUS")).  Numbers the threads (global
-- `id`), counts answers by status in each, and prints at the end:
--   status CODE COUNT      (one line per status seen)
--   requests N
--   errors connect N read N write N timeout N status N
--   latency p50 X ms p99 X ms max X ms
counts = {} -- a global: done() reads it from each thread with thread:get
id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function response(status, headers, body)
  local k = tostring(status)
  counts[k] = (counts[k] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts") or {}) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %s %d\n", k, v)) end
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("errors connect %d read %d write %d timeout %d status %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("latency p50 %.1f ms p99 %.1f ms max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
