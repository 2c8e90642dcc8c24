-- wrk script for the intake benchmark (bench/load/wrk.py runs it). Every request carries new,
-- unique event ids, so ingest acknowledges real work instead of answering "duplicate".
-- Configuration comes from the environment: BENCH_KEYS (comma-separated bank keys),
-- BENCH_CATEGORIES (comma-separated category codes, the seed catalogue's),
-- BENCH_BATCH (0 = one event per POST), BENCH_PREFIX (unique per run), and BENCH_TARGET:
-- "ingest" (default) or "bridge", the intake peer (bench/peers/camel_bridge), which gets the
-- same events in the Strimzi bridge's {"records":[{"key","value"}]} body, keyed by the names in
-- BENCH_KEYS (bank ids there, not API keys), POSTed to BENCH_PATH (/topics/<topic>).

local keys = {}
for key in string.gmatch(os.getenv("BENCH_KEYS") or "", "[^,]+") do keys[#keys + 1] = key end
local batch = tonumber(os.getenv("BENCH_BATCH") or "0")
local prefix = os.getenv("BENCH_PREFIX") or "wrk"
local categories = {}
for code in string.gmatch(os.getenv("BENCH_CATEGORIES") or "", "[^,]+") do categories[#categories + 1] = code end
local countries = {"SG", "HK", "US", "DE", "GB", "JP", "KR", "VN"}
local target = os.getenv("BENCH_TARGET") or "ingest"
local path = batch > 0 and "/v1/events/batch" or "/v1/events"
if target == "bridge" then path = os.getenv("BENCH_PATH") end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  accepted = 0
  ok = 0
  bad = 0
  math.randomseed(id * 7919 + 17)
end

local function event(event_id, n)
  local category = categories[n % #categories + 1]
  local currency = category == "offshore" and "USD" or "CNY"
  return string.format(
    '{"event_id":"%s","category":"%s","amount":"%d.%02d","currency":"%s",' ..
    '"value_date":"2020-%02d-%02d","direction":"%s","counterparty_country":"%s"}',
    event_id, category, math.random(100, 9999999), math.random(0, 99), currency,
    math.random(1, 12), math.random(1, 28), (n % 2 == 0) and "inbound" or "outbound",
    countries[n % #countries + 1])
end

local function bridge_request(key)
  local n = batch > 0 and batch or 1
  local parts = {}
  for i = 1, n do
    parts[i] = '{"key":"' .. key .. '","value":' .. event(prefix .. "-" .. id .. "-" .. counter .. "-" .. i, counter + i) .. "}"
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/vnd.kafka.json.v2+json"},
                    '{"records":[' .. table.concat(parts, ",") .. "]}")
end

function request()
  counter = counter + 1
  local key = keys[(counter + id) % #keys + 1]
  if target == "bridge" then return bridge_request(key) end
  local body
  if batch == 0 then
    body = event(prefix .. "-" .. id .. "-" .. counter, counter)
  else
    local parts = {}
    for i = 1, batch do parts[i] = event(prefix .. "-" .. id .. "-" .. counter .. "-" .. i, i) end
    body = '{"events":[' .. table.concat(parts, ",") .. "]}"
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["Authorization"] = "Bearer " .. key}, body)
end

function response(status, headers, body)
  if target == "bridge" then
    -- The bridge answers 200 only once Kafka acknowledged every record of the request.
    if status == 200 then
      ok = ok + 1
      accepted = accepted + (batch > 0 and batch or 1)
    else
      bad = bad + 1
    end
  elseif status == 202 then
    ok = ok + 1
    accepted = accepted + 1
  elseif status == 200 then
    ok = ok + 1
    local n = string.match(body or "", '"accepted":%s*(%d+)')
    if n then accepted = accepted + tonumber(n) end
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local acc, okc, badc = 0, 0, 0
  for _, thread in ipairs(threads) do
    acc = acc + thread:get("accepted")
    okc = okc + thread:get("ok")
    badc = badc + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"accepted":%d,"ok":%d,"bad":%d,"p50_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d}\n',
    summary.requests, summary.duration, acc, okc, badc, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout))
end
