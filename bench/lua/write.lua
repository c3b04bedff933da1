-- The write mix: each connection creates a mentorship and moves it requested → matched →
-- active → paused → active → ended, with If-Match on every move, then starts the next.
-- One connection per thread, so each thread's state is its connection's.
-- Environment: TOKEN, ORG, MENTOR, RUN (a tag for the mentee references).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local steps = { "matched", "active", "paused", "active", "ended" }

function init(args)
  errors = 0
  created = 0
  finished = 0
  moves = 0
  step = 0
  n = 0
  id = nil
  etag = nil
  token = os.getenv("TOKEN")
  org = os.getenv("ORG")
  mentor = os.getenv("MENTOR")
  run = os.getenv("RUN") or "bench"
end

function request()
  local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if step == 0 then
    n = n + 1
    local ref = string.format("%s-%d-%d", run, tid, n)
    headers["Idempotency-Key"] = ref
    local body = string.format(
      '{"organisationId":"%s","mentorId":"%s","menteeRef":"%s","format":"one_to_one","targetGroup":"children"}',
      org, mentor, ref)
    return wrk.format("POST", "/api/v1/mentorships", headers, body)
  end
  headers["If-Match"] = etag
  local to = steps[step]
  local body
  if to == "ended" then
    body = '{"to":"ended","reason":"goal_reached"}'
  else
    body = string.format('{"to":"%s"}', to)
  end
  return wrk.format("POST", "/api/v1/mentorships/" .. id .. "/transitions", headers, body)
end

function response(status, headers, body)
  if status ~= 200 and status ~= 201 then
    errors = errors + 1
    step = 0
    return
  end
  etag = headers["ETag"] or headers["etag"]
  if step == 0 then
    id = string.match(body, '"id":"([%x%-]+)"')
    created = created + 1
    step = 1
  else
    moves = moves + 1
    if step == #steps then
      finished = finished + 1
      step = 0
    else
      step = step + 1
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  local c, f, m = 0, 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    c = c + t:get("created")
    f = f + t:get("finished")
    m = m + t:get("moves")
  end
  io.write(string.format("BENCH rps=%.1f p50=%.2f p99=%.2f errors=%d requests=%d created=%d finished=%d moves=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e, summary.requests, c, f, m))
end
