#!/usr/bin/env bash
# Runs Verbund, the member CRM subgraph and an Apollo gateway on loopback, sends one query
# that spans both subgraphs, checks the answer, and stops everything. Needs the verbund
# binary (VERBUND_BIN; default the development build the README's `cargo run` makes, else
# the release build) and `npm ci` in this folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${VERBUND_BIN:-}"
if [ -z "$bin" ]; then
  bin="$root/target/debug/verbund"
  [ -x "$bin" ] || bin="$root/target/release/verbund"
fi
if [ ! -x "$bin" ]; then
  echo "no verbund binary at $bin: run 'cargo build' first, or set VERBUND_BIN" >&2
  exit 1
fi
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export NODE_ENV=production
# exec: the recorded pid is the server's own, so the cleanup stops it (not just a subshell).
(cd "$work" && exec "$bin" serve --bind 127.0.0.1:0 > "$work/verbund.out" 2> "$work/verbund.err") &
pids+=($!)
for _ in $(seq 1 120); do grep -q '^listening on ' "$work/verbund.out" 2>/dev/null && break; sleep 0.5; done
verbund_url="$(sed -n 's/^listening on //p' "$work/verbund.out")/graphql"
echo "verbund at $verbund_url"

export CRM_PORT="${CRM_PORT:-4701}" GATEWAY_PORT="${GATEWAY_PORT:-4700}"
VERBUND_SUBGRAPH_URL="$verbund_url" CRM_SUBGRAPH_URL="http://127.0.0.1:$CRM_PORT/graphql" \
  node "$here/compose.mjs" "$work/supergraph.graphql"
node "$here/crm-subgraph.mjs" > "$work/crm.out" 2>&1 &
pids+=($!)
node "$here/gateway.mjs" "$work/supergraph.graphql" > "$work/gateway.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do grep -q 'gateway at' "$work/gateway.out" 2>/dev/null && grep -q 'crm subgraph at' "$work/crm.out" 2>/dev/null && break; sleep 0.5; done

token="$(cd "$work" && "$bin" token --role federal_admin --ttl 10m)"
query='{"query":"{ organisations(first: 3) { totalCount edges { node { name mentorshipCount crmAccountManager openVolunteerRequests } } } }"}'
answer="$(curl -sf "http://127.0.0.1:$GATEWAY_PORT/" -H 'content-type: application/json' -H "authorization: Bearer $token" -d "$query")"
echo "$answer"
echo "$answer" | node -e '
  const a = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (a.errors) { console.error("gateway errors:", JSON.stringify(a.errors)); process.exit(1); }
  const n = a.data.organisations.edges[0].node;
  if (typeof n.name !== "string" || typeof n.crmAccountManager !== "string" || typeof n.mentorshipCount !== "number") process.exit(1);
  console.log("one query answered by both subgraphs through the gateway");
'
