-- The write mix: each connection creates a mentorship and moves it requested → matched →
-- active → paused → active → ended, with If-Match on every move, then starts the next.
-- One connection per thread, so each thread's state is its connection's.
-- Environment: TOKEN, ORG, MENTOR, RUN (a tag for the mentee references).
dofile("bench/lua/mix.lua")

local steps = { "matched", "active", "paused", "active", "ended" }

function init(args)
  mix_init(#steps)
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
  local ok = status == 200 or status == 201
  if ok then
    etag = headers["ETag"] or headers["etag"]
    if step == 0 then
      id = string.match(body, '"id":"([%x%-]+)"')
    end
  end
  advance(ok)
end
