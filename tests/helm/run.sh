#!/usr/bin/env bash
# Offline tests of the Helm chart (helm/scimgate) and the deployment files (deploy/): lint and
# render with Helm v4 as a library (helm-python-sdk), validate every rendered object against the
# Kubernetes schemas (kubernetes-validate --strict), yamllint, the values schema against
# helm/scimgate/examples/bad/*.yaml, hadolint on deploy/Dockerfile. No cluster, no helm binary,
# no Docker daemon. See tests/helm/README.md.
#
#   SCIMGATE_HELM_VENV  the virtualenv (default <repo>/target/helm-venv)
#   PYTHON              the interpreter that makes it (default python3)
# Extra arguments go to pytest (e.g. tests/helm/run.sh -k ingress -x).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

fail() {
    printf 'chart tests: %s\n' "$1" >&2
    shift
    for line in "$@"; do printf '  %s\n' "$line" >&2; done
    exit 2
}

venv="${SCIMGATE_HELM_VENV:-$repo/target/helm-venv}"
requirements="$here/requirements.txt"
marker="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
python="${PYTHON:-python3}"

command -v "$python" >/dev/null 2>&1 || fail "$python not found" "install Python 3.9 or newer"

venv_ok() { [ -x "$venv/bin/python" ] && "$venv/bin/python" -m pip --version >/dev/null 2>&1; }

if ! venv_ok; then
    if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
        fail "$venv exists and is not a virtualenv: not touching it" "set SCIMGATE_HELM_VENV to another path"
    fi
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1 || ! venv_ok; then
        # Debian's python3 has no ensurepip until its venv package is installed.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            minor="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
            printf '== apt-get install python%s-venv\n' "$minor" >&2
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -q "python$minor-venv" >/dev/null 2>&1 ||
                { apt-get update -q >/dev/null && apt-get install -y -q "python$minor-venv" >/dev/null; } ||
                apt-get install -y -q python3-venv >/dev/null ||
                fail "could not install python3-venv"
            rm -rf "$venv"
            "$python" -m venv "$venv" && venv_ok || fail "$python -m venv $venv failed"
        else
            fail "$python -m venv failed" "install the venv module, e.g. apt-get install -y python3-venv"
        fi
    fi
    rm -f "$marker"
fi

if [ "$(cat "$marker" 2>/dev/null || true)" != "$wanted" ]; then
    printf '== installing %s into %s\n' "${requirements#"$repo"/}" "$venv" >&2
    rm -f "$marker"
    log="$(mktemp -t helm-pip.XXXXXX)"
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        fail "pip could not install tests/helm/requirements.txt (see its output above)" \
            "the packages come from PyPI: check that it is reachable (pip config, proxy), or" \
            "point SCIMGATE_HELM_VENV at a virtualenv that already has them"
    fi
    rm -f "$log"
    # helm-python-sdk ships libhelm_c.so; fail here, plainly, if it cannot be loaded.
    "$venv/bin/python" -c 'import helm_python as h; h.helm_c_version()' ||
        fail "helm-python-sdk is installed but its shared library (libhelm_c) does not load"
    printf '%s\n' "$wanted" >"$marker"
fi

export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -q -c tests/helm/pytest.ini tests/helm "$@"
