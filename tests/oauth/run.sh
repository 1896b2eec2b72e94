#!/usr/bin/env bash
# End-to-end OAuth2 suite: real third-party clients (authlib, requests-oauthlib, PyJWT) and the
# JWT attacks of RFC 8725 / RFC 9700 against the real scimgate binary, on PostgreSQL + Redis
# (and SQLite). See tests/oauth/README.md.
#
# Environment (all optional):
#   SCIMGATE_BIN           the binary (default: $CARGO_TARGET_DIR/debug/scimgate when
#                          CARGO_TARGET_DIR is set, else target/debug/scimgate; relative to the repo)
#   SCIMGATE_PYENV         the virtualenv (default: target/pyenv-oauth)
#   SCIMGATE_OAUTH_PG_URL  PostgreSQL server URL without a database
#                          (default: postgres://postgres@127.0.0.1:5432)
#   SCIMGATE_OAUTH_REDIS_URL  (default: redis://127.0.0.1:6379)
#   SCIMGATE_OAUTH_KEEP=1  keep the database, the logs and the SQLite files
# Extra arguments go to pytest (e.g. tests/oauth/run.sh -k rotation -x).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/oauth"
cd "$ROOT"

fail() {
    printf 'oauth suite: %s\n' "$1" >&2
    shift
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    exit 2
}

# PostgreSQL and Redis on their default loopback ports, python3: installed and started if absent.
"$ROOT/scripts/ensure-services.sh" postgres redis python3
command -v psql >/dev/null 2>&1 || fail "psql is not installed (it creates and drops the test database)" \
    "install the PostgreSQL client, e.g. apt-get install -y postgresql-client"

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
export SCIMGATE_BIN=$BIN

# The virtualenv: made once, and reinstalled only when requirements.txt changed.
VENV=${SCIMGATE_PYENV:-$ROOT/target/pyenv-oauth}
REQS="$HERE/requirements.txt"
MARKER="$VENV/.requirements.sha256"

venv_ok() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }

make_venv() {
    if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ] && [ -n "$(ls -A "$VENV")" ]; then
        fail "$VENV exists and is not a virtualenv: not touching it" "set SCIMGATE_PYENV to another path"
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV" >/dev/null 2>&1 && venv_ok && return 0
    # Debian's python3 has no ensurepip until its venv package is installed.
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 ||
        fail "python3 -m venv failed" "install the venv module, e.g. apt-get install -y python3-venv"
    local minor
    minor=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    printf '== apt-get install python%s-venv\n' "$minor"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "python$minor-venv" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q "python$minor-venv" >/dev/null; } ||
        apt-get install -y -q python3-venv >/dev/null ||
        fail "could not install python3-venv"
    rm -rf "$VENV"
    python3 -m venv "$VENV" && venv_ok || fail "python3 -m venv $VENV failed"
}

want=$(sha256sum "$REQS" | cut -d' ' -f1)
venv_ok || make_venv
if [ "$(cat "$MARKER" 2>/dev/null || true)" != "$want" ]; then
    printf '== installing %s into %s\n' "${REQS#"$ROOT"/}" "$VENV"
    rm -f "$MARKER"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS"
    printf '%s\n' "$want" >"$MARKER"
fi

export PYTHONDONTWRITEBYTECODE=1
exec "$VENV/bin/python" -m pytest -q tests/oauth "$@"
