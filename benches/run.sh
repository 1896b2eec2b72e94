#!/usr/bin/env bash
# scimgate benchmarks (docs/benchmarks.md): group membership PATCH latency against group size
# (issue target 13) and userName-filter throughput with wrk (issue target 14), on PostgreSQL.
# Not part of the test suite. Everything runs on 127.0.0.1 and stops by itself.
#
#   benches/run.sh                      # builds target/release/scimgate first
#   SCIMGATE_BIN=/path/to/scimgate benches/run.sh
#
# Knobs (environment):
#   PGPORT=5432                  PostgreSQL on 127.0.0.1, user postgres (trust auth)
#   BENCH_USERS=20000            users seeded through /Bulk
#   BENCH_SMALL=100              members of the small group
#   BENCH_LARGE=20000            members of the large group
#   BENCH_PATCHES=300            PATCHes per group and response shape
#   BENCH_GETS=50                GETs per group and response shape (reference rows)
#   WRK_CONFIGS="1:4 1:8 1:16 2:16 2:32 2:64"   wrk threads:connections, one run each
#   WRK_DURATION=15              seconds per wrk run
#   WRK_REPEAT=1                 runs per wrk row; the row shows the least disturbed one
#   WRK_BASELINE_CONFIG=1:16     threads:connections of the baseline runs (healthz, 401, ...)
#   WRK_BASELINE_DURATION=10     seconds per baseline run; BENCH_BASELINES=0 skips them
#   SCIMGATE__DATABASE__MAX_CONNECTIONS=16   the server's pool size
#   BENCH_PGBENCH=1              (c) the same statements straight from pgbench, no HTTP server
#   BENCH_KEEP=1                 keep the work directory (logs, seed state)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

PGPORT=${PGPORT:-5432}
BENCH_USERS=${BENCH_USERS:-20000}
BENCH_SMALL=${BENCH_SMALL:-100}
BENCH_LARGE=${BENCH_LARGE:-20000}
BENCH_PATCHES=${BENCH_PATCHES:-300}
BENCH_GETS=${BENCH_GETS:-50}
WRK_CONFIGS=${WRK_CONFIGS:-"1:4 1:8 1:16 2:16 2:32 2:64"}
WRK_DURATION=${WRK_DURATION:-15}
WRK_REPEAT=${WRK_REPEAT:-1}
WRK_BASELINE_CONFIG=${WRK_BASELINE_CONFIG:-1:16}
WRK_BASELINE_DURATION=${WRK_BASELINE_DURATION:-10}
BENCH_BASELINES=${BENCH_BASELINES:-1}
BENCH_PGBENCH=${BENCH_PGBENCH:-1}
POOL=${SCIMGATE__DATABASE__MAX_CONNECTIONS:-16}

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in psql wrk python3 curl; do
  command -v "$tool" >/dev/null || die "$tool is required (apt-get install -y postgresql-client wrk python3 curl)"
done

# --- the binary -------------------------------------------------------------------------------
if [[ -n "${SCIMGATE_BIN:-}" ]]; then
  BIN=$SCIMGATE_BIN
else
  log "building scimgate (release)"
  (cd "$ROOT" && cargo build --release -p scimgate)
  target=${CARGO_TARGET_DIR:-$ROOT/target}
  [[ "$target" = /* ]] || target=$ROOT/$target
  BIN=$target/release/scimgate
fi
[[ -x "$BIN" ]] || die "no scimgate binary at $BIN"

# --- work directory, database, cleanup --------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scimgate-bench.XXXXXX")
DB="scimgate_bench_$(date +%s)_$$"
PSQL=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
SERVER_PID=""

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" 2>/dev/null \
    && log "dropped database $DB" || log "warning: could not drop database $DB"
  if [[ "${BENCH_KEEP:-0}" = 1 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DB\"" || die "cannot create database $DB on 127.0.0.1:$PGPORT"
log "database $DB created"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SCIMGATE__DATABASE__URL="postgres://postgres@127.0.0.1:$PGPORT/$DB"
export SCIMGATE__HTTP__ADDRESS="127.0.0.1:$PORT"
export SCIMGATE__SECURITY__TOKEN_HASH_KEY
SCIMGATE__SECURITY__TOKEN_HASH_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
# `serve` runs the authorization server too, which seals its signing keys with this key.
export SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY
SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
export SCIMGATE__LOG__LEVEL=${SCIMGATE__LOG__LEVEL:-warn}
export SCIMGATE__DATABASE__MAX_CONNECTIONS=$POOL

last_json() { tail -n 1 | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

"$BIN" migrate >/dev/null
TENANT_ID=$("$BIN" tenant create bench --json | last_json id)
TOKEN=$("$BIN" token create --tenant bench --json | last_json token)
log "tenant bench ($TENANT_ID) and a token created"

# --- machine ---------------------------------------------------------------------------------
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
PGVERSION=$("${PSQL[@]}" -d "$DB" -Atc 'SHOW server_version')
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

# --- server ----------------------------------------------------------------------------------
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 150); do
  curl -fsS --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited"; }
  sleep 0.2
done
curl -fsS --max-time 1 "http://127.0.0.1:$PORT/readyz" >/dev/null || die "the server is not ready"
log "scimgate serving on 127.0.0.1:$PORT (pid $SERVER_PID, pool $POOL)"

# --- seed ------------------------------------------------------------------------------------
log "seeding $BENCH_USERS users, groups of $BENCH_SMALL and $BENCH_LARGE members"
SEED_START=$SECONDS
timeout 1800 python3 "$HERE/seed.py" --port "$PORT" --token "$TOKEN" --out "$WORK" \
  --users "$BENCH_USERS" --small "$BENCH_SMALL" --large "$BENCH_LARGE"
SEED_SECONDS=$((SECONDS - SEED_START))
"${PSQL[@]}" -d "$DB" -c 'VACUUM ANALYZE' >/dev/null

# --- (a) PATCH latency -----------------------------------------------------------------------
log "PATCH latency: $BENCH_PATCHES per group and shape"
PATCH_TABLE=$(timeout 1800 python3 "$HERE/patch_latency.py" --state "$WORK/state.json" \
  -n "$BENCH_PATCHES" --gets "$BENCH_GETS" --json "$WORK/patch.json")

# --- (b) wrk ---------------------------------------------------------------------------------
# Sanity: a random userName filter finds exactly that user.
SAMPLE=$(shuf -n 1 "$WORK/filter_paths")
TOTAL=$(curl -fsS --max-time 5 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$SAMPLE" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalResults"])')
[[ "$TOTAL" = 1 ]] || die "the filter $SAMPLE found $TOTAL users, expected 1"
ONE_USER_ID=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["groups"]["small"]["probe"])' "$WORK/state.json")

HZ=$(getconf CLK_TCK)
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU of this database's backends only (other databases on the cluster are "other").
pg_ticks() {
  local sum=0 p
  for p in $("${PSQL[@]}" -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do
    sum=$((sum + $(proc_ticks "$p")))
  done
  echo "$sum"
}
# Busy and total jiffies of the whole machine (all CPUs).
machine_ticks() { awk '/^cpu / {busy=$2+$3+$4+$7+$8+$9; total=busy+$5+$6; print busy, total}' /proc/stat; }

ROWS=()
# run_wrk LABEL THREADS CONNECTIONS SECONDS TOKEN MODE [FILE]
run_wrk() {
  local label=$1 t=$2 c=$3 d=$4 token=$5 mode=$6 file=${7:-}
  local s0 p0 m0 s1 p1 m1 out line
  s0=$(proc_ticks "$SERVER_PID"); p0=$(pg_ticks); m0=$(machine_ticks)
  # wrk under a wrapper that reports wrk's own CPU time (rusage of its child).
  out=$(python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"WRK_CPU {u.ru_utime + u.ru_stime:.2f}")
sys.exit(r.returncode)' wrk -t "$t" -c "$c" -d "${d}s" --timeout 5s --latency -s "$HERE/filter.lua" \
    "http://127.0.0.1:$PORT" -- "$token" "$mode" "$file")
  s1=$(proc_ticks "$SERVER_PID"); p1=$(pg_ticks); m1=$(machine_ticks)
  echo "$out" >>"$WORK/wrk.log"
  line=$(grep '^BENCH_RESULT' <<<"$out") || die "wrk printed no result: $out"
  wrk_cpu=$(awk '/^WRK_CPU/ {print $2}' <<<"$out")
  row=$(python3 - "$label" "$t" "$c" "$line" "$s0" "$s1" "$p0" "$p1" "$m0" "$m1" "$HZ" "$wrk_cpu" "$(nproc)" <<'EOF'
import sys
label, t, c, line, s0, s1, p0, p1, m0, m1, hz, wrk_cpu, ncpu = sys.argv[1:]
kv = dict(x.split("=") for x in line.split()[1:])
secs = float(kv["seconds"])
def pct(a, b): return 100.0 * (int(b) - int(a)) / int(hz) / secs
b0, t0 = map(int, m0.split()); b1, t1 = map(int, m1.split())
busy = 100.0 * (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
srv, pg = pct(s0, s1), pct(p0, p1)
wrk = 100.0 * float(wrk_cpu) / secs
other = max(0.0, busy * int(ncpu) - srv - pg - wrk)
print(f"{other:.1f}\t| {label} | -t{t} -c{c} | {float(kv['rps']):,.0f} | {float(kv['p50_ms']):.2f} | {float(kv['p90_ms']):.2f} | "
      f"{float(kv['p99_ms']):.2f} | {float(kv['max_ms']):.1f} | {kv['non2xx']} | {kv['socket_errors']} | "
      f"{srv:.0f}% | {pg:.0f}% | {wrk:.0f}% | {other:.0f}% |")
EOF
)
  log "wrk $label -t$t -c$c: ${row#*$'\t'}"
  echo "$row"
}

# run_best ARGS...: WRK_REPEAT runs of run_wrk; keeps the least disturbed one (the lowest CPU
# use by other processes), since the machine may be shared.
run_best() {
  local best="" r row
  for r in $(seq "$WRK_REPEAT"); do
    row=$(run_wrk "$@")
    if [[ -z "$best" ]] || awk -v a="${row%%$'\t'*}" -v b="${best%%$'\t'*}" 'BEGIN {exit !(a < b)}'; then
      best=$row
    fi
  done
  ROWS+=("${best#*$'\t'}")
}

LOAD_BEFORE_WRK=$(cut -d' ' -f1-3 /proc/loadavg)
log "wrk warm-up (5 s); load average $LOAD_BEFORE_WRK"
wrk -t 1 -c 8 -d 5s --timeout 5s -s "$HERE/filter.lua" "http://127.0.0.1:$PORT" -- "$TOKEN" filter "$WORK/filter_paths" >/dev/null

for cfg in $WRK_CONFIGS; do
  run_best "userName filter" "${cfg%%:*}" "${cfg##*:}" "$WRK_DURATION" "$TOKEN" filter "$WORK/filter_paths"
done

if [[ "$BENCH_BASELINES" = 1 ]]; then
  bt=${WRK_BASELINE_CONFIG%%:*} bc=${WRK_BASELINE_CONFIG##*:} bd=$WRK_BASELINE_DURATION
  run_best "/healthz (no auth, no DB)" "$bt" "$bc" "$bd" - /healthz
  run_best "401 no credential (no DB)" "$bt" "$bc" "$bd" - /scim/v2/Users
  run_best "401 unknown token (HMAC + 1 query)" "$bt" "$bc" "$bd" "scimgate_0000000000000000000000000000000000000000000" /scim/v2/Users
  run_best "ResourceTypes/User (auth only)" "$bt" "$bc" "$bd" "$TOKEN" /scim/v2/ResourceTypes/User
  run_best "Users/{id} (auth + 1 query)" "$bt" "$bc" "$bd" "$TOKEN" "/scim/v2/Users/$ONE_USER_ID"
  run_best "userName filter" "$bt" "$bc" "$bd" "$TOKEN" filter "$WORK/filter_paths"
fi

# --- (c) the database round trips alone ------------------------------------------------------
# What PostgreSQL (plus a lean C client) sustains for the statements one filter request sends,
# with no HTTP server: as the server sends them today (pool check-out ping, token lookup, ping,
# filter), without the pings, and the filter alone. Same pool size, one client thread.
PG_ROWS=()
if [[ "$BENCH_PGBENCH" = 1 ]] && command -v pgbench >/dev/null; then
  mkdir -p "$WORK/pgbench"
  TOKEN_HASH=$("${PSQL[@]}" -d "$DB" -Atc "SELECT token_hash FROM scim_tokens LIMIT 1")
  UNAME=$("${PSQL[@]}" -d "$DB" -Atc "SELECT user_name_lc FROM members ORDER BY random() LIMIT 1")
  PING='SELECT 1;'
  AUTH='SELECT scim_tokens.id, scim_tokens.tenant_id, scim_tokens.token_hash, scim_tokens.created, scim_tokens.expires, scim_tokens.revoked, tenants.id, tenants.slug, tenants.name, tenants.settings, tenants.created FROM (scim_tokens INNER JOIN tenants ON (scim_tokens.tenant_id = tenants.id)) WHERE (scim_tokens.token_hash = :hash) LIMIT 1;'
  FILTER='SELECT members.id, members.tenant_id, members.resource, members.state, members.provenance, members.scim_managed, members.scim_visible, members.created, members.last_modified, members.version, COUNT(*) OVER () AS total FROM members WHERE members.tenant_id = :tenant AND members.scim_visible = true AND members.user_name_lc = :uname ORDER BY members.created, members.id LIMIT 100 OFFSET 0;'
  printf '%s\n' "$PING" "$AUTH" "$PING" "$FILTER" >"$WORK/pgbench/4_as_today.sql"
  printf '%s\n' "$AUTH" "$FILTER" >"$WORK/pgbench/2_without_pings.sql"
  printf '%s\n' "$FILTER" >"$WORK/pgbench/1_filter_only.sql"
  for script in 4_as_today 2_without_pings 1_filter_only; do
    tps=0 lat=""
    for _ in $(seq "$WRK_REPEAT"); do  # the best of WRK_REPEAT runs
      out=$(pgbench -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$POOL" -j 1 -T "$WRK_BASELINE_DURATION" \
        -D "hash=$TOKEN_HASH" -D "tenant=$TENANT_ID" -D "uname=$UNAME" -f "$WORK/pgbench/$script.sql" "$DB" 2>&1) \
        || die "pgbench failed: $out"
      t=$(awk '/^tps/ {print $3}' <<<"$out")
      if awk -v a="$t" -v b="$tps" 'BEGIN {exit !(a > b)}'; then
        tps=$t lat=$(awk '/latency average/ {print $4}' <<<"$out")
      fi
    done
    PG_ROWS+=("| ${script#*_} | ${script%%_*} | $(printf '%.0f' "$tps") | $lat |")
    log "pgbench $script: $tps tps, $lat ms"
  done
fi

# --- report ----------------------------------------------------------------------------------
cat <<EOF

## scimgate benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), commit $COMMIT)

machine: $(nproc) CPUs ($CPU_MODEL), $MEM; PostgreSQL $PGVERSION on 127.0.0.1; $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)
data: $BENCH_USERS users (seeded through /Bulk in ${SEED_SECONDS} s, including the groups), groups of $BENCH_SMALL and $BENCH_LARGE members; server pool $POOL connections, log level $SCIMGATE__LOG__LEVEL

### (a) group membership PATCH latency, one keep-alive connection, alternating remove/add of one member

$PATCH_TABLE

### (b) wrk, keep-alive, ${WRK_DURATION} s per run (baselines ${WRK_BASELINE_DURATION} s)

Load average before the wrk runs: $LOAD_BEFORE_WRK. CPU columns are % of one core over the run ($(nproc) cores = $(( $(nproc) * 100 ))%); "other" is everything else busy on the machine (other processes, interrupts). Each row is the least disturbed (lowest "other") of $WRK_REPEAT run(s).

| request | wrk | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | socket errors | server CPU | PostgreSQL CPU | wrk CPU | other CPU |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${ROWS[@]}")

wrk command: wrk -t<T> -c<C> -d${WRK_DURATION}s --timeout 5s --latency -s benches/filter.lua http://127.0.0.1:<port> -- <token> filter <filter_paths>
EOF
if [[ ${#PG_ROWS[@]} -gt 0 ]]; then
  cat <<EOF

### (c) the filter request's statements from pgbench alone (no HTTP server): pgbench -n -M prepared -c $POOL -j 1 -T $WRK_BASELINE_DURATION, best of $WRK_REPEAT

| statements per request | round trips | requests/s | latency avg ms |
|---|---:|---:|---:|
$(printf '%s\n' "${PG_ROWS[@]}")
EOF
fi
