#!/usr/bin/env python3
"""Group membership PATCH latency against group size (stdlib only, one keep-alive connection).

For each group in state.json (seed.py) and each response shape, sends N PATCHes that
alternately remove and add back the group's probe member, one at a time, and prints the
median, p90 and p99 latency. Shapes:
  excluded  PATCH /Groups/{id}?excludedAttributes=members  (the response carries no members)
  full      PATCH /Groups/{id}                             (the response carries every member)
Also GET /Groups/{id} in both shapes, for reference.
"""

import argparse
import http.client
import json
import math
import statistics
import sys
import time

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def pct(sorted_ms, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return float("nan")
    k = max(0, min(len(sorted_ms) - 1, math.ceil(p / 100.0 * len(sorted_ms)) - 1))
    return sorted_ms[k]


class Client:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json",
                        "Content-Type": "application/scim+json"}

    def timed(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        t0 = time.perf_counter()
        self.conn.request(method, path, body=data, headers=self.headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        ms = (time.perf_counter() - t0) * 1000.0
        if resp.status != 200:
            sys.exit(f"patch_latency: {method} {path} -> {resp.status}: {raw[:300]!r}")
        return ms, raw


def patch_body(op, member):
    if op == "add":
        o = {"op": "add", "path": "members", "value": [{"value": member}]}
    else:
        o = {"op": "remove", "path": f'members[value eq "{member}"]'}
    return {"schemas": [PATCH_OP], "Operations": [o]}


def run_patch(c, gid, member, shape, n, warmup):
    query = "?excludedAttributes=members" if shape == "excluded" else ""
    path = f"/scim/v2/Groups/{gid}{query}"
    lat = {"add": [], "remove": []}
    sizes = []
    # Remove first: the probe is a member; an even count leaves the group as it was.
    total = warmup + n + ((warmup + n) % 2)
    for i in range(total):
        op = "remove" if i % 2 == 0 else "add"
        ms, raw = c.timed("PATCH", path, patch_body(op, member))
        if i >= warmup and len(lat["add"]) + len(lat["remove"]) < n:
            lat[op].append(ms)
            sizes.append(len(raw))
    return lat, sizes


def run_get(c, gid, shape, n, warmup):
    query = "?excludedAttributes=members" if shape == "excluded" else ""
    out, sizes = [], []
    for i in range(warmup + n):
        ms, raw = c.timed("GET", f"/scim/v2/Groups/{gid}{query}")
        if i >= warmup:
            out.append(ms)
            sizes.append(len(raw))
    return out, sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("-n", type=int, default=300, help="PATCHes per group and shape (alternating remove/add)")
    ap.add_argument("--gets", type=int, default=50, help="GETs per group and shape (0: none)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    with open(a.state) as f:
        state = json.load(f)
    c = Client(state["port"], state["token"])

    rows = []
    for label in ("small", "large"):
        g = state["groups"][label]
        for shape in ("excluded", "full"):
            lat, sizes = run_patch(c, g["id"], g["probe"], shape, a.n, a.warmup)
            both = sorted(lat["add"] + lat["remove"])
            rows.append({
                "request": "PATCH", "group": label, "members": g["size"], "shape": shape, "n": len(both),
                "p50": statistics.median(both), "p90": pct(both, 90), "p99": pct(both, 99),
                "p50_add": statistics.median(lat["add"]), "p50_remove": statistics.median(lat["remove"]),
                "bytes": int(statistics.median(sizes)),
            })
            print(f"patch_latency: PATCH {label} {shape} done", file=sys.stderr, flush=True)
        if a.gets > 0:
            for shape in ("excluded", "full"):
                lat, sizes = run_get(c, g["id"], shape, a.gets, min(a.warmup, 5))
                s = sorted(lat)
                rows.append({
                    "request": "GET", "group": label, "members": g["size"], "shape": shape, "n": len(s),
                    "p50": statistics.median(s), "p90": pct(s, 90), "p99": pct(s, 99),
                    "p50_add": None, "p50_remove": None, "bytes": int(statistics.median(sizes)),
                })

    def f(v):
        return "-" if v is None else f"{v:.2f}"

    print()
    print("| request | group members | shape | n | p50 ms | p90 ms | p99 ms | p50 add ms | p50 remove ms | response bytes |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        shape = "excludedAttributes=members" if r["shape"] == "excluded" else "full (members in response)"
        print(f"| {r['request']} | {r['members']} | {shape} | {r['n']} | {f(r['p50'])} | {f(r['p90'])} | "
              f"{f(r['p99'])} | {f(r['p50_add'])} | {f(r['p50_remove'])} | {r['bytes']} |")
    print()
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
