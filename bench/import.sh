#!/usr/bin/env bash
# The spreadsheet import row of the benchmark: 100,000 mentorship rows (a CSV as German
# Excel saves it: `;`, CRLF, German dates) imported by one member organisation's token into
# a database of its own with the demo data, on PostgreSQL (127.0.0.1:5432) or SQLite. The
# server is started for the import alone, so its peak RSS is the import's.
#
#   bash bench/import.sh [--sqlite]     # ROWS=100000, BENCH_BIN=path (else a release build)
#
# Prints one line (also appended to bench/.data/import.md): rows, file size, time,
# rows/s, the server's peak RSS, what the answer said and what the database holds after.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

db=postgres
[ "${1:-}" = --sqlite ] && db=sqlite
rows="${ROWS:-100000}"
if [ -n "${BENCH_BIN:-}" ]; then
  bin="$BENCH_BIN"
else
  cargo build --release -q -p verbund-gateway
  bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/verbund"
fi
data="$(pwd)/bench/.data"
mkdir -p "$data"
if [ "$db" = postgres ]; then
  dropdb -h 127.0.0.1 -U postgres --if-exists --force verbund_import
  createdb -h 127.0.0.1 -U postgres verbund_import
  url="postgres://postgres@127.0.0.1:5432/verbund_import"
  q() { psql -h 127.0.0.1 -U postgres -d verbund_import -tAc "$1"; }
else
  rm -f "$data"/import.db*
  url="sqlite://$data/import.db"
  q() { sqlite3 "$data/import.db" "$1"; }
fi

out="$data/import-server.out"
# Rate limits off: the row measures the import, not the limiter (an import of 100,000 rows
# costs 100,000 / import_rows_per_token tokens and would leave its subject a debt).
VERBUND_RATE_LIMIT__ENABLED=false VERBUND_LOG=warn "$bin" --database "$url" serve --bind 127.0.0.1:0 >"$out" 2>"$data/import-server.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
base="$(wait_ready "$out" 3000)"

admin="$("$bin" --database "$url" token --role federal_admin --ttl 2h)"
# A member organisation of the demo with volunteers and offerings: its token imports, its
# volunteers mentor, its offerings are named.
read -r org mentors <<<"$(curl -s -H "authorization: Bearer $admin" "$base/api/v1/volunteers?first=100" \
  | python3 -c '
import json, sys
vs = json.load(sys.stdin)["items"]
org = vs[0]["organisationId"]
print(org, ",".join(v["id"] for v in vs if v["organisationId"] == org))')"
# Only the chosen organisation's offerings.
offerings="$(curl -s -H "authorization: Bearer $admin" "$base/api/v1/offerings?first=100" | python3 -c '
import json, sys
print(",".join(o["id"] for o in json.load(sys.stdin)["items"] if o["organisationId"] == sys.argv[1]) or "-")' "$org")"
token="$("$bin" --database "$url" token --role org_admin --organisation "$org" --ttl 2h)"

file="$data/import-$rows.csv"
python3 - "$file" "$rows" "$mentors" "$offerings" <<'EOF'
import datetime, random, sys
path, n, mentors, offerings = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4].split(",")
offerings = [o for o in offerings if o != "-"]
rnd = random.Random(1)
groups = ["refugees", "children", "young_people", "families", "older_people", "women", "other"]
day = lambda d: (datetime.date(2022, 1, 1) + datetime.timedelta(days=d)).strftime("%d.%m.%Y")
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write("\ufeffexternalId;Mentor;Angebot;Mentee;Format;Zielgruppe;Status;Angefragt am;Vermittelt am;Begonnen am;Beendet am;Beendigungsgrund\r\n")
    for i in range(n):
        d = rnd.randrange(0, 1000)
        status = rnd.choice(["requested", "matched", "active", "active", "ended"])
        mentor = rnd.choice(mentors) if status != "requested" else ""
        offering = rnd.choice(offerings) if offerings and rnd.random() < 0.5 else ""
        matched = day(d + 7) if status != "requested" else ""
        started = day(d + 14) if status in ("active", "ended") else ""
        ended = day(d + 200) if status == "ended" else ""
        reason = "goal_reached" if status == "ended" else ""
        f.write(f"IMP-{i};{mentor};{offering};M-{i};one_to_one;{rnd.choice(groups)};{status};{day(d)};{matched};{started};{ended};{reason}\r\n")
EOF
bytes=$(stat -c %s "$file")
before=$(q "SELECT count(*) FROM mentorships")
t0=$(date +%s%N)
answer=$(curl -s -m 600 -w ' HTTP %{http_code}' -H "authorization: Bearer $token" \
  -H 'content-type: text/csv' --data-binary @"$file" "$base/api/v1/mentorships/import")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
after=$(q "SELECT count(*) FROM mentorships")
# Importing the same file again changes nothing.
t0=$(date +%s%N)
again=$(curl -s -m 600 -w ' HTTP %{http_code}' -H "authorization: Bearer $token" \
  -H 'content-type: text/csv' --data-binary @"$file" "$base/api/v1/mentorships/import")
again_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
trap - EXIT
drift_ok=yes
"$bin" --database "$url" check-statistics >/dev/null 2>&1 || drift_ok=NO
line="$rows mentorship rows ($((bytes / 1024)) kB CSV, $db): $(python3 -c "print(f'{$ms/1000:.1f} s, {$rows*1000/max($ms,1):,.0f} rows/s')"); server peak RSS $((rss_kb / 1024)) MB; answer ${answer//$'\n'/ }; rows stored: $((after - before)); the same file again: ${again//$'\n'/ } in $(python3 -c "print(f'{$again_ms/1000:.1f} s')"); statistics equal a recount: $drift_ok"
echo "$line" | tee -a "$data/import.md"
