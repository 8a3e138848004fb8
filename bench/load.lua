-- wrk script for the Signet bench. Arguments (after wrk's "--"):
--   path, htmx ("1" adds HX-Request: true), then one Cookie header value per
--   session (none for a signed-out visitor). Requests rotate through the
--   sessions. The requests are formatted once, so the per-request cost in
--   wrk is a table lookup, the same for the app and the baseline.
local reqs = {}
local i = 0

init = function(args)
  local path = args[1] or "/"
  local base = {}
  if args[2] == "1" then base["HX-Request"] = "true" end
  for j = 3, #args do
    local h = {}
    for k, v in pairs(base) do h[k] = v end
    h["Cookie"] = args[j]
    reqs[#reqs + 1] = wrk.format("GET", path, h)
  end
  if #reqs == 0 then reqs[1] = wrk.format("GET", path, base) end
end

request = function()
  i = i % #reqs + 1
  return reqs[i]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%.0f duration_us=%.0f bytes=%.0f connect=%.0f read=%.0f write=%.0f status=%.0f timeout=%.0f p50=%.0f p90=%.0f p99=%.0f max=%.0f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
