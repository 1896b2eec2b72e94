#!/usr/bin/env bash
# Checks docs/openapi/admin.json: valid OpenAPI 3.1, served as is by the binary, and true of the
# real server (every operation, status, header and body schema), in a venv of its own.
#
#   SCIMGATE_PYENV_ADMIN  the venv (default <repo>/target/pyenv-admin)
#   SCIMGATE_BIN          the scimgate binary (default $CARGO_TARGET_DIR/debug/scimgate, else
#                         target/debug/scimgate); it must be built from the current document,
#                         which is embedded in it
#   PYTHON                the interpreter that makes the venv (default python3)
# Extra arguments go to pytest (e.g. -k workflow, -x).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

venv="${SCIMGATE_PYENV_ADMIN:-$repo/target/pyenv-admin}"
requirements="$here/requirements.txt"
marker="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"

if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    "${PYTHON:-python3}" -m venv --clear "$venv"
    rm -f "$marker"
fi
if [[ ! -f "$marker" || "$(cat "$marker")" != "$wanted" ]]; then
    echo "installing $requirements into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$marker"
fi

if [[ -z "${SCIMGATE_BIN:-}" ]]; then
    if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
        SCIMGATE_BIN="$CARGO_TARGET_DIR/debug/scimgate"
    else
        SCIMGATE_BIN="$repo/target/debug/scimgate"
    fi
fi
case "$SCIMGATE_BIN" in /*) ;; *) SCIMGATE_BIN="$repo/$SCIMGATE_BIN" ;; esac
if [[ ! -x "$SCIMGATE_BIN" ]]; then
    echo "no scimgate binary at $SCIMGATE_BIN: run 'cargo build -p scimgate' or set SCIMGATE_BIN" >&2
    exit 1
fi
export SCIMGATE_BIN
export SCIMGATE_ADMIN_SCHEMATHESIS="$venv/bin/schemathesis"

exec "$venv/bin/python" -m pytest -q -c tests/admin/pytest.ini tests/admin "$@"
