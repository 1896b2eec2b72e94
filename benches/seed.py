#!/usr/bin/env python3
"""Seeds a scimgate tenant for the benchmarks (stdlib only).

Creates USERS realistic users through POST /Bulk (1,000 operations per request), then two
groups, one of SMALL members and one of LARGE members, filled by PATCH add in chunks of 1,000.
Writes:
  <out>/state.json     token, group ids and sizes, one probe member per group
  <out>/filter_paths   one URL path per user: /scim/v2/Users?filter=userName eq "..." (encoded)
"""

import argparse
import http.client
import json
import os
import random
import sys
import time
import urllib.parse

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

GIVEN = """James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty
Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle
Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Amélie Søren Zoë Chloé
Björn Ngozi Aiko Mateo Priya Wei Olga Youssef Fatima Lars Ines Diego""".split()
FAMILY = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez
Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green
Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts O'Brien Müller Okafor Tanaka
Novak Haddad Kowalski Johansson Dubois Rossi Silva Kim Patel Chen""".split()
TITLES = ["Engineer", "Senior Engineer", "Data Scientist", "Annotator", "Reviewer", "Product Manager",
          "Designer", "Sales", "Support", "Manager"]
DEPARTMENTS = ["Engineering", "Research", "Operations", "Sales", "Support", "Finance", "Legal"]


def ascii_slug(s):
    table = str.maketrans({"é": "e", "ø": "o", "ë": "e", "ö": "o", "ü": "u", "'": ""})
    return s.translate(table).lower()


def make_user(i, rng):
    given = rng.choice(GIVEN)
    family = rng.choice(FAMILY)
    # Unique by construction (the index), realistic in shape.
    user_name = f"{ascii_slug(given)}.{ascii_slug(family)}.{i:05d}@acme-corp.example"
    return {
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "00u" + "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(17)),
        "userName": user_name,
        "name": {"givenName": given, "familyName": family, "formatted": f"{given} {family}"},
        "displayName": f"{given} {family}",
        "title": rng.choice(TITLES),
        "active": True,
        "emails": [
            {"value": user_name, "type": "work", "primary": True},
            {"value": f"{ascii_slug(given)}{i}@personal.example", "type": "home", "primary": False},
        ],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": str(100000 + i),
            "department": rng.choice(DEPARTMENTS),
        },
    }


class Client:
    def __init__(self, host, port, token):
        self.host, self.port, self.token = host, port, token
        self.conn = http.client.HTTPConnection(host, port, timeout=600)

    def call(self, method, path, body=None, expect=(200,)):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/scim+json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/scim+json"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status not in expect:
            sys.exit(f"seed: {method} {path} -> {resp.status}: {raw[:500]!r}")
        return json.loads(raw) if raw else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--large", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7643)
    a = ap.parse_args()
    if a.large > a.users or a.small > a.users:
        sys.exit("seed: a group cannot have more members than there are users")

    c = Client("127.0.0.1", a.port, a.token)
    rng = random.Random(a.seed)
    ids, user_names = [], []
    t0 = time.monotonic()
    for start in range(0, a.users, 1000):
        users = [make_user(i, rng) for i in range(start, min(start + 1000, a.users))]
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{start + k}", "data": u} for k, u in enumerate(users)]
        out = c.call("POST", "/scim/v2/Bulk", {"schemas": [BULK_REQUEST], "Operations": ops})
        for op, u in zip(out["Operations"], users):
            if op.get("status") != "201":
                sys.exit(f"seed: bulk create failed: {json.dumps(op)[:500]}")
            ids.append(op["location"].rsplit("/", 1)[1])
            user_names.append(u["userName"])
        print(f"seed: {len(ids)} users ({time.monotonic() - t0:.1f} s)", file=sys.stderr, flush=True)

    groups = {}
    for label, size, members in (("small", a.small, ids[:a.small]), ("large", a.large, ids[:a.large])):
        g = c.call("POST", "/scim/v2/Groups?excludedAttributes=members",
                   {"schemas": [GROUP], "displayName": f"bench-{label}-{size}", "externalId": f"bench-{label}"},
                   expect=(201,))
        t1 = time.monotonic()
        for start in range(0, len(members), 1000):
            chunk = members[start:start + 1000]
            c.call("PATCH", f"/scim/v2/Groups/{g['id']}?excludedAttributes=members",
                   {"schemas": [PATCH_OP],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": m} for m in chunk]}]})
        # The probe is a member of the group: the latency loop removes it, then adds it back.
        groups[label] = {"id": g["id"], "size": size, "probe": members[len(members) // 2]}
        print(f"seed: group {label} with {size} members ({time.monotonic() - t1:.1f} s)", file=sys.stderr, flush=True)

    # Check the sizes through the API (members are rendered in a GET without excludedAttributes).
    for label, g in groups.items():
        got = c.call("GET", f"/scim/v2/Groups/{g['id']}?attributes=members")
        n = len(got.get("members", []))
        if n != g["size"]:
            sys.exit(f"seed: group {label} has {n} members, expected {g['size']}")

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "state.json"), "w") as f:
        json.dump({"token": a.token, "port": a.port, "users": len(ids), "groups": groups}, f, indent=1)
    with open(os.path.join(a.out, "filter_paths"), "w") as f:
        for u in user_names:
            flt = urllib.parse.quote(f'userName eq "{u}"', safe="")
            f.write(f"/scim/v2/Users?filter={flt}\n")
    print(f"seed: done in {time.monotonic() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
