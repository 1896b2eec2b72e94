#!/usr/bin/env python3
"""Runs Okta's SCIM 2.0 spec test (a Runscope export) against a SCIM server, offline.

Runscope is a hosted service; this runner walks the export's `steps` in order the way
Runscope would: it substitutes `{{variables}}`, sends each request, extracts `variables`
from the response, and evaluates every assertion. Standard library only (no pip install).

    python3 okta_runner.py --base-url http://127.0.0.1:8080/scim/v2 --token <bearer token>

or set SCIM_BASE_URL and SCIM_TOKEN. Prints one PASS/FAIL line per assertion, then the
one script check of the suite on its own line, then a summary line `N passed, M failed`
that counts the suite's assertions (91 in Okta's file; the script check is reported and
summarised separately, on the line before). Exits 1 if anything failed, 2 on a usage or
suite-file error.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import string
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SUITE = Path(__file__).resolve().parent / "Okta-SCIM-20-SPEC-Test.json"

# Sentinel for "the property path resolved to nothing" (distinct from a JSON null).
MISSING = object()


# --------------------------------------------------------------------------------------
# Variables
# --------------------------------------------------------------------------------------

GIVEN_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
FAMILY_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Perlman"]


def initial_variables(base_url: str, token: str, rng: random.Random) -> dict[str, str]:
    """The initial variables Okta's instructions define for this test.

    Okta's setup gives Runscope SCIMBaseURL and auth, and an initial script that makes a
    random user: its userName is an email address (randomUsername and randomEmail are the
    same value), randomUsernameCaps is that userName upper-cased (used for the case check),
    InvalidUserEmail is an address no user has, and UserIdThatDoesNotExist an id no user has.
    """
    tag = "".join(rng.choices(string.ascii_lowercase + string.digits, k=10))
    username = f"okta.{tag}@example.com"
    invalid_tag = "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))
    return {
        "SCIMBaseURL": base_url.rstrip("/"),
        "auth": f"Bearer {token}",
        "randomUsername": username,
        "randomEmail": username,
        "randomUsernameCaps": username.upper(),
        "randomGivenName": rng.choice(GIVEN_NAMES) + tag[:4].capitalize(),
        "randomFamilyName": rng.choice(FAMILY_NAMES) + tag[4:8].capitalize(),
        "InvalidUserEmail": f"does.not.exist.{invalid_tag}@example.com",
        "UserIdThatDoesNotExist": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }


VAR_RE = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


def substitute(text: str | None, variables: dict[str, str], unresolved: set[str]) -> str | None:
    """Replaces `{{name}}` with the variable's value; unknown names are left as written
    (and reported once), as Runscope leaves them."""
    if text is None:
        return None

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in variables:
            return variables[name]
        unresolved.add(name)
        return m.group(0)

    return VAR_RE.sub(repl, text)


# --------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------


def encode_url(raw: str) -> str:
    """Percent-encodes a URL written the way Runscope's editor accepts it.

    The suite writes query strings raw (`?filter=userName eq "x@example.com"`): spaces and
    quotes must be encoded before they go on the wire. Each `key=value` pair is split at the
    first `=`; key and value are encoded with nothing left safe, so `+`, `&`, `=` and `"`
    inside a value cannot change its meaning. A value that already holds a %XX escape is
    assumed to be encoded already and is passed through. The path is encoded segment by
    segment (a `/` inside a substituted id would be a bug in the suite, not ours to fix).
    """
    parts = urllib.parse.urlsplit(raw)
    path = "/".join(urllib.parse.quote(seg, safe="@:!$&'()*+,;=-._~%") for seg in parts.path.split("/"))
    pairs = []
    if parts.query:
        for pair in parts.query.split("&"):
            if pair == "":
                continue
            key, sep, value = pair.partition("=")
            pairs.append(_encode_component(key) + (("=" + _encode_component(value)) if sep else ""))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "&".join(pairs), ""))


PCT_RE = re.compile(r"%[0-9A-Fa-f]{2}")


def _encode_component(text: str) -> str:
    if PCT_RE.search(text):
        return text
    return urllib.parse.quote(text, safe="")


# --------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int | None
    headers: dict[str, str]
    text: str
    elapsed_ms: float
    error: str | None = None
    _json: Any = field(default=MISSING, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON, or MISSING when it is not JSON."""
        if self._json is MISSING:
            try:
                self._json = json.loads(self.text) if self.text.strip() else MISSING
            except ValueError:
                self._json = MISSING
        return self._json


def send(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Response:
    """Sends one request with exactly the given headers.

    http.client rather than urllib.request: urllib adds `Content-Type:
    application/x-www-form-urlencoded` to any request with a body that has none, and the
    suite's POST /Users steps send a JSON body without a Content-Type header. We send what
    the suite says and nothing else (besides Host, Content-Length and Accept-Encoding:
    identity, which every HTTP client sends).
    """
    parts = urllib.parse.urlsplit(url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
    start = time.perf_counter()
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        elapsed = (time.perf_counter() - start) * 1000.0
        charset = resp.headers.get_content_charset() or "utf-8"
        return Response(
            status=resp.status,
            headers={k.lower(): v for k, v in resp.getheaders()},
            text=raw.decode(charset, errors="replace"),
            elapsed_ms=elapsed,
        )
    except (OSError, http.client.HTTPException) as exc:
        elapsed = (time.perf_counter() - start) * 1000.0
        return Response(status=None, headers={}, text="", elapsed_ms=elapsed, error=f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def step_headers(step: dict[str, Any], variables: dict[str, str], unresolved: set[str]) -> dict[str, str]:
    """Runscope stores a header either as a string or as a list of values; a list is sent
    as one header with the values joined by ", " (RFC 9110 §5.3)."""
    out: dict[str, str] = {}
    for name, value in (step.get("headers") or {}).items():
        values = value if isinstance(value, list) else [value]
        out[name] = ", ".join(substitute(str(v), variables, unresolved) or "" for v in values)
    return out


# --------------------------------------------------------------------------------------
# Property paths and comparisons (Runscope semantics)
# --------------------------------------------------------------------------------------

TOKEN_RE = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def resolve(doc: Any, path: str | None) -> Any:
    """Resolves a Runscope JSON property path such as `Resources[0].name.familyName`.

    Keys are matched case-sensitively (Runscope evaluates them as JavaScript property
    accesses). A key applied to an array is applied to each element and yields the list of
    the values found (a "pluck"): this is how the suite's `Resources[0].emails.value` reads
    the `value` of every email. Returns MISSING when nothing is found.
    """
    if doc is MISSING:
        return MISSING
    if not path:
        return doc
    cur = doc
    for m in TOKEN_RE.finditer(path):
        index, key = m.group(1), m.group(2)
        if index is not None:
            if isinstance(cur, list) and int(index) < len(cur):
                cur = cur[int(index)]
            else:
                return MISSING
        elif isinstance(cur, dict):
            if key not in cur:
                return MISSING
            cur = cur[key]
        elif isinstance(cur, list):
            plucked = [el[key] for el in cur if isinstance(el, dict) and key in el]
            if not plucked:
                return MISSING
            cur = plucked
        else:
            return MISSING
    return cur


def as_text(value: Any) -> str:
    """How Runscope turns a JSON value into text for string comparisons: JSON spelling for
    true/false/null, integers without a fraction, strings as they are."""
    if value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is MISSING or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def is_empty(value: Any) -> bool:
    """`empty` / `not_empty`: missing, null, "" and an empty array or object are empty.

    A boolean or a number is a value, so `false` and `0` are *not* empty: the suite checks
    `etag.supported`, `patch.supported` and friends with not_empty, and a server that
    supports no ETags answers `"supported": false`, which Okta accepts. (Runscope shows the
    same: its is-empty check looks at the text of the value, and "false" is not empty.)
    """
    if value is MISSING or value is None:
        return True
    if isinstance(value, (str, list, dict)):
        return len(value) == 0
    return False


def has_value(actual: Any, expected: str | None) -> tuple[bool, str]:
    """`has_value`: the property holds this value.

    - On an array: one of its elements equals the expected value (compared as text), e.g.
      `schemas` has the ListResponse URN.
    - With no expected value (JSON null in the suite): the property exists and at least one
      element is not null. The suite uses this once, on `Resources[0].emails.value` with
      value null; `emails.value` plucks `value` from every email (see resolve), so it reads
      "the first user has an email with a value", which is what Okta needs (INTEROP.md 17).
    - On an object: one of its values equals the expected value (Runscope's has-value on an
      object); on a scalar: the scalar equals the expected value.
    """
    if expected is None:
        if actual is MISSING or actual is None:
            return False, "no such property"
        if isinstance(actual, list):
            return any(v is not None for v in actual), "no element has a value"
        return True, ""
    if actual is MISSING:
        return False, "no such property"
    if isinstance(actual, list):
        return any(as_text(v) == expected for v in actual), "not among the array's elements"
    if isinstance(actual, dict):
        return any(as_text(v) == expected for v in actual.values()), "not among the object's values"
    return as_text(actual) == expected, "differs"


def contains(actual: Any, expected: str) -> bool:
    """`contains`: an array contains an element equal to the value, or an element whose text
    contains it; a string contains it as a substring; anything else is compared by its text
    (Runscope's contains on JSON works on the text of the value, where an array's elements
    are joined by commas)."""
    if actual is MISSING:
        return False
    if isinstance(actual, list):
        return any(as_text(v) == expected or expected in as_text(v) for v in actual)
    return expected in as_text(actual)


def evaluate(assertion: dict[str, Any], resp: Response, variables: dict[str, str], unresolved: set[str]) -> tuple[bool, str]:
    """Evaluates one Runscope assertion; returns (passed, explanation of the actual value)."""
    source = assertion.get("source")
    comparison = assertion.get("comparison")
    prop = substitute(assertion.get("property"), variables, unresolved)
    raw_expected = assertion.get("value")
    expected = substitute(raw_expected, variables, unresolved) if isinstance(raw_expected, str) else raw_expected

    if resp.error is not None:
        return False, f"request failed: {resp.error}"

    if source == "response_status":
        actual: Any = resp.status
    elif source == "response_time":
        actual = round(resp.elapsed_ms, 1)
    elif source == "response_json":
        body = resp.json()
        if body is MISSING:
            return False, f"response body is not JSON: {resp.text[:200]!r}"
        actual = resolve(body, prop)
    elif source == "response_headers":
        actual = resp.headers.get((prop or "").lower(), MISSING)
    elif source == "response_text":
        actual = resp.text
    else:
        return False, f"unsupported assertion source {source!r}"

    shown = "missing" if actual is MISSING else json.dumps(actual)[:300]
    why = f"actual {shown}"

    if comparison == "equal":
        # Runscope's "equals" compares text: `"active": true` equals "true", 0 equals "0".
        return as_text(actual) == as_text(expected), why
    if comparison == "not_equal":
        return as_text(actual) != as_text(expected), why
    if comparison == "empty":
        return is_empty(actual), why
    if comparison == "not_empty":
        return not is_empty(actual), why
    if comparison == "contains":
        return contains(actual, as_text(expected)), why
    if comparison == "does_not_contain":
        return not contains(actual, as_text(expected)), why
    if comparison == "has_value":
        ok, reason = has_value(actual, expected)
        return ok, why if ok else f"{why} ({reason})"
    if comparison == "has_key":
        return isinstance(actual, dict) and as_text(expected) in actual, why
    if comparison == "is_null":
        return actual is None, why
    if comparison == "is_a_number":
        # Stricter than Runscope, which also accepts numeric text: RFC 7644 §3.4.2 makes
        # totalResults, itemsPerPage and startIndex integers, and Okta's client parses them
        # as JSON numbers, so "1" (a string) is a defect worth failing on.
        return isinstance(actual, (int, float)) and not isinstance(actual, bool), why
    numeric = {
        "equal_number": lambda a, b: a == b,
        "is_less_than": lambda a, b: a < b,
        "is_less_than_or_equal": lambda a, b: a <= b,
        "is_greater_than": lambda a, b: a > b,
        "is_greater_than_or_equal": lambda a, b: a >= b,
    }
    if comparison in numeric:
        a, b = as_number(actual), as_number(expected)
        if a is None or b is None:
            return False, f"{why} (not a number)"
        unit = " ms" if source == "response_time" else ""
        return numeric[comparison](a, b), f"actual {as_text(actual)}{unit}"
    return False, f"unsupported comparison {comparison!r}"


# --------------------------------------------------------------------------------------
# The suite's one script, ported to Python
# --------------------------------------------------------------------------------------

# The Groups step carries this JavaScript (Runscope's post-response script):
#
#   var data = JSON.parse(response.body);
#   var max = data.totalResults;
#   var res = data.Resources;
#   var exists = false;
#   if (max >= 1 && Array.isArray(res)) { exists = true; }
#   assert.ok(exists, "Resources is of type Array");
#
# We cannot run JavaScript without a JS engine, so each known script is recognised by the
# hash of its text and runs as the equivalent Python below. An unknown script fails loudly,
# so an edited suite file never passes a check nobody ported.
def _groups_script(resp: Response) -> tuple[bool, str]:
    data = resp.json()
    if not isinstance(data, dict):
        return False, f"response body is not a JSON object: {resp.text[:200]!r}"
    total = data.get("totalResults")
    res = data.get("Resources")
    # JavaScript's `max >= 1` is false for undefined/null and compares numbers numerically.
    ok = (
        isinstance(total, (int, float))
        and not isinstance(total, bool)
        and total >= 1
        and isinstance(res, list)
    )
    return ok, f"totalResults {json.dumps(total)}, Resources is {type(res).__name__ if res is not None else 'missing'}"


KNOWN_SCRIPTS = {
    "e635e26890efab9449049e426748699b109cc54464cec24ce7242c61e91d2cd2": (
        "totalResults >= 1 and Resources is of type Array",
        _groups_script,
    ),
}


def script_key(text: str) -> str:
    normalized = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    script_passed: int = 0
    script_failed: int = 0
    pauses_skipped: int = 0
    failures: list[str] = field(default_factory=list)


def run(suite: dict[str, Any], variables: dict[str, str], timeout: float, honour_pauses: bool, show_body: bool) -> Tally:
    tally = Tally()
    unresolved: set[str] = set()
    assertion_no = 0
    for step_no, step in enumerate(suite.get("steps", []), start=1):
        kind = step.get("step_type")
        if kind == "pause":
            duration = step.get("duration", 0)
            if honour_pauses:
                print(f"-- step {step_no}: pause {duration} s")
                time.sleep(float(duration))
            else:
                tally.pauses_skipped += 1
                print(f"-- step {step_no}: pause of {duration} s skipped (Runscope spaces its requests; nothing here depends on it)")
            continue
        if kind != "request":
            print(f"-- step {step_no}: unsupported step type {kind!r}")
            n = len(step.get("assertions", []))
            tally.failed += n
            assertion_no += n
            continue

        # The note is a label, printed as written (one says "Users/{{id}}" with no such variable).
        note = (step.get("note") or f"step {step_no}").strip()
        method = step.get("method", "GET")
        url = encode_url(substitute(step["url"], variables, unresolved) or "")
        headers = step_headers(step, variables, unresolved)
        body_text = substitute(step.get("body"), variables, unresolved)
        if not body_text and step.get("form"):
            form = {k: substitute(str(v[0] if isinstance(v, list) else v), variables, unresolved) for k, v in step["form"].items()}
            body_text = urllib.parse.urlencode(form)
        body = body_text.encode("utf-8") if body_text else None

        resp = send(method, url, headers, body, timeout)
        status = resp.status if resp.error is None else resp.error
        print(f"-- step {step_no}: {note} | {method} {url} -> {status} in {resp.elapsed_ms:.0f} ms")

        for var in step.get("variables", []):
            if var.get("source") == "response_json":
                value = resolve(resp.json(), var.get("property"))
            elif var.get("source") == "response_headers":
                value = resp.headers.get(str(var.get("property", "")).lower(), MISSING)
            elif var.get("source") == "response_status":
                value = resp.status
            else:
                value = MISSING
            if value is MISSING or value is None:
                print(f"   (variable {var.get('name')} not found at {var.get('property')!r}; later steps that use it will fail)")
            else:
                variables[var["name"]] = as_text(value)

        step_failed = False
        for assertion in step.get("assertions", []):
            assertion_no += 1
            ok, why = evaluate(assertion, resp, variables, unresolved)
            desc = describe(assertion, variables, unresolved)
            line = f"{'PASS' if ok else 'FAIL'} [{assertion_no}] {note}: {desc}"
            if not ok:
                line += f" -- {why}"
                tally.failed += 1
                tally.failures.append(line)
                step_failed = True
            else:
                tally.passed += 1
            print(line)

        for script in step.get("scripts", []):
            known = KNOWN_SCRIPTS.get(script_key(script))
            if known is None:
                ok, name, why = False, "unrecognised script", "no Python port of this script; add one to KNOWN_SCRIPTS"
            else:
                name, check = known
                ok, why = check(resp) if resp.error is None else (False, f"request failed: {resp.error}")
            line = f"{'PASS' if ok else 'FAIL'} [script] {note}: {name}"
            if not ok:
                line += f" -- {why}"
                tally.script_failed += 1
                tally.failures.append(line)
                step_failed = True
            else:
                tally.script_passed += 1
            print(line)

        if step_failed and show_body and resp.error is None:
            print(f"   response body: {resp.text[:1500]}")

    if unresolved:
        print(f"-- variables never defined: {', '.join(sorted(unresolved))}")
    return tally


def describe(assertion: dict[str, Any], variables: dict[str, str], unresolved: set[str]) -> str:
    source = assertion.get("source")
    prop = assertion.get("property")
    value = assertion.get("value")
    target = f"{source}.{prop}" if prop else source
    if isinstance(value, str):
        value = substitute(value, variables, unresolved)
    if value is None:
        return f"{target} {assertion.get('comparison')}"
    return f"{target} {assertion.get('comparison')} {value!r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("SCIM_BASE_URL"), help="SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2 (env SCIM_BASE_URL)")
    parser.add_argument("--token", default=os.environ.get("SCIM_TOKEN"), help="bearer token (env SCIM_TOKEN)")
    parser.add_argument("--suite", default=str(DEFAULT_SUITE), help="Runscope export to run (default: Okta's spec test beside this file)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each response")
    parser.add_argument("--seed", type=int, default=None, help="seed for the random user, to repeat a run")
    parser.add_argument("--honour-pauses", action="store_true", help="sleep through the suite's pause steps instead of skipping them")
    parser.add_argument("--no-body", action="store_true", help="do not print the response body of a failing step")
    args = parser.parse_args(argv)

    missing = [name for name, val in (("--base-url (or SCIM_BASE_URL)", args.base_url), ("--token (or SCIM_TOKEN)", args.token)) if not val]
    if missing:
        parser.error("missing " + " and ".join(missing))
    try:
        suite = json.loads(Path(args.suite).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read suite {args.suite}: {exc}", file=sys.stderr)
        return 2

    rng = random.Random(args.seed)
    variables = initial_variables(args.base_url, args.token, rng)
    print(f"Okta SCIM 2.0 spec test against {variables['SCIMBaseURL']} (random user {variables['randomUsername']})")
    tally = run(suite, variables, args.timeout, args.honour_pauses, not args.no_body)

    total = tally.passed + tally.failed
    print()
    if tally.failures:
        print("Failures:")
        for line in tally.failures:
            print("  " + line)
    if tally.pauses_skipped:
        print(f"{tally.pauses_skipped} pause steps skipped")
    print(f"script check (reported apart from the assertion count): passed {tally.script_passed}, failed {tally.script_failed}")
    print(f"assertions: {total} evaluated")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 0 if tally.failed == 0 and tally.script_failed == 0 else 1


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main())
