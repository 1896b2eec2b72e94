"""Runs the real scimgate binary for the OAuth2 suite: its CLI, and its servers on free loopback
ports, each process with its own log file. Nothing here knows about pytest: conftest.py wires it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

# How long a server gets to answer /readyz, and one request to answer at all.
READY_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 10.0


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies, even by SIGKILL, so no
    server outlives a run (Linux prctl PR_SET_PDEATHSIG; elsewhere the fixtures stop them)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class ScimgateError(RuntimeError):
    """The binary did something the suite did not expect (exit code, output, start-up)."""


def free_port() -> int:
    """A TCP port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_key() -> str:
    """A 256-bit secret as text: token hash keys, key-encryption keys."""
    return secrets.token_urlsafe(32)


def base_env() -> dict[str, str]:
    """The caller's environment without any scimgate setting, so a developer's own
    SCIMGATE__* variables, SCIMGATE_CONFIG or RUST_LOG never leak into a run."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE") and k != "RUST_LOG"}


@dataclass
class Cli:
    """`scimgate <command> --json` against one deployment's configuration."""

    binary: Path
    env: dict[str, str]
    cwd: Path

    def _run(self, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def run(self, *args: str) -> dict[str, Any]:
        """Runs a command that must succeed; returns the JSON object of its last stdout line."""
        done = self._run(args)
        if done.returncode != 0:
            raise ScimgateError(
                f"scimgate {' '.join(args)} exited {done.returncode}\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        if not lines:
            raise ScimgateError(f"scimgate {' '.join(args)} printed nothing on stdout")
        try:
            value = json.loads(lines[-1])
        except json.JSONDecodeError as e:
            raise ScimgateError(
                f"scimgate {' '.join(args)}: the last stdout line is not JSON: {lines[-1]!r}"
            ) from e
        if not isinstance(value, dict):
            raise ScimgateError(f"scimgate {' '.join(args)}: {value!r} is not a JSON object")
        return value

    def fail(self, *args: str) -> str:
        """Runs a command that must fail; returns its stderr."""
        done = self._run(args)
        if done.returncode == 0:
            raise ScimgateError(f"scimgate {' '.join(args)} succeeded: {done.stdout}")
        return done.stderr


@dataclass
class Server:
    """One `scimgate serve [part]` process."""

    name: str
    binary: Path
    part: str | None
    env: dict[str, str]
    cwd: Path
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [str(self.binary), "serve"] + ([self.part] if self.part else [])
        env = dict(self.env, SCIMGATE__HTTP__ADDRESS=f"127.0.0.1:{self.port}")
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child from here on
        try:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a terminal's Ctrl-C reaches pytest, which stops it in order.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise ScimgateError(
                    f"{self.name} exited with {self.proc and self.proc.returncode} before it was "
                    f"ready; its log:\n{self.log_tail()}"
                )
            try:
                r = requests.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise ScimgateError(f"{self.name} was not ready in {READY_TIMEOUT_S} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when it has not gone within 5 s. Only this process."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def log_events(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (SCIMGATE__LOG__FORMAT=json)."""
        events = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return events

    def refusal_reason(self, request_id: str, timeout: float = 2.0) -> str | None:
        """Why this process refused the access token of request `request_id`: the `why` of its
        `refused access token` log event (needs `scimgate::credentials=info`). The reason lets a
        test prove which defence refused a forged token, not merely that one did."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.log_events():
                span = e.get("span") or {}
                if (
                    span.get("request_id") == request_id
                    and e.get("message") == "refused access token"
                ):
                    return str(e.get("why"))
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)


def start_all(servers: list[Server]) -> None:
    """Starts the processes together (start-up overlaps), then waits for each to be ready."""
    for s in servers:
        s.start()
    for s in servers:
        s.wait_ready()


@dataclass
class Tenant:
    id: str
    slug: str


@dataclass
class Client:
    client_id: str
    client_secret: str
    tenant: Tenant

    @property
    def basic(self) -> tuple[str, str]:
        return (self.client_id, self.client_secret)


@dataclass
class Deployment:
    """One scimgate installation: its configuration (shared by the CLI and every process), the
    process that issues tokens and the one that serves SCIM (the same process for `serve`)."""

    name: str
    cli: Cli
    authz: Server
    scim: Server
    issuer: str
    audience: str
    redis_prefix: str | None = None

    # --- URLs ------------------------------------------------------------------------------

    @property
    def token_endpoint(self) -> str:
        return f"{self.authz.url}/oauth/token"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.authz.url}/oauth/introspect"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.authz.url}/oauth/revoke"

    @property
    def metadata_url(self) -> str:
        return f"{self.authz.url}/.well-known/oauth-authorization-server"

    @property
    def jwks_url(self) -> str:
        return f"{self.authz.url}/.well-known/jwks.json"

    def scim_url(self, tenant_slug: str | None = None) -> str:
        """`/scim/v2`, or the tenant-named `/tenants/<slug>/scim/v2`."""
        if tenant_slug is None:
            return f"{self.scim.url}/scim/v2"
        return f"{self.scim.url}/tenants/{tenant_slug}/scim/v2"

    # --- registrations through the CLI -----------------------------------------------------

    def new_tenant(self, prefix: str = "t") -> Tenant:
        slug = f"{prefix}-{secrets.token_hex(5)}"
        out = self.cli.run("tenant", "create", slug, "--json")
        assert out["slug"] == slug, out
        return Tenant(id=out["id"], slug=slug)

    def new_client(self, tenant: Tenant, scope: str | None = None) -> Client:
        args = ["client", "create", "--tenant", tenant.slug, "--name", "oauth-suite"]
        if scope is not None:
            args += ["--scope", scope]
        out = self.cli.run(*args, "--json")
        assert out["client_id"] and out["client_secret"], out
        return Client(out["client_id"], out["client_secret"], tenant)

    def new_static_token(self, tenant: Tenant) -> str:
        out = self.cli.run("token", "create", "--tenant", tenant.slug, "--json")
        assert out["token"].startswith("scimgate_"), out
        return out["token"]

    # --- the protocol, raw (the third-party clients are exercised in their own tests) -------

    def token_response(
        self, client: Client, scope: str | None = None, **extra: str
    ) -> requests.Response:
        data = {"grant_type": "client_credentials", **extra}
        if scope is not None:
            data["scope"] = scope
        return requests.post(
            self.token_endpoint, auth=client.basic, data=data, timeout=HTTP_TIMEOUT_S
        )

    def access_token(self, client: Client, scope: str | None = None) -> str:
        r = self.token_response(client, scope)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["access_token"]

    def stop(self) -> None:
        for s in (self.scim, self.authz):
            s.stop()


def psql(pg_base: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-w", "-q", "-v", "ON_ERROR_STOP=1", f"{pg_base}/postgres", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def redis_forget(redis_url: str, prefix: str) -> None:
    """Deletes this run's Redis keys (best effort: a leftover key only expires later)."""
    try:
        keys = subprocess.run(
            ["redis-cli", "-u", redis_url, "--scan", "--pattern", f"{prefix}*"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout.split()
        if keys:
            subprocess.run(
                ["redis-cli", "-u", redis_url, "DEL", *keys],
                capture_output=True,
                timeout=20,
                check=False,
            )
    except (OSError, subprocess.SubprocessError):
        pass
