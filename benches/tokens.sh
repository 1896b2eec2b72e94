#!/usr/bin/env bash
# Token endpoint benchmark (docs/benchmarks.md), not part of the test suite: client_credentials
# access tokens per second from scimgate's POST /oauth/token, then, in the same run and with the
# same wrk settings, from node `oidc-provider` (benches/oidc-provider: one confidential client,
# client_credentials, ES256 JWT access tokens through resource indicators). wrk runs on the same
# machine, keep-alive. Everything listens on 127.0.0.1 and stops by itself.
#
#   benches/tokens.sh                              # builds target/release/scimgate first
#   SCIMGATE_BIN=target/release/scimgate benches/tokens.sh
#   BENCH_DATABASE=postgres BENCH_REDIS=1 SCIMGATE_BIN=target/release/scimgate benches/tokens.sh
#
# Knobs (environment):
#   SCIMGATE_BIN=                  the binary; unset → cargo build --release -p scimgate
#   BENCH_DATABASE=sqlite          sqlite (embedded, a file in a temp directory) or postgres
#   PGPORT=5432                    PostgreSQL on 127.0.0.1, user postgres (trust auth); a fresh
#                                  database is created and dropped
#   BENCH_REDIS=0                  1 → SCIMGATE__REDIS__URL=$BENCH_REDIS_URL
#   BENCH_REDIS_URL=redis://127.0.0.1:6379
#   WRK_THREADS="1 2"              wrk threads, one run per value (each server)
#   WRK_CONNECTIONS=10             wrk connections (keep-alive)
#   WRK_DURATION=15                seconds per measured run
#   WRK_WARMUP=5                   seconds of warm-up per server (and oidc-provider process count)
#   WRK_REPEAT=1                   runs per row; the row shows the least disturbed one
#   WRK_CHECK=fast                 fast: the non-200 column is wrk's own count of statuses >= 400
#                                  ("Non-2xx or 3xx responses"; token endpoints never redirect);
#                                  count: token.lua checks every answer in Lua (200 and an
#                                  access_token), which costs wrk ~10 µs more CPU per request on
#                                  this 2-core machine, CPU the servers then lack. Either way one
#                                  request is checked with curl before each run (200, ES256 JWT).
#   BENCH_BODY='grant_type=client_credentials&scope=scim%3Aread+scim%3Awrite'   the form body,
#                                  the same for both servers (oidc-provider grants no scope
#                                  unless asked; its resource comes from defaultResource)
#   BENCH_OIDC=1                   0 → scimgate only
#   OIDC_WORKERS="1 2"             oidc-provider process counts (node:cluster), one set of runs each
#   SCIMGATE__LOG__LEVEL=warn      the server's log level
#   SCIMGATE__DATABASE__MAX_CONNECTIONS   the server's pool size (server default when unset)
#   BENCH_KEEP=1                   keep the work directory (logs, wrk output)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

BENCH_DATABASE=${BENCH_DATABASE:-sqlite}
PGPORT=${PGPORT:-5432}
BENCH_REDIS=${BENCH_REDIS:-0}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
WRK_THREADS=${WRK_THREADS:-"1 2"}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-10}
WRK_DURATION=${WRK_DURATION:-15}
WRK_WARMUP=${WRK_WARMUP:-5}
WRK_REPEAT=${WRK_REPEAT:-1}
WRK_CHECK=${WRK_CHECK:-fast}
BENCH_BODY=${BENCH_BODY:-'grant_type=client_credentials&scope=scim%3Aread+scim%3Awrite'}
BENCH_OIDC=${BENCH_OIDC:-1}
OIDC_WORKERS=${OIDC_WORKERS:-"1 2"}
OIDC_DIR=$HERE/oidc-provider

log() { printf '[tokens %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$BENCH_DATABASE" in sqlite | postgres) ;; *) die "BENCH_DATABASE must be sqlite or postgres" ;; esac
case "$WRK_CHECK" in count | fast) ;; *) die "WRK_CHECK must be count or fast" ;; esac
tools=(wrk python3 curl)
[[ "$BENCH_DATABASE" = postgres ]] && tools+=(psql)
[[ "$BENCH_OIDC" = 1 ]] && tools+=(node npm)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || die "$tool is required (apt-get install -y wrk python3 curl postgresql-client nodejs npm)"
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
[[ "$BIN" = /* ]] || BIN=$PWD/$BIN

# --- work directory, database, cleanup --------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scimgate-tokens.XXXXXX")
DB="scimgate_tokens_$(date +%s)_$$"
PSQL=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
DB_CREATED=0
REDIS_PREFIX="scimgate-bench-$$:"
SERVER_PID=""

# stop_pid PID: TERM, up to 5 s, then KILL; the process's children too.
stop_pid() {
  local pid=$1 kids
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  for k in $kids; do kill -9 "$k" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$SERVER_PID"
  if [[ "$DB_CREATED" = 1 ]]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" 2>/dev/null \
      && log "dropped database $DB" || log "warning: could not drop database $DB"
  fi
  if [[ "$BENCH_REDIS" = 1 ]] && command -v redis-cli >/dev/null; then
    redis-cli -u "$BENCH_REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null \
      | xargs -r redis-cli -u "$BENCH_REDIS_URL" del >/dev/null 2>&1 || true
  fi
  if [[ "${BENCH_KEEP:-0}" = 1 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
last_json() { tail -n 1 | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

# --- machine ----------------------------------------------------------------------------------
NPROC=$(nproc)
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]] && COMMIT="$COMMIT + uncommitted changes"
WRK_VERSION=$( (wrk -v 2>&1 || true) | head -n 1 | cut -d" " -f1-2)
SCIMGATE_VERSION=$("$BIN" --version 2>/dev/null || echo scimgate)
HZ=$(getconf CLK_TCK)

# --- CPU accounting (as benches/run.sh) ----------------------------------------------------------
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# A process and its descendants (oidc-provider's cluster workers).
tree_pids() {
  local p=$1 c
  echo "$p"
  for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done
}
tree_ticks() {
  local sum=0 p
  for p in $(tree_pids "$1"); do sum=$((sum + $(proc_ticks "$p"))); done
  echo "$sum"
}
# Ticks of the helpers scimgate talks to: this database's PostgreSQL backends, Redis.
REDIS_PID=""
helper_ticks() {
  local sum=0 p
  if [[ "$BENCH_DATABASE" = postgres ]]; then
    for p in $("${PSQL[@]}" -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do
      sum=$((sum + $(proc_ticks "$p")))
    done
  fi
  [[ -n "$REDIS_PID" ]] && sum=$((sum + $(proc_ticks "$REDIS_PID")))
  echo "$sum"
}
# Busy and total jiffies of the whole machine (all CPUs).
machine_ticks() { awk '/^cpu / {busy=$2+$3+$4+$7+$8+$9; total=busy+$5+$6; print busy, total}' /proc/stat; }

# --- validation: one request, 200, an ES256 JWT access token -------------------------------------
# check_token URL ID SECRET: prints a one-line description of the token, or dies.
check_token() {
  local url=$1 id=$2 secret=$3 out
  out=$(curl -sS --max-time 10 -u "$id:$secret" -H 'Accept: application/json' \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-raw "$BENCH_BODY" \
    -w '\n%{http_code}' "$url") || die "no answer from $url"
  python3 - "$out" <<'EOF' || die "bad token answer from $url: $out"
import base64, json, sys
body, _, status = sys.argv[1].rpartition("\n")
if status != "200":
    sys.exit(f"status {status}")
answer = json.loads(body)
token = answer["access_token"]
def part(p): return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
head, claims = part(token.split(".")[0]), part(token.split(".")[1])
if head.get("alg") != "ES256" or len(token.split(".")) != 3:
    sys.exit(f"not an ES256 JWT: {head}")
print(f"200, {answer.get('token_type')}, expires_in {answer.get('expires_in')}, header {json.dumps(head, sort_keys=True)}, "
      f"aud {claims.get('aud')}, scope {claims.get('scope')!r}, {len(token)} bytes")
EOF
}

# --- wrk ------------------------------------------------------------------------------------------
ROWS=()
declare -A RPS=()
# run_wrk NAME LABEL THREADS URL ID SECRET: one measured run; prints "other<TAB>row<TAB>rps".
run_wrk() {
  local name=$1 label=$2 t=$3 url=$4 id=$5 secret=$6
  local s0 h0 m0 s1 h1 m1 out line wrk_cpu
  s0=$(tree_ticks "$SERVER_PID"); h0=$(helper_ticks); m0=$(machine_ticks)
  # wrk under a wrapper that reports wrk's own CPU time (rusage of its child).
  out=$(timeout $((WRK_DURATION + 60)) python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"WRK_CPU {u.ru_utime + u.ru_stime:.2f}")
sys.exit(r.returncode)' wrk -t "$t" -c "$WRK_CONNECTIONS" -d "${WRK_DURATION}s" --timeout 5s --latency \
    -s "$HERE/token.lua" "$url" -- "$id" "$secret" "$BENCH_BODY" "$WRK_CHECK")
  s1=$(tree_ticks "$SERVER_PID"); h1=$(helper_ticks); m1=$(machine_ticks)
  printf '### %s -t%s -c%s\n%s\n' "$label" "$t" "$WRK_CONNECTIONS" "$out" >>"$WORK/wrk.log"
  line=$(grep '^BENCH_RESULT' <<<"$out") || die "wrk printed no result: $out"
  wrk_cpu=$(awk '/^WRK_CPU/ {print $2}' <<<"$out")
  python3 - "$label" "$t" "$WRK_CONNECTIONS" "$line" "$s0" "$s1" "$h0" "$h1" "$m0" "$m1" "$HZ" "$wrk_cpu" "$NPROC" <<'EOF'
import sys
label, t, c, line, s0, s1, h0, h1, m0, m1, hz, wrk_cpu, ncpu = sys.argv[1:]
kv = dict(x.split("=") for x in line.split()[1:])
secs = float(kv["seconds"])
def pct(a, b): return 100.0 * (int(b) - int(a)) / int(hz) / secs
b0, t0 = map(int, m0.split()); b1, t1 = map(int, m1.split())
busy = 100.0 * (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
srv, helper = pct(s0, s1), pct(h0, h1)
wrk = 100.0 * float(wrk_cpu) / secs
other = max(0.0, busy * int(ncpu) - srv - helper - wrk)
rps = float(kv["rps"])
non200 = kv["non200"] + ("" if kv["checked"] == "yes" else " (≥400)")
print(f"{other:.1f}\t| {label} | -t{t} -c{c} | **{rps:,.0f}** | {float(kv['p50_ms']):.2f} | {float(kv['p90_ms']):.2f} | "
      f"{float(kv['p99_ms']):.2f} | {float(kv['max_ms']):.1f} | {non200} | {kv['socket_errors']} | "
      f"{srv:.0f}% | {10000.0 * (srv + helper) / rps:.0f} | {helper:.0f}% | {wrk:.0f}% | {other:.0f}% |\t{rps:.1f}")
EOF
}

# run_best NAME LABEL THREADS URL ID SECRET: WRK_REPEAT runs, keeps the least disturbed one
# (the lowest CPU use by other processes), since the machine may be shared.
run_best() {
  local name=$1 label=$2 t=$3 best="" row r
  for r in $(seq "$WRK_REPEAT"); do
    row=$(run_wrk "$@")
    log "wrk $label -t$t -c$WRK_CONNECTIONS: $(cut -f2 <<<"$row")"
    if [[ -z "$best" ]] || awk -v a="${row%%$'\t'*}" -v b="${best%%$'\t'*}" 'BEGIN {exit !(a < b)}'; then
      best=$row
    fi
  done
  ROWS+=("$(cut -f2 <<<"$best")")
  RPS["$name:$t"]=$(cut -f3 <<<"$best")
}

warm_up() {
  local url=$1 id=$2 secret=$3
  log "warm-up: ${WRK_WARMUP} s"
  timeout $((WRK_WARMUP + 60)) wrk -t 1 -c "$WRK_CONNECTIONS" -d "${WRK_WARMUP}s" --timeout 5s \
    -s "$HERE/token.lua" "$url" -- "$id" "$secret" "$BENCH_BODY" fast >/dev/null
}

# wait_http PID URL LOGFILE: until URL answers, or the process exits.
wait_http() {
  local pid=$1 url=$2 logfile=$3
  for _ in $(seq 300); do
    curl -fsS --max-time 1 "$url" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$logfile" >&2; die "the server exited"; }
    sleep 0.2
  done
  cat "$logfile" >&2
  die "no answer from $url"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- scimgate --------------------------------------------------------------------------------------
PORT=$(free_port)
export SCIMGATE__HTTP__ADDRESS="127.0.0.1:$PORT"
export SCIMGATE__LOG__LEVEL=${SCIMGATE__LOG__LEVEL:-warn}
if [[ "$BENCH_DATABASE" = postgres ]]; then
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DB\"" || die "cannot create database $DB on 127.0.0.1:$PGPORT"
  DB_CREATED=1
  log "database $DB created"
  export SCIMGATE__DATABASE__URL="postgres://postgres@127.0.0.1:$PGPORT/$DB"
  export SCIMGATE__SECURITY__TOKEN_HASH_KEY SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY
  SCIMGATE__SECURITY__TOKEN_HASH_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  STORE_DESC="PostgreSQL $("${PSQL[@]}" -d "$DB" -Atc 'SHOW server_version') on 127.0.0.1:$PGPORT"
else
  # Keys are generated next to the SQLite file.
  export SCIMGATE__DATABASE__URL="sqlite://$WORK/scimgate.db"
  STORE_DESC="embedded SQLite ($WORK/scimgate.db)"
fi
if [[ "$BENCH_REDIS" = 1 ]]; then
  export SCIMGATE__REDIS__URL=$BENCH_REDIS_URL SCIMGATE__REDIS__KEY_PREFIX=$REDIS_PREFIX
  if command -v redis-cli >/dev/null; then
    REDIS_PID=$(redis-cli -u "$BENCH_REDIS_URL" info server 2>/dev/null | awk -F: '/^process_id/ {print $2}' | tr -d '\r')
    REDIS_VERSION=$(redis-cli -u "$BENCH_REDIS_URL" info server 2>/dev/null | awk -F: '/^redis_version/ {print $2}' | tr -d '\r')
    [[ -n "$REDIS_PID" ]] || die "no Redis answers at $BENCH_REDIS_URL"
  fi
  STORE_DESC="$STORE_DESC, Redis ${REDIS_VERSION:-} at $BENCH_REDIS_URL"
else
  unset SCIMGATE__REDIS__URL
fi

(cd "$WORK" && "$BIN" migrate >/dev/null)
(cd "$WORK" && "$BIN" tenant create bench --json >"$WORK/tenant.json")
CLIENT_JSON=$(cd "$WORK" && "$BIN" client create --tenant bench --json | tail -n 1)
CLIENT_ID=$(last_json client_id <<<"$CLIENT_JSON")
CLIENT_SECRET=$(last_json client_secret <<<"$CLIENT_JSON")
log "tenant bench and client $CLIENT_ID created ($STORE_DESC)"

(cd "$WORK" && exec "$BIN" serve) >"$WORK/scimgate.log" 2>&1 &
SERVER_PID=$!
wait_http "$SERVER_PID" "http://127.0.0.1:$PORT/healthz" "$WORK/scimgate.log"
curl -fsS --max-time 2 "http://127.0.0.1:$PORT/readyz" >/dev/null || die "scimgate is not ready"
log "scimgate serving on 127.0.0.1:$PORT (pid $SERVER_PID, $(ls "/proc/$SERVER_PID/task" | wc -l) threads)"

URL="http://127.0.0.1:$PORT/oauth/token"
SCIMGATE_TOKEN=$(check_token "$URL" "$CLIENT_ID" "$CLIENT_SECRET")
log "scimgate token: $SCIMGATE_TOKEN"
warm_up "$URL" "$CLIENT_ID" "$CLIENT_SECRET"
for t in $WRK_THREADS; do
  check_token "$URL" "$CLIENT_ID" "$CLIENT_SECRET" >/dev/null
  run_best scimgate "scimgate ($BENCH_DATABASE$([[ "$BENCH_REDIS" = 1 ]] && echo ', Redis'))" "$t" "$URL" "$CLIENT_ID" "$CLIENT_SECRET"
done
grep -v '^\s*$' "$WORK/scimgate.log" | tail -n 5 >"$WORK/scimgate.tail" || true
stop_pid "$SERVER_PID"
SERVER_PID=""

# --- oidc-provider ---------------------------------------------------------------------------------
NODE_VERSION="" OIDC_VERSION="" OIDC_TOKEN=""
if [[ "$BENCH_OIDC" = 1 ]]; then
  if [[ ! -d "$OIDC_DIR/node_modules/oidc-provider" ]]; then
    log "npm ci in benches/oidc-provider"
    (cd "$OIDC_DIR" && npm ci --no-audit --no-fund >&2)
  fi
  NODE_VERSION=$(node --version)
  OIDC_VERSION=$(node -p 'require(process.argv[1]).version' "$OIDC_DIR/node_modules/oidc-provider/package.json")
  OIDC_ID=bench
  OIDC_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
  for w in $OIDC_WORKERS; do
    OPORT=$(free_port)
    (cd "$OIDC_DIR" && NODE_ENV=production OIDC_WORKERS=$w OIDC_CLIENT_ID=$OIDC_ID OIDC_CLIENT_SECRET=$OIDC_SECRET \
      exec node server.mjs "$OPORT") >"$WORK/oidc-$w.log" 2>&1 &
    SERVER_PID=$!
    wait_http "$SERVER_PID" "http://127.0.0.1:$OPORT/jwks" "$WORK/oidc-$w.log"
    # With a cluster, wait until every worker listens (each logs one line when it does).
    for _ in $(seq 150); do
      [[ $(grep -c 'listening on' "$WORK/oidc-$w.log" || true) -ge "$w" ]] && break
      sleep 0.2
    done
    [[ $(grep -c 'listening on' "$WORK/oidc-$w.log" || true) -ge "$w" ]] || die "not every oidc-provider worker listens"
    log "oidc-provider $OIDC_VERSION serving on 127.0.0.1:$OPORT (pid $SERVER_PID, $w process(es))"
    OURL="http://127.0.0.1:$OPORT/oauth/token"
    OIDC_TOKEN=$(check_token "$OURL" "$OIDC_ID" "$OIDC_SECRET")
    log "oidc-provider token: $OIDC_TOKEN"
    warm_up "$OURL" "$OIDC_ID" "$OIDC_SECRET"
    for t in $WRK_THREADS; do
      check_token "$OURL" "$OIDC_ID" "$OIDC_SECRET" >/dev/null
      run_best "oidc$w" "oidc-provider $OIDC_VERSION ($w process$([[ $w -gt 1 ]] && echo es))" "$t" "$OURL" "$OIDC_ID" "$OIDC_SECRET"
    done
    stop_pid "$SERVER_PID"
    SERVER_PID=""
  done
fi

# --- report ----------------------------------------------------------------------------------------
RATIOS=()
if [[ "$BENCH_OIDC" = 1 ]]; then
  for w in $OIDC_WORKERS; do
    for t in $WRK_THREADS; do
      RATIOS+=("| -t$t -c$WRK_CONNECTIONS | $w | $(python3 -c 'import sys; a, b = map(float, sys.argv[1:]); print(f"{a:,.0f} | {b:,.0f} | **{a / b:.1f}x**")' "${RPS[scimgate:$t]}" "${RPS[oidc$w:$t]}") |")
    done
  done
  BEST=$(for k in "${!RPS[@]}"; do echo "$k ${RPS[$k]}"; done | python3 -c 'import sys
best = {}
for line in sys.stdin:
    k, v = line.split(); s = "scimgate" if k.startswith("scimgate") else "oidc"
    if float(v) > best.get(s, (0, ""))[0]: best[s] = (float(v), k)
(a, ka), (b, kb) = best["scimgate"], best["oidc"]
print(f"best scimgate / best oidc-provider: {a:,.0f} / {b:,.0f} = **{a / b:.1f}x** ({ka} vs {kb})")')
fi

cat <<EOF

## Token endpoint: client_credentials tokens per second ($(date -u +%Y-%m-%dT%H:%MZ), commit $COMMIT)

machine: $NPROC CPUs ($CPU_MODEL), $MEM; load average before the runs $LOAD_BEFORE; $WRK_VERSION on the same machine
scimgate: $SCIMGATE_VERSION ($(basename "$(dirname "$BIN")") build), $STORE_DESC, log level $SCIMGATE__LOG__LEVEL, actix default workers ($NPROC)
EOF
[[ "$BENCH_OIDC" = 1 ]] && cat <<EOF
oidc-provider: $OIDC_VERSION on node $NODE_VERSION, NODE_ENV=production, one client (client_secret_basic, client_credentials), ES256 JWT access tokens (resourceIndicators, accessTokenFormat jwt); process counts: $OIDC_WORKERS
EOF
cat <<EOF
request: POST /oauth/token, HTTP Basic client auth, body \`$BENCH_BODY\`, keep-alive
scimgate token: $SCIMGATE_TOKEN
EOF
[[ "$BENCH_OIDC" = 1 ]] && echo "oidc-provider token: $OIDC_TOKEN"
cat <<EOF

wrk -t<T> -c$WRK_CONNECTIONS -d${WRK_DURATION}s --timeout 5s --latency -s benches/token.lua http://127.0.0.1:<port>/oauth/token -- <client_id> <client_secret> '$BENCH_BODY' $WRK_CHECK
(${WRK_WARMUP} s warm-up per server; each row the least disturbed of $WRK_REPEAT run(s)). CPU columns are % of one core over the run ($NPROC cores = $((NPROC * 100))%): server = the server's processes, helpers = this database's PostgreSQL backends and Redis, CPU µs/token = (server + helpers) CPU time per token issued, other = everything else busy on the machine. non-200: $([[ "$WRK_CHECK" = count ]] && echo "every answer checked by token.lua (status 200 and an access_token)" || echo "wrk's count of answers with status ≥ 400 (WRK_CHECK=count checks every answer)").

| server | wrk | tokens/s | p50 ms | p90 ms | p99 ms | max ms | non-200 | socket errors | server CPU | CPU µs/token | helpers CPU | wrk CPU | other CPU |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${ROWS[@]}")
EOF
if [[ "$BENCH_OIDC" = 1 ]]; then
  cat <<EOF

| wrk | oidc-provider processes | scimgate tokens/s | oidc-provider tokens/s | scimgate / oidc-provider |
|---|---:|---:|---:|---:|
$(printf '%s\n' "${RATIOS[@]}")

$BEST
EOF
fi
if [[ -s "$WORK/scimgate.tail" ]]; then
  printf '\nscimgate log (last lines, level %s):\n' "$SCIMGATE__LOG__LEVEL"
  sed 's/^/    /' "$WORK/scimgate.tail"
fi
