"""Failed client authentication is limited per client and per source address, and the counts are
shared through Redis by every authorization server of a deployment. `limiter_pair` runs two
`serve authz` processes on the production database with a Redis prefix of their own: 3 failures
per client and 5 per address in a 60 s window.

Every test sends from its own loopback source address (127.0.0.0/8 all reaches the server), so
their address counts never add up, whatever the order the tests run in."""

from __future__ import annotations

import itertools
import secrets

import pytest
import requests
from requests.adapters import HTTPAdapter

import expect
from servers import Client, Deployment, Server

PER_CLIENT, PER_ADDRESS = 3, 5
GRANT = {"grant_type": "client_credentials"}
_addresses = (f"127.0.{i // 200 + 1}.{i % 200 + 2}" for i in itertools.count())


class SourceAddress(HTTPAdapter):
    """Connects from a chosen local address."""

    def __init__(self, ip: str):
        self.ip = ip
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.ip, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture
def source() -> str:
    """A loopback address no other test sends from."""
    return next(_addresses)


def sender(ip: str) -> requests.Session:
    s = requests.Session()
    s.mount("http://", SourceAddress(ip))
    return s


def token(server: Server, client_id: str, secret: str, ip: str, **headers) -> requests.Response:
    with sender(ip) as s:
        return s.post(
            f"{server.url}/oauth/token",
            auth=(client_id, secret),
            data=GRANT,
            headers=headers,
            timeout=10,
        )


def blocked(response: requests.Response) -> None:
    """429 with the seconds to wait, in OAuth terms and not to be cached."""
    expect.oauth_error(response, 429, "temporarily_unavailable")
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), response.headers
    assert 1 <= int(retry_after) <= 60, retry_after


def test_a_client_is_blocked_after_too_many_wrong_secrets(
    prod: Deployment, limiter_pair: tuple[Server, Server], client: Client, source: str
):
    a, _ = limiter_pair
    for _ in range(PER_CLIENT):
        expect.invalid_client(token(a, client.client_id, "scimgate_cs_guess", source))

    # Blocked now, even with the right secret, and whatever it asks for.
    blocked(token(a, client.client_id, client.client_secret, source))
    with sender(source) as s:
        blocked(
            s.post(f"{a.url}/oauth/introspect", auth=client.basic, data={"token": "x"}, timeout=10)
        )

    # Another client from the same address is not affected (3 failures < 5 per address).
    other = prod.new_client(client.tenant)
    expect.token_success(token(a, other.client_id, other.client_secret, source))


def test_an_address_is_blocked_after_too_many_failures_whatever_the_client(
    prod: Deployment, limiter_pair: tuple[Server, Server], client: Client, source: str
):
    a, _ = limiter_pair
    for i in range(PER_ADDRESS):
        # Each guess names another client, and claims another origin: without
        # security.trust_forwarded_for the header must change nothing.
        r = token(
            a,
            f"sgc_{secrets.token_hex(16)}",
            "scimgate_cs_guess",
            source,
            **{"X-Forwarded-For": f"203.0.113.{i + 1}", "Forwarded": f"for=198.51.100.{i + 1}"},
        )
        expect.invalid_client(r)

    # A client that never failed is refused from that address...
    blocked(token(a, client.client_id, client.client_secret, source))
    # ...and served from any other.
    expect.token_success(token(a, client.client_id, client.client_secret, next(_addresses)))


def test_failures_counted_by_one_process_block_the_other(
    limiter_pair: tuple[Server, Server], client: Client, source: str
):
    a, b = limiter_pair
    for _ in range(PER_CLIENT):
        expect.invalid_client(token(a, client.client_id, "scimgate_cs_guess", source))
    blocked(token(a, client.client_id, client.client_secret, source))

    # Process b checks its own view of the blocks first (no Redis round trip on success), so its
    # first failure is answered, and counted in Redis: it is the 4th, so b now blocks too. Had b
    # counted alone, it would allow 3 failures of its own.
    expect.invalid_client(token(b, client.client_id, "scimgate_cs_guess", source))
    blocked(token(b, client.client_id, client.client_secret, source))


def test_a_correct_secret_does_not_reset_the_count(
    limiter_pair: tuple[Server, Server], client: Client, source: str
):
    a, _ = limiter_pair
    for _ in range(PER_CLIENT - 1):
        expect.invalid_client(token(a, client.client_id, "scimgate_cs_guess", source))
    expect.token_success(token(a, client.client_id, client.client_secret, source))
    expect.invalid_client(token(a, client.client_id, "scimgate_cs_guess", source))
    blocked(token(a, client.client_id, client.client_secret, source))
