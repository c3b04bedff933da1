-- A read workload: one request, repeated. Counts as an error every non-2xx answer and every
-- 200 whose body carries GraphQL errors. Environment: METHOD, URLPATH, BODY, TOKEN.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  errors = 0
  wrk.method = os.getenv("METHOD") or "GET"
  wrk.path = os.getenv("URLPATH") or "/"
  local body = os.getenv("BODY")
  if body and #body > 0 then
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
  local token = os.getenv("TOKEN")
  if token and #token > 0 then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
  end
  io.write(string.format("BENCH rps=%.1f p50=%.2f p99=%.2f errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e, summary.requests))
end
