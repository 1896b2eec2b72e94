-- wrk script for scimgate (benches/run.sh). Arguments after `--`:
--   1: bearer token, or "-" for none (a 401 that never reaches the database)
--   2: mode: "filter" (GET /scim/v2/Users?filter=userName eq "<random user>") or a fixed path
--   3: (filter mode) file of request paths, one per user (written by benches/seed.py)
-- Every request string is formatted once in init(); request() only picks one at random, so
-- wrk spends as little of the shared CPU as possible. done() prints one machine-readable line.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local reqs = {}
local n = 0

function init(args)
  local token, mode, file = args[1], args[2], args[3]
  if token ~= nil and token ~= "-" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  wrk.headers["Accept"] = "application/scim+json"
  math.randomseed(os.time() * 1000 + (id or 0))
  if mode == "filter" then
    for path in io.lines(file) do
      n = n + 1
      reqs[n] = wrk.format("GET", path)
    end
  else
    n = 1
    reqs[1] = wrk.format("GET", mode)
  end
  if n == 0 then
    error("filter.lua: no request paths")
  end
end

function request()
  if n == 1 then
    return reqs[1]
  end
  return reqs[math.random(n)]
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
