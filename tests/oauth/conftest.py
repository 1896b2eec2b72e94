"""Session fixtures of the OAuth2 suite: the real scimgate binary, started once per session.

- `prod`: the production topology: `serve authz` and `serve scim` as two processes on a fresh
  PostgreSQL database (created and dropped here) and Redis with a key prefix of this run.
- `limiter_pair`: two more `serve authz` processes on the same database, with a Redis prefix of
  their own and small failed-authentication limits (the rate-limit tests).
- `impostors`: two `serve authz` processes on the same database, hence signing with the same
  keys, but naming another issuer or another audience (tokens validly signed, wrongly addressed).
- `embedded`: one `serve` on SQLite with nothing configured but the database file.
- `short_lived`: one `serve` on SQLite issuing 1-second tokens with no leeway.

Each is started when a test first asks for it and stopped at the end of the session, even when
tests or start-up failed; the database is dropped and this run's Redis keys deleted.

Environment: SCIMGATE_BIN (the binary; run.sh sets it), SCIMGATE_OAUTH_PG_URL (PostgreSQL server
URL without database, default postgres://postgres@127.0.0.1:5432), SCIMGATE_OAUTH_REDIS_URL
(default redis://127.0.0.1:6379), SCIMGATE_OAUTH_KEEP=1 (keep the database and the logs).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from forge import Attacker
from refusals import Victim, make_victim
from servers import (
    Cli,
    Client,
    Deployment,
    Server,
    Tenant,
    base_env,
    free_port,
    psql,
    random_key,
    redis_forget,
    start_all,
)

# Both clients refuse plain HTTP by default; every server here is on the loopback interface.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

REPO = Path(__file__).resolve().parents[2]
PG_BASE = os.environ.get("SCIMGATE_OAUTH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS_URL = os.environ.get("SCIMGATE_OAUTH_REDIS_URL", "redis://127.0.0.1:6379")
KEEP = os.environ.get("SCIMGATE_OAUTH_KEEP") == "1"

# The SCIM processes log why they refused a token, so attack tests can name the defence; the
# request span (scimgate::app) carries the request id the test sent.
SCIM_LOG_LEVEL = "warn,scimgate::app=info,scimgate::credentials=info"

# Last resort when the session dies before fixture finalizers run: stop what we started.
_STARTED: list[Server] = []
atexit.register(lambda: [s.stop() for s in _STARTED])


def _interrupt(signum: int, _frame: object) -> None:
    # SIGTERM (a CI timeout, a kill) would end Python without running any teardown: make it an
    # interruption, which pytest answers by tearing the session's fixtures down.
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _interrupt)


def _binary() -> Path:
    given = os.environ.get("SCIMGATE_BIN")
    if given:
        path = Path(given)
    elif os.environ.get("CARGO_TARGET_DIR"):
        path = Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "scimgate"
    else:
        path = Path("target/debug/scimgate")
    if not path.is_absolute():
        path = REPO / path
    if not os.access(path, os.X_OK):
        pytest.exit(
            f"no scimgate binary at {path}: build it (cargo build -p scimgate) or set SCIMGATE_BIN",
            returncode=2,
        )
    return path


@pytest.fixture(scope="session")
def binary() -> Path:
    return _binary()


@pytest.fixture(scope="session")
def run_id() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """Logs and SQLite files of this run (the processes' working directory too, so that no
    ./scimgate.toml of the repository is read)."""
    path = Path(tempfile.mkdtemp(prefix="scimgate-oauth-"))
    yield path
    if KEEP:
        print(f"\nkept logs and SQLite files in {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


def _server(
    name: str, binary: Path, part: str | None, env: dict, workdir: Path, port: int
) -> Server:
    server = Server(name, binary, part, env, workdir, port, workdir / f"{name}.log")
    _STARTED.append(server)
    return server


# --- PostgreSQL + Redis: the production topology ------------------------------------------


def _quietly(f, *args) -> None:
    try:
        f(*args)
    except Exception:  # noqa: BLE001 - at exit, a failed clean-up must not hide the result
        pass


@pytest.fixture(scope="session")
def postgres_db(run_id: str) -> Iterator[str]:
    name = f"scimgate_oauth_{run_id}"
    psql(PG_BASE, f'CREATE DATABASE "{name}"')
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    if not KEEP:
        atexit.register(_quietly, psql, PG_BASE, drop)
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        if KEEP:
            print(f"\nkept database {PG_BASE}/{name}")
        else:
            psql(PG_BASE, drop)


@pytest.fixture(scope="session")
def pg_settings(postgres_db: str) -> dict[str, str]:
    """What every process and CLI call on the production database shares."""
    return {
        "SCIMGATE__DATABASE__URL": postgres_db,
        "SCIMGATE__SECURITY__TOKEN_HASH_KEY": random_key(),
        "SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY": random_key(),
        "SCIMGATE__REDIS__URL": REDIS_URL,
        # Revocations must apply at once in tests.
        "SCIMGATE__SECURITY__TOKEN_CACHE_SECONDS": "0",
        "SCIMGATE__LOG__FORMAT": "json",
        "SCIMGATE__LOG__LEVEL": "warn",
    }


@pytest.fixture(scope="session")
def prod(
    binary: Path, workdir: Path, run_id: str, pg_settings: dict[str, str]
) -> Iterator[Deployment]:
    authz_port, scim_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{authz_port}"
    audience = f"http://127.0.0.1:{scim_port}/scim/v2"
    prefix = f"scimgate-oauth-{run_id}:"
    env = (
        base_env()
        | pg_settings
        | {
            "SCIMGATE__REDIS__KEY_PREFIX": prefix,
            "SCIMGATE__OAUTH__ISSUER": issuer,
            "SCIMGATE__OAUTH__AUDIENCE": audience,
            # Many tests fail to authenticate on purpose, all from 127.0.0.1: the limits are
            # tested on their own processes (limiter_pair), not here.
            "SCIMGATE__OAUTH__FAILED_AUTH_PER_CLIENT": "100000",
            "SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS": "100000",
        }
    )
    cli = Cli(binary, env, workdir)
    cli.run("migrate")
    authz = _server("prod-authz", binary, "authz", env, workdir, authz_port)
    scim = _server(
        "prod-scim",
        binary,
        "scim",
        env | {"SCIMGATE__LOG__LEVEL": SCIM_LOG_LEVEL},
        workdir,
        scim_port,
    )
    deployment = Deployment("prod", cli, authz, scim, issuer, audience, redis_prefix=prefix)
    try:
        start_all([authz, scim])
        yield deployment
    finally:
        deployment.stop()
        redis_forget(REDIS_URL, prefix)


@pytest.fixture(scope="session")
def limiter_pair(
    binary: Path, workdir: Path, run_id: str, prod: Deployment
) -> Iterator[tuple[Server, Server]]:
    """Two authorization servers of the production deployment sharing failure counters in
    Redis: 3 failures per client, 5 per source address, in a 60 s window."""
    prefix = f"scimgate-oauth-{run_id}-limits:"
    env = prod.cli.env | {
        "SCIMGATE__REDIS__KEY_PREFIX": prefix,
        "SCIMGATE__OAUTH__FAILED_AUTH_PER_CLIENT": "3",
        "SCIMGATE__OAUTH__FAILED_AUTH_PER_ADDRESS": "5",
        "SCIMGATE__OAUTH__FAILED_AUTH_WINDOW_SECONDS": "60",
    }
    pair = (
        _server("limits-a", binary, "authz", env, workdir, free_port()),
        _server("limits-b", binary, "authz", env, workdir, free_port()),
    )
    try:
        start_all(list(pair))
        yield pair
    finally:
        for s in pair:
            s.stop()
        redis_forget(REDIS_URL, prefix)


@pytest.fixture(scope="session")
def impostors(binary: Path, workdir: Path, prod: Deployment) -> Iterator[dict[str, Server]]:
    """Authorization servers holding the production signing keys but misconfigured: one names
    its own address as issuer, the other another audience. Their tokens carry a valid
    signature, so only the iss and aud checks can refuse them."""
    env = {k: v for k, v in prod.cli.env.items() if k != "SCIMGATE__OAUTH__ISSUER"}
    servers = {
        "issuer": _server("impostor-issuer", binary, "authz", env, workdir, free_port()),
        "audience": _server(
            "impostor-audience",
            binary,
            "authz",
            prod.cli.env | {"SCIMGATE__OAUTH__AUDIENCE": "https://elsewhere.invalid/scim/v2"},
            workdir,
            free_port(),
        ),
    }
    try:
        start_all(list(servers.values()))
        yield servers
    finally:
        for s in servers.values():
            s.stop()


# --- SQLite: the embedded default ----------------------------------------------------------


def _sqlite(
    binary: Path, workdir: Path, name: str, settings: dict[str, str]
) -> Iterator[Deployment]:
    home = workdir / name
    home.mkdir()
    env = (
        base_env()
        | {
            "SCIMGATE__DATABASE__URL": f"sqlite://{home}/scimgate.db",
            "SCIMGATE__LOG__FORMAT": "json",
            "SCIMGATE__LOG__LEVEL": SCIM_LOG_LEVEL,
        }
        | settings
    )
    port = free_port()
    server = _server(name, binary, None, env, workdir, port)
    issuer = f"http://127.0.0.1:{port}"
    deployment = Deployment(
        name, Cli(binary, env, home), server, server, issuer, f"{issuer}/scim/v2"
    )
    try:
        start_all([server])
        yield deployment
    finally:
        server.stop()


@pytest.fixture(scope="session")
def embedded(binary: Path, workdir: Path) -> Iterator[Deployment]:
    """`scimgate serve` with the database file as its only setting."""
    yield from _sqlite(binary, workdir, "embedded", {})


@pytest.fixture(scope="session")
def short_lived(binary: Path, workdir: Path) -> Iterator[Deployment]:
    yield from _sqlite(
        binary,
        workdir,
        "short-lived",
        {
            "SCIMGATE__OAUTH__ACCESS_TOKEN_TTL_SECONDS": "1",
            "SCIMGATE__OAUTH__LEEWAY_SECONDS": "0",
            "SCIMGATE__SECURITY__TOKEN_CACHE_SECONDS": "0",
        },
    )


# --- per test ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def attacker() -> Attacker:
    return Attacker.generate()


@pytest.fixture(scope="session")
def victim(prod: Deployment) -> Victim:
    """A tenant and client whose genuine tokens the attack tests start from (never changed)."""
    return make_victim(prod)


@pytest.fixture
def tenant(prod: Deployment) -> Tenant:
    return prod.new_tenant()


@pytest.fixture
def client(prod: Deployment, tenant: Tenant) -> Client:
    """A client of a fresh tenant with both scopes."""
    return prod.new_client(tenant)
