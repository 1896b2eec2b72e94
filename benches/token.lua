-- wrk script for token endpoints (benches/tokens.sh): POST <path> with HTTP Basic client
-- authentication and a form body, e.g. the client credentials grant. Arguments after `--`:
--   1: client id
--   2: client secret
--   3: the form body (already form-encoded), default "grant_type=client_credentials"
--   4: "count" (default) checks every answer in Lua and counts those that are not 200 with an
--      access_token; "fast" leaves it to wrk, which counts only statuses >= 400
--      ("Non-2xx or 3xx responses"); the Lua check costs wrk ~10 µs of CPU per request, so
--      benches/tokens.sh passes "fast" unless WRK_CHECK=count
-- The request is built once per thread (wrk's static request path), so wrk spends as little
-- of the shared CPU as possible. done() prints one machine-readable BENCH_RESULT line.
--
--   wrk -t1 -c10 -d15s --latency -s benches/token.lua http://127.0.0.1:8080/oauth/token \
--     -- <client_id> <client_secret> 'grant_type=client_credentials'

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- The userinfo of RFC 6749 §2.3.1: id and secret form-encoded, joined by ":", base64ed.
local function form_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

bad = 0
checked = "no"

function init(args)
  local id, secret, body, mode = args[1], args[2], args[3], args[4]
  if id == nil or secret == nil then
    error("token.lua: arguments: <client_id> <client_secret> [body] [count|fast]")
  end
  wrk.method = "POST"
  wrk.body = (body ~= nil and body ~= "") and body or "grant_type=client_credentials"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. base64(form_encode(id) .. ":" .. form_encode(secret))
  if mode == nil or mode == "" or mode == "count" then
    checked = "yes"
    -- Defined only in this mode: wrk hands headers and bodies to Lua only when it exists.
    function response(status, headers, resp_body)
      if status ~= 200 or not resp_body:find('"access_token"', 1, true) then
        bad = bad + 1
      end
    end
  elseif mode ~= "fast" then
    error("token.lua: mode must be count or fast, not " .. mode)
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  -- done() runs in wrk's main Lua state, where init() never ran: ask the threads.
  local checked, non200 = "no", e.status
  if #threads > 0 and threads[1]:get("checked") == "yes" then
    checked, non200 = "yes", 0
    for _, t in ipairs(threads) do
      non200 = non200 + (t:get("bad") or 0)
    end
  end
  io.write(string.format(
    "BENCH_RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non200=%d checked=%s wrk_non2xx3xx=%d socket_errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, non200, checked, e.status, e.connect + e.read + e.write + e.timeout))
end
