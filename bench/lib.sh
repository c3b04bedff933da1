# Shared by the benchmark scripts (sourced).

# Waits until the server that writes its address to the file $1 ("listening on …") answers
# /readyz, trying at most $2 times, 10 ms apart; prints its base URL (empty if it never
# answered).
wait_ready() {
  local out="$1" tries="$2" base=""
  for _ in $(seq 1 "$tries"); do
    base="$(sed -n 's/^listening on //p' "$out")"
    if [ -n "$base" ] && curl -sf "$base/readyz" >/dev/null; then break; fi
    sleep 0.01
  done
  echo "$base"
}
