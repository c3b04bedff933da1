#!/usr/bin/env bash
# The benchmark: the release binary on the large data set, driven over loopback by wrk, with
# the raw-SQL equivalent of (a) and (c) measured by pgbench in the same run.
#
#   bash bench/run.sh            # PostgreSQL (127.0.0.1:5432), the target configuration
#   bash bench/run.sh --sqlite   # the embedded default (no pgbench ratios)
#   options: --reseed (load the data set again), BENCH_DURATION=20 BENCH_CONNECTIONS=16
#   BENCH_ONLY=e (the write mix alone; BENCH_ONLY=i: the write mix and the import), BENCH_BIN=path (a binary built elsewhere, e.g. an
#   older commit for an A/B run), BENCH_WEBHOOK=0 (no webhook subscription during the write
#   mix; it is on by default and the delivery lag is reported)
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
prefix="$(curl -s "$base/api/v1/offerings?first=1&category=mentorship" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["postcode"][:3])')"

graphql_body='{"query":"{ organisations(first: 50) { edges { node { name contactCount offeringCount mentorshipCount } } } }"}'

# wrk with a workload: name, then env assignments for the Lua script.
run_wrk() {
  local threads=2 c="$conns" script=bench/lua/read.lua
  if [ "$1" = write ]; then threads=2; c=2; script=bench/lua/write.lua; fi
  shift
  env "$@" wrk -t"$threads" -c"$c" -d"${duration}s" --latency -s "$script" "$base" | sed -n 's/^BENCH //p'
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

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
  pgb() { pgbench -h 127.0.0.1 -U postgres -n -c "$conns" -j 2 -T "$duration" -f "$1" verbund_bench 2>/dev/null \
            | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
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
} | tee "$result"
