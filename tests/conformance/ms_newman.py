#!/usr/bin/env python3
"""Runs Microsoft's SCIM reference Postman collection with newman and judges the result.

    python3 ms_newman.py --base-url http://127.0.0.1:8080/scim/v2 --token <bearer token>

(or SCIM_BASE_URL / SCIM_TOKEN). The collection is run as the vendor wrote it, except:

- its "Get Token" folder is left out: it fetches a token from Microsoft's sample server
  (`GET /Token`), which scimgate does not have; we give newman the `token` variable instead.
  The folder is removed from a temporary copy of the collection rather than skipped with
  newman's `--folder` flags, because `--folder` cannot select the collection's two top-level
  requests ("Get all users" shares its name with a request inside a folder, so newman
  resolves that name to the folder's request and the top-level one never runs);
- the URL variables come from --base-url: the collection's URLs are
  `{{Protocol}}://{{Server}}{{Port}}/{{Api}}/Users`, so `Port` is `:8080` (or empty) and
  `Api` is the path, e.g. `scim/v2`.

Every assertion is printed as PASS or FAIL. Some assertions test leniencies of Microsoft's
sample server rather than RFC 7644; the ones we keep failing on purpose are listed in
ms_known_failures.json with the reason (docs/conformance.md explains each). Those print as
KEPT and are not counted as failures; a listed one that passes prints UNEXPECTED PASS and is
counted as a failure, so the list and the docs stay true. The last line is `N passed, M failed`.
Exit status: 0 when nothing failed unexpectedly, 1 otherwise, 2 when newman could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_COLLECTION = HERE / "ms_PostmanCollection.json"
DEFAULT_KNOWN = HERE / "ms_known_failures.json"
DEFAULT_ENV = HERE / "ms_environment.json"
SKIPPED_FOLDERS = {"Get Token"}


def url_variables(base_url: str) -> dict[str, str]:
    parts = urllib.parse.urlsplit(base_url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--base-url must look like http://127.0.0.1:8080/scim/v2, not {base_url!r}")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return {
        "Protocol": parts.scheme,
        "Server": host,
        "Port": f":{parts.port}" if parts.port else "",
        "Api": parts.path.strip("/"),
    }


def filtered_collection(source: Path, dest: Path) -> None:
    collection = json.loads(source.read_text(encoding="utf-8"))
    kept = [item for item in collection["item"] if item.get("name") not in SKIPPED_FOLDERS]
    if len(kept) == len(collection["item"]):
        raise ValueError(f"{source} has no folder named {sorted(SKIPPED_FOLDERS)}; has the collection changed?")
    collection["item"] = kept
    dest.write_text(json.dumps(collection), encoding="utf-8")


def item_paths(collection: dict[str, Any]) -> dict[str, str]:
    """Maps each item id in newman's report to "Folder / Request" (ids are made up per run).

    A few requests share a name within their folder ("Get group by id" runs twice, once
    expecting "new User" in the body and once expecting it gone); those get " #1", " #2" in
    collection order, so each can be told apart in ms_known_failures.json.
    """
    flat: list[tuple[str, str]] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for item in node.get("item", []):
            path = f"{prefix}{item.get('name')}"
            if "item" in item:
                walk(item, path + " / ")
            else:
                flat.append((item.get("id"), path))

    walk(collection, "")
    totals: dict[str, int] = {}
    for _, path in flat:
        totals[path] = totals.get(path, 0) + 1
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for item_id, path in flat:
        if totals[path] > 1:
            seen[path] = seen.get(path, 0) + 1
            path = f"{path} #{seen[path]}"
        out[item_id] = path
    return out


def response_text(execution: dict[str, Any]) -> str:
    stream = (execution.get("response") or {}).get("stream")
    if isinstance(stream, dict) and isinstance(stream.get("data"), list):
        return bytes(stream["data"]).decode("utf-8", errors="replace")
    return ""


def load_known(path: Path) -> dict[tuple[str, str], str]:
    if not path.exists():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {(e["request"], e["assertion"]): e["reason"] for e in entries}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("SCIM_BASE_URL"), help="SCIM base URL (env SCIM_BASE_URL)")
    parser.add_argument("--token", default=os.environ.get("SCIM_TOKEN"), help="bearer token (env SCIM_TOKEN)")
    parser.add_argument("--newman", default=str(HERE / "node_modules" / ".bin" / "newman"), help="newman executable (default: the one `npm ci` installs beside this file)")
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--known-failures", default=str(DEFAULT_KNOWN))
    parser.add_argument("--report-dir", default=None, help="keep newman's JSON report and console log here (default: a temporary directory, removed)")
    args = parser.parse_args(argv)

    if not args.base_url or not args.token:
        parser.error("--base-url (or SCIM_BASE_URL) and --token (or SCIM_TOKEN) are required")
    if not Path(args.newman).exists() and shutil.which(args.newman) is None:
        print(f"newman not found at {args.newman}: run `npm ci` in {HERE} (needs node and npm)", file=sys.stderr)
        return 2
    try:
        variables = url_variables(args.base_url)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    known = load_known(Path(args.known_failures))

    workdir = Path(args.report_dir) if args.report_dir else Path(tempfile.mkdtemp(prefix="scimgate-newman-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        collection = workdir / "collection.json"
        report_path = workdir / "newman-report.json"
        log_path = workdir / "newman-cli.log"
        filtered_collection(Path(args.collection), collection)
        cmd = [args.newman, "run", str(collection), "--environment", str(DEFAULT_ENV)]
        for key, value in {**variables, "token": args.token}.items():
            cmd += ["--env-var", f"{key}={value}"]
        cmd += [
            "--reporters", "cli,json",
            "--reporter-json-export", str(report_path),
            "--timeout-request", "30000",
            "--disable-unicode", "--color", "off",
        ]
        shown = [("token=<redacted>" if c.startswith("token=") else c) for c in cmd]
        print("running: " + " ".join(shown))
        with log_path.open("w", encoding="utf-8") as log:
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
        if not report_path.exists():
            print(f"newman produced no report (exit {proc.returncode}); its output:", file=sys.stderr)
            print(log_path.read_text(encoding="utf-8", errors="replace"), file=sys.stderr)
            return 2
        report = json.loads(report_path.read_text(encoding="utf-8"))
        return judge(report, known)
    finally:
        if not args.report_dir:
            shutil.rmtree(workdir, ignore_errors=True)


def judge(report: dict[str, Any], known: dict[tuple[str, str], str]) -> int:
    paths = item_paths(report["collection"])
    passed = failed = kept = 0
    seen_known: set[tuple[str, str]] = set()
    failures: list[str] = []

    for execution in report["run"]["executions"]:
        item = execution.get("item", {})
        path = paths.get(item.get("id"), item.get("name", "?"))
        req = execution.get("request") or {}
        resp = execution.get("response") or {}
        url = req.get("url")
        if isinstance(url, dict):
            url = urllib.parse.urlunsplit((
                url.get("protocol", ""),
                ".".join(url.get("host", [])) + (f":{url['port']}" if url.get("port") else ""),
                "/" + "/".join(url.get("path", [])),
                "&".join(f"{q['key']}={q.get('value', '')}" for q in url.get("query", []) if not q.get("disabled")),
                "",
            ))
        status = f"{resp.get('code')} {resp.get('status', '')}".strip() if resp else "no response"
        print(f"-- {path} | {req.get('method', '?')} {url} -> {status}")
        item_failed = False
        for a in execution.get("assertions") or []:
            name = a.get("assertion")
            key = (path, name)
            error = a.get("error")
            if a.get("skipped"):
                print(f"SKIP {path}: {name}")
                continue
            if key in known:
                seen_known.add(key)
                if error:
                    kept += 1
                    print(f"KEPT {path}: {name} -- {error.get('message')} (failing on purpose: {known[key]})")
                else:
                    failed += 1
                    line = f"FAIL {path}: {name} -- UNEXPECTED PASS: listed in ms_known_failures.json as failing on purpose; update it and docs/conformance.md"
                    failures.append(line)
                    print(line)
                continue
            if error:
                failed += 1
                item_failed = True
                line = f"FAIL {path}: {name} -- {error.get('message')}"
                failures.append(line)
                print(line)
            else:
                passed += 1
                print(f"PASS {path}: {name}")
        if item_failed:
            body = response_text(execution)
            if body:
                print(f"   response body: {body[:1500]}")

    # Errors outside pm.test blocks (a test script that throws, a request that could not be
    # sent) are not assertions but still failures.
    for failure in report["run"].get("failures", []):
        at = str(failure.get("at", ""))
        if at.startswith("assertion:"):
            continue
        source = failure.get("source") or {}
        path = paths.get(source.get("id"), source.get("name", "?"))
        error = failure.get("error") or {}
        key = (path, f"<{at}>")
        if key in known:
            seen_known.add(key)
            kept += 1
            print(f"KEPT {path}: {at} error -- {error.get('message')} (failing on purpose: {known[key]})")
            continue
        failed += 1
        line = f"FAIL {path}: {at} error -- {error.get('name')}: {error.get('message')}"
        failures.append(line)
        print(line)

    if report["run"].get("error"):
        failed += 1
        failures.append(f"FAIL newman run error: {report['run']['error']}")

    for key in sorted(set(known) - seen_known):
        failed += 1
        line = f"FAIL {key[0]}: {key[1]} -- listed in ms_known_failures.json but never ran; has the collection changed?"
        failures.append(line)
        print(line)

    print()
    if failures:
        print("Failures:")
        for line in failures:
            print("  " + line)
    print(f"kept failing on purpose (listed in ms_known_failures.json, see docs/conformance.md), not counted: {kept}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main())
