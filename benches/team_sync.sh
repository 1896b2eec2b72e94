#!/usr/bin/env bash
# Team-sync benchmark (issue 4 point 13, docs/benchmarks.md): push a 10,000-member group to a
# tenant with team sync on and three mappings, and time it until every member's effective
# access is recomputed and stored, on PostgreSQL with Redis, in the production topology (one
# `serve scim`, one `serve authz` for the admin API, one `serve sync` worker). Not a test.
#
#   benches/team_sync.sh                      # builds target/release/scimgate first
#   SCIMGATE_BIN=target/release/scimgate benches/team_sync.sh
#
# Knobs (environment):
#   PGPORT=5432 / REDIS_PORT=6379   the local services (127.0.0.1; PostgreSQL user postgres)
#   BENCH_USERS=10000               members in the tenant and in the pushed group
#   BENCH_RUNS=3                    runs of each shape, each on a fresh tenant
#   BENCH_SHAPES="post patch"       one POST with every member / POST then PATCHes of 1,000
#   BENCH_KEEP=1                    keep the work directory (logs)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}
BENCH_USERS=${BENCH_USERS:-10000}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_SHAPES=${BENCH_SHAPES:-"post patch"}

log() { printf '[bench-sync %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in psql redis-cli python3 curl; do
  command -v "$tool" >/dev/null || die "$tool is required (apt-get install -y postgresql-client redis-tools python3 curl)"
done
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING >/dev/null 2>&1 || die "no Redis on 127.0.0.1:$REDIS_PORT"

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

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scimgate-bench-sync.XXXXXX")
DB="scimgate_bench_sync_$(date +%s)_$$"
PREFIX="bench-sync-$$:"
PSQL=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
PIDS=()

cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" 2>/dev/null || true
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "$PREFIX*" \
    | xargs -r redis-cli -h 127.0.0.1 -p "$REDIS_PORT" DEL >/dev/null 2>&1 || true
  if [[ "${BENCH_KEEP:-0}" = 1 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DB\"" || die "cannot create database $DB"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }

export SCIMGATE__DATABASE__URL="postgres://postgres@127.0.0.1:$PGPORT/$DB"
export SCIMGATE__REDIS__URL="redis://127.0.0.1:$REDIS_PORT"
export SCIMGATE__REDIS__KEY_PREFIX=$PREFIX
export SCIMGATE__SECURITY__TOKEN_HASH_KEY; SCIMGATE__SECURITY__TOKEN_HASH_KEY=$(secret)
export SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY; SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY=$(secret)
export SCIMGATE__ADMIN__OPERATOR_TOKEN; SCIMGATE__ADMIN__OPERATOR_TOKEN=$(secret)
export SCIMGATE__LOG__LEVEL=${SCIMGATE__LOG__LEVEL:-info}
"$BIN" migrate >/dev/null

start() { # start PART PORT
  SCIMGATE__HTTP__ADDRESS="127.0.0.1:$2" "$BIN" serve --no-migrate "$1" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  local pid=$!
  for _ in $(seq 150); do
    curl -fsS --max-time 1 "http://127.0.0.1:$2/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$1.log" >&2; die "serve $1 exited"; }
    sleep 0.2
  done
  die "serve $1 not ready on port $2"
}
SCIM_PORT=$(free_port); ADMIN_PORT=$(free_port); SYNC_PORT=$(free_port)
start scim "$SCIM_PORT"; start authz "$ADMIN_PORT"; start sync "$SYNC_PORT"
log "serve scim :$SCIM_PORT, serve authz :$ADMIN_PORT, serve sync :$SYNC_PORT on database $DB, Redis prefix $PREFIX"

RESULTS=()
for shape in $BENCH_SHAPES; do
  for run in $(seq "$BENCH_RUNS"); do
    log "run $run ($shape): seeding $BENCH_USERS members, then pushing the group"
    line=$(python3 "$HERE/team_sync.py" --scim-port "$SCIM_PORT" --admin-port "$ADMIN_PORT" \
      --operator-token "$SCIMGATE__ADMIN__OPERATOR_TOKEN" --dsn "host=127.0.0.1 port=$PGPORT user=postgres dbname=$DB" \
      --redis-port "$REDIS_PORT" --redis-stream "${PREFIX}sync:jobs" --users "$BENCH_USERS" --shape "$shape" --run "$run")
    log "$line"
    RESULTS+=("$line")
  done
done

python3 - "$BENCH_USERS" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$("${PSQL[@]}" -d "$DB" -Atc 'SHOW server_version')" \
  "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" INFO server | awk -F: '/^redis_version/ {print $2}' | tr -d '\r')" \
  "${RESULTS[@]}" <<'EOF'
import json, statistics, sys, time
users, commit, ncpu, load, pg, redis, *lines = sys.argv[1:]
runs = [json.loads(l) for l in lines]
print(f"\n## team sync: a {int(users):,}-member group pushed until every member's access is stored "
      f"({time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, commit {commit})\n")
print(f"machine: {ncpu} CPUs; PostgreSQL {pg}, Redis {redis} on 127.0.0.1; load average after: {load}\n")
print("| shape | run | requests | push s | sync after push s | total s | jobs | jobs/s | members/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    print(f"| {r['shape']} | {r['run']} | {r['requests']} | {r['push_s']:.2f} | {r['sync_after_push_s']:.2f} | "
          f"**{r['total_s']:.2f}** | {r['jobs']} | {r['jobs_per_s']:.1f} | {r['members_per_s']:,} |")
print()
for shape in sorted({r["shape"] for r in runs}):
    t = [r["total_s"] for r in runs if r["shape"] == shape]
    print(f"{shape}: median {statistics.median(t):.2f} s, min {min(t):.2f} s, max {max(t):.2f} s over {len(t)} runs")
EOF
