#!/usr/bin/env bash
# End-to-end conformance run: Okta's SCIM 2.0 spec test and Microsoft's Postman collection
# against the real scimgate binary on a fresh PostgreSQL database. See docs/conformance.md.
#
# Environment (all optional):
#   SCIMGATE_BIN          the binary (default: $CARGO_TARGET_DIR/debug/scimgate when
#                         CARGO_TARGET_DIR is set, else target/debug/scimgate; relative to the repo root)
#   CONFORMANCE_PG_URL    PostgreSQL server URL without a database name
#                         (default: postgres://postgres@127.0.0.1:5432)
#   CONFORMANCE_KEEP=1    keep the database and the work directory (logs, newman report)
#   CONFORMANCE_SUITES    which suites to run: "okta ms" (default), "okta" or "ms"
#
# Prints each suite's results, then one closing line `conformance: N passed, M failed` that
# adds both suites up. Exits non-zero if either suite failed or the server could not be set up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/conformance"
cd "$ROOT"

say() { printf '== %s\n' "$*"; }
fail() {
    printf 'conformance: %s\n' "$1" >&2
    shift
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    exit 2
}

PG_BASE=${CONFORMANCE_PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_BASE=${PG_BASE%/}
SUITES=${CONFORMANCE_SUITES:-okta ms}
if [ -n "${SCIMGATE_BIN:-}" ]; then
    BIN=$SCIMGATE_BIN
elif [ -n "${CARGO_TARGET_DIR:-}" ]; then
    BIN=$CARGO_TARGET_DIR/debug/scimgate
else
    BIN=target/debug/scimgate
fi
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || fail "no scimgate binary at $BIN" \
    "build it first: cargo build -p scimgate (or set SCIMGATE_BIN to the binary)"

# What the harness itself needs: PostgreSQL (only when we use the local default server),
# node/npm for newman, python3 for both runners, curl for the seed data.
needs=(python3 curl)
case " $SUITES " in *" ms "*) needs+=(node) ;; esac
[ "$PG_BASE" = "postgres://postgres@127.0.0.1:5432" ] && needs+=(postgres)
"$ROOT/scripts/ensure-services.sh" "${needs[@]}"
command -v psql >/dev/null 2>&1 || fail "psql is not installed (needed to create and drop the test database)" \
    "install the PostgreSQL client, e.g. apt-get install -y postgresql-client"

WORK=$(mktemp -d -t scimgate-conformance.XXXXXX)
DB="scimgate_conf_$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
SERVER_PID=
DB_CREATED=0

cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$DB_CREATED" = 1 ]; then
        if [ "${CONFORMANCE_KEEP:-0}" = 1 ]; then
            printf '== kept database %s/%s\n' "$PG_BASE" "$DB"
        else
            psql -w -q "$PG_BASE/postgres" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 ||
                printf 'conformance: could not drop database %s\n' "$DB" >&2
        fi
    fi
    if [ "${CONFORMANCE_KEEP:-0}" = 1 ]; then
        printf '== kept work directory %s\n' "$WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "database $DB on $PG_BASE"
psql -w -q -v ON_ERROR_STOP=1 "$PG_BASE/postgres" -c "CREATE DATABASE \"$DB\"" >/dev/null ||
    fail "could not create database $DB on $PG_BASE" "is PostgreSQL running and may the role create databases?"
DB_CREATED=1

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SCIMGATE__DATABASE__URL="$PG_BASE/$DB"
export SCIMGATE__HTTP__ADDRESS="127.0.0.1:$PORT"
SCIMGATE__SECURITY__TOKEN_HASH_KEY="conformance-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export SCIMGATE__SECURITY__TOKEN_HASH_KEY
# `serve` runs the authorization server too, which seals its signing keys with this key.
SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY="conformance-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY
unset SCIMGATE__REDIS__URL

# Runs a scimgate support command and prints the JSON object on the last line of its output.
cli_json() {
    local out
    if ! out=$("$BIN" "$@" 2>"$WORK/cli.err"); then
        printf 'conformance: scimgate %s failed:\n' "$*" >&2
        cat "$WORK/cli.err" >&2
        printf '%s\n' "$out" >&2
        return 1
    fi
    printf '%s\n' "$out" | tail -n 1
}

# Reads one key from a JSON object on stdin.
json_get() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }

say "scimgate migrate"
"$BIN" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; fail "scimgate migrate failed"; }

# Creates a tenant (extra arguments go to `tenant create`) and prints a new static token for it.
tenant_token() {
    local slug=$1
    shift
    local tenant token
    tenant=$(cli_json tenant create "$slug" --json "$@") || return 1
    [ "$(printf '%s' "$tenant" | json_get slug)" = "$slug" ] || {
        printf 'conformance: tenant create printed %s\n' "$tenant" >&2
        return 1
    }
    token=$(cli_json token create --tenant "$slug" --json) || return 1
    printf '%s' "$token" | json_get token
}

# Okta's suite runs in tenant "conformance". Microsoft's collection gets its own tenant: it
# counts every user of its tenant ("Results have 2 users", "Total results 5", "Users cleared")
# so it must not see Okta's users. It also gives four users the same primary email
# (anna33@gmail.com), which the default unique identifier (email, SEMANTICS.md rule 1) treats
# as one person; the collection means distinct users, so its tenant identifies members by
# userName, as LaunchDarkly's rules do.
say "tenants and tokens"
OKTA_TOKEN=$(tenant_token conformance) || fail "could not create tenant 'conformance' and its token"
MS_TENANT_ARGS=()
if "$BIN" tenant create --help 2>/dev/null | grep -q -- '--unique-identifier'; then
    MS_TENANT_ARGS=(--unique-identifier userName)
else
    say "warning: 'scimgate tenant create' has no --unique-identifier option; Microsoft's users that share an email will be refused with 409"
fi
MS_TOKEN=$(tenant_token conformance-ms "${MS_TENANT_ARGS[@]}") || fail "could not create tenant 'conformance-ms' and its token"

say "scimgate serve on 127.0.0.1:$PORT"
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
ready=0
for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/healthz" 2>/dev/null)" = 200 ]; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        printf 'conformance: scimgate serve did not answer 200 on %s/healthz within 30 s; its log:\n' "$BASE" >&2
    else
        printf 'conformance: scimgate serve exited before answering on %s/healthz; its log:\n' "$BASE" >&2
    fi
    cat "$WORK/server.log" >&2
    exit 2
fi

SCIM="$BASE/scim/v2"

# POSTs a SCIM resource with curl; fails with the response when the status is not 201.
scim_post() {
    local token=$1 path=$2 body=$3 code
    code=$(curl -s -o "$WORK/seed.out" -w '%{http_code}' --max-time 10 -X POST \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/scim+json' \
        --data "$body" "$SCIM/$path") || code=000
    if [ "$code" != 201 ]; then
        printf 'conformance: seeding POST %s answered %s: %s\n' "$path" "$code" "$(cat "$WORK/seed.out" 2>/dev/null)" >&2
        return 1
    fi
}

declare -A PASSED FAILED
summary_of() {
    # The runners end with "N passed, M failed"; read it from their output.
    local file=$1 name=$2 line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$file" | tail -n 1 || true)
    if [ -z "$line" ]; then
        PASSED[$name]=0
        FAILED[$name]=1
    else
        PASSED[$name]=${line%% passed*}
        FAILED[$name]=$(printf '%s' "$line" | sed -E 's/.*, ([0-9]+) failed$/\1/')
    fi
}

okta_rc=0
ms_rc=0

if [[ " $SUITES " == *" okta "* ]]; then
    # Okta's first required step lists one user and expects name, active and emails on it,
    # and its Groups step expects at least one group: Okta's instructions have the tester
    # make both in the application first.
    say "seeding a user and a group for Okta's suite"
    seed_user=$(python3 -c 'import secrets; print("okta.seed." + secrets.token_hex(4) + "@example.com")')
    scim_post "$OKTA_TOKEN" Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"$seed_user\",\"name\":{\"givenName\":\"Seed\",\"familyName\":\"User\"},\"emails\":[{\"value\":\"$seed_user\",\"type\":\"work\",\"primary\":true}],\"active\":true}" ||
        fail "could not create the seed user"
    scim_post "$OKTA_TOKEN" Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Okta conformance"}' ||
        fail "could not create the seed group"

    say "Okta SCIM 2.0 spec test"
    python3 "$HERE/okta_runner.py" --base-url "$SCIM" --token "$OKTA_TOKEN" | tee "$WORK/okta.out" || okta_rc=$?
    summary_of "$WORK/okta.out" okta
fi

if [[ " $SUITES " == *" ms "* ]]; then
    if [ ! -x "$HERE/node_modules/.bin/newman" ]; then
        say "npm ci (installs newman into tests/conformance/node_modules)"
        (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1 || {
            cat "$WORK/npm.log" >&2
            fail "npm ci failed in tests/conformance"
        }
    fi
    say "Microsoft SCIM Postman collection (newman)"
    python3 "$HERE/ms_newman.py" --base-url "$SCIM" --token "$MS_TOKEN" --report-dir "$WORK/newman" | tee "$WORK/ms.out" || ms_rc=$?
    summary_of "$WORK/ms.out" ms
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    printf 'conformance: the server exited during the run; its log:\n' >&2
    cat "$WORK/server.log" >&2
    [ "$okta_rc" != 0 ] || okta_rc=1
fi
if [ "$okta_rc" != 0 ] || [ "$ms_rc" != 0 ]; then
    say "last 60 lines of the server log ($WORK/server.log)"
    tail -n 60 "$WORK/server.log" || true
fi

total_passed=0
total_failed=0
for name in okta ms; do
    [ -n "${PASSED[$name]:-}" ] || continue
    say "$name: ${PASSED[$name]} passed, ${FAILED[$name]} failed"
    total_passed=$((total_passed + PASSED[$name]))
    total_failed=$((total_failed + FAILED[$name]))
done
echo "conformance: $total_passed passed, $total_failed failed"
[ "$okta_rc" = 0 ] && [ "$ms_rc" = 0 ] && [ "$total_failed" = 0 ]
