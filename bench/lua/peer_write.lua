-- The write mix of bench/lua/write.lua against the peer (PostGraphile): each connection
-- creates a mentorship (createMentorship, the id and timestamps chosen here, as Verbund
-- chooses them) and moves it requested → matched → active → paused → active → ended with
-- updateMentorshipByRowId, then starts the next. The peer keeps no statistics, audit trail
-- or change feed and checks no status machine or version: it writes the rows only.
-- Environment: ORG, MENTOR, RUN (a tag for the mentee references).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

-- status, the date column it sets, end reason
local steps = {
  { "matched", "matchedOn" }, { "active", "startedOn" }, { "paused" }, { "active" },
  { "ended", "endedOn", "goal_reached" },
}

function init(args)
  errors = 0
  created = 0
  finished = 0
  moves = 0
  step = 0
  n = 0
  id = nil
  org = os.getenv("ORG")
  mentor = os.getenv("MENTOR")
  run = os.getenv("RUN") or "peer"
  math.randomseed(os.time() + tid * 7919)
  wrk.method = "POST"
  wrk.path = "/graphql"
  wrk.headers["Content-Type"] = "application/json"
end

local function uuid()
  return string.format("%08x-%04x-7%03x-8%03x-%06x%06x", math.random(0, 0x7fffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), math.random(0, 0xfff),
    math.random(0, 0xffffff), math.random(0, 0xffffff))
end

local function now()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

function request()
  local today = os.date("!%Y-%m-%d")
  local q
  if step == 0 then
    n = n + 1
    id = uuid()
    q = string.format(
      'mutation { createMentorship(input: {mentorship: {rowId: \\"%s\\", organisationId: \\"%s\\", mentorId: \\"%s\\", menteeRef: \\"%s-%d-%d\\", format: \\"one_to_one\\", targetGroup: \\"children\\", status: \\"requested\\", requestedOn: \\"%s\\", createdAt: \\"%s\\", updatedAt: \\"%s\\"}}) { mentorship { rowId } } }',
      id, org, mentor, run, tid, n, today, now(), now())
  else
    local s = steps[step]
    local patch = string.format('status: \\"%s\\", version: %d, updatedAt: \\"%s\\"', s[1], step + 1, now())
    if s[2] then
      patch = patch .. string.format(', %s: \\"%s\\"', s[2], today)
    end
    if s[3] then
      patch = patch .. string.format(', endReason: \\"%s\\"', s[3])
    end
    q = string.format(
      'mutation { updateMentorshipByRowId(input: {rowId: \\"%s\\", mentorshipPatch: {%s}}) { mentorship { version } } }',
      id, patch)
  end
  return wrk.format(nil, nil, nil, '{"query":"' .. q .. '"}')
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
    step = 0
    return
  end
  if step == 0 then
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
