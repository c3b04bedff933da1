-- The write mix of bench/lua/write.lua against the peer (PostGraphile): each connection
-- creates a mentorship (createMentorship, the id and timestamps chosen here, as Verbund
-- chooses them) and moves it requested → matched → active → paused → active → ended with
-- updateMentorshipByRowId, then starts the next. The peer keeps no statistics, audit trail
-- or change feed and checks no status machine or version: it writes the rows only.
-- Environment: ORG, MENTOR, RUN (a tag for the mentee references).
dofile("bench/lua/mix.lua")

-- status, the date column it sets, end reason
local steps = {
  { "matched", "matchedOn" }, { "active", "startedOn" }, { "paused" }, { "active" },
  { "ended", "endedOn", "goal_reached" },
}

function init(args)
  mix_init(#steps)
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
  advance(status == 200 and not string.find(body, '"errors"', 1, true))
end
