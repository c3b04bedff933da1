-- Shared by the two write mixes (bench/lua/write.lua against Verbund, bench/lua/peer_write.lua
-- against PostGraphile; each loads it with dofile from the repository root): one connection
-- per thread, each thread creating a mentorship and following it through its moves; the
-- counters and the summary line the benchmark reads.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

-- The counters of a thread whose sequences have `moves_per_sequence` moves after the create.
function mix_init(moves_per_sequence)
  errors = 0
  created = 0
  finished = 0
  moves = 0
  step = 0
  nsteps = moves_per_sequence
end

-- After an answer: a failed one starts a new sequence; a create moves to the first move; the
-- last move finishes the sequence.
function advance(ok)
  if not ok then
    errors = errors + 1
    step = 0
  elseif step == 0 then
    created = created + 1
    step = 1
  else
    moves = moves + 1
    if step == nsteps then
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
