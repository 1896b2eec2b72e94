#!/usr/bin/env python3
"""Team-sync benchmark driver (issue 4 point 13; stdlib only, run by benches/team_sync.sh).

For each run, on a fresh tenant (team sync on, three mappings for the group: an organization
role, a workspace, a project role `inherit`) with USERS members already provisioned and synced:
push one group of USERS members and time it until every member's effective access is
recomputed and stored, read straight from PostgreSQL:

  * no member and no group of the tenant is behind (access_version = synced_version, version =
    synced_version),
  * every member of the group has the mapped role, the workspace and the project role stored in
    member_access, and the synced team has every member.

Two shapes: `post` (one POST /Groups carrying every member, as Entra ID and OneLogin do for a new
group) and `patch` (POST the empty group, then PATCH add members in chunks of 1,000, as Okta
pushes a group). Prints one JSON line per run on stdout.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed import BULK_REQUEST, GROUP, PATCH_OP, make_user  # noqa: E402

import random  # noqa: E402

ROLE = "manager"
WORKSPACE = "Bench workspace"
PROJECT = "bench-project"


class Http:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.token = token

    def call(self, method, path, body=None, expect=(200,), content="application/scim+json"):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": content}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status not in expect:
            sys.exit(f"bench: {method} {path} -> {resp.status}: {raw[:500]!r}")
        return json.loads(raw) if raw else None


class Psql:
    """One long-lived psql, so polling costs a query, not a process start."""

    def __init__(self, dsn):
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", dsn],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def one(self, sql):
        self.p.stdin.write(sql.rstrip(";") + ";\n\\echo __end__\n")
        self.p.stdin.flush()
        lines = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                sys.exit("bench: psql exited")
            line = line.rstrip("\n")
            if line == "__end__":
                return lines
            lines.append(line)


def behind_sql(tenant):
    return (f"SELECT (SELECT count(*) FROM member_sync WHERE tenant_id = '{tenant}' AND access_version > synced_version)"
            f" + (SELECT count(*) FROM groups WHERE tenant_id = '{tenant}' AND version > synced_version)")


def wait_idle(db, tenant, timeout=600.0, poll=0.01):
    deadline = time.monotonic() + timeout
    q = behind_sql(tenant)
    while time.monotonic() < deadline:
        if db.one(q) == ["0"]:
            return time.monotonic()
        time.sleep(poll)
    sys.exit(f"bench: tenant {tenant} still behind after {timeout} s")


def complete(db, tenant, group_id, n):
    """Every member of the group has the mapped access stored, and the team has them all."""
    row = db.one(
        f"SELECT (SELECT count(*) FROM member_access a JOIN group_members gm ON gm.member_id = a.member_id "
        f" WHERE gm.group_id = '{group_id}' AND a.role = '{ROLE}' AND a.access LIKE '%{PROJECT}%'"
        f" AND a.access LIKE '%\"workspaces\":[\"%' AND a.access LIKE '%\"teams\":[\"%'),"
        f" (SELECT count(*) FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.linked_group_id = '{group_id}')")
    got = [int(x) for x in row[0].split("|")]
    return got == [n, n], got


def redis_added(redis_cli, key):
    out = subprocess.run(redis_cli + ["XINFO", "STREAM", key], capture_output=True, text=True).stdout.split("\n")
    for i, line in enumerate(out):
        if line.strip() == "entries-added":
            return int(out[i + 1])
    return 0


def setup_tenant(admin, slug, users, seed):
    admin.call("POST", "/admin/v1/tenants", {"slug": slug}, expect=(201,), content="application/json")
    base = f"/admin/v1/tenants/{slug}"
    admin.call("PATCH", f"{base}/settings", {"teamSync": True}, content="application/json")
    ws = admin.call("POST", f"{base}/workspaces", {"name": WORKSPACE}, expect=(201,), content="application/json")
    admin.call("PUT", f"{base}/projects/{PROJECT}", {"name": "Bench project", "workspaceId": ws["id"]},
               expect=(200, 201), content="application/json")
    group = f"Bench group {slug}"
    for m in ({"group": group, "kind": "role", "role": ROLE},
              {"group": group, "kind": "workspace", "workspace": WORKSPACE},
              {"group": group, "kind": "project", "project": PROJECT, "role": "inherit"}):
        admin.call("POST", f"{base}/mappings", m, expect=(201,), content="application/json")
    tok = admin.call("POST", f"{base}/tokens", {}, expect=(201,), content="application/json")
    return group, tok["token"]


def seed_users(scim, n, seed):
    rng = random.Random(seed)
    ids = []
    for start in range(0, n, 1000):
        users = [make_user(seed * 1_000_000 + i, rng) for i in range(start, min(start + 1000, n))]
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{start + k}", "data": u} for k, u in enumerate(users)]
        out = scim.call("POST", "/scim/v2/Bulk", {"schemas": [BULK_REQUEST], "Operations": ops})
        for op in out["Operations"]:
            if op.get("status") != "201":
                sys.exit(f"bench: bulk create failed: {json.dumps(op)[:500]}")
            ids.append(op["location"].rsplit("/", 1)[1])
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scim-port", type=int, required=True)
    ap.add_argument("--admin-port", type=int, required=True)
    ap.add_argument("--operator-token", required=True)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--redis-stream", required=True)
    ap.add_argument("--redis-port", default="6379")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--shape", choices=["post", "patch"], default="post")
    ap.add_argument("--run", type=int, required=True)
    a = ap.parse_args()

    db = Psql(a.dsn)
    redis_cli = ["redis-cli", "-h", "127.0.0.1", "-p", a.redis_port]
    admin = Http(a.admin_port, a.operator_token)
    slug = f"bench-{a.shape}-{a.run}"
    group, token = setup_tenant(admin, slug, a.users, a.run)
    tenant = admin.call("GET", f"/admin/v1/tenants/{slug}", content="application/json")["id"]
    scim = Http(a.scim_port, token)
    t = time.monotonic()
    ids = seed_users(scim, a.users, a.run)
    wait_idle(db, tenant)
    seeded = time.monotonic() - t
    db.one("ANALYZE")
    time.sleep(1.0)  # let the worker's own follow-ups (events, sweeps) settle

    jobs0 = redis_added(redis_cli, a.redis_stream)
    t0 = time.monotonic()
    if a.shape == "post":
        g = scim.call("POST", "/scim/v2/Groups?excludedAttributes=members",
                      {"schemas": [GROUP], "displayName": group, "members": [{"value": i} for i in ids]},
                      expect=(201,))
        requests = 1
    else:
        g = scim.call("POST", "/scim/v2/Groups?excludedAttributes=members",
                      {"schemas": [GROUP], "displayName": group}, expect=(201,))
        requests = 1
        for start in range(0, len(ids), 1000):
            scim.call("PATCH", f"/scim/v2/Groups/{g['id']}?excludedAttributes=members",
                      {"schemas": [PATCH_OP], "Operations": [
                          {"op": "add", "path": "members", "value": [{"value": i} for i in ids[start:start + 1000]]}]},
                      expect=(200, 204))
            requests += 1
    t_push = time.monotonic()
    t_idle = wait_idle(db, tenant, poll=0.005)
    ok, got = complete(db, tenant, g["id"], len(ids))
    while not ok:  # idle but not all there: keep waiting (a job not taken yet), up to 60 s
        if time.monotonic() - t0 > 60:
            sys.exit(f"bench: run {slug}: stored access incomplete after 60 s: {got} of {len(ids)}")
        time.sleep(0.005)
        t_idle = wait_idle(db, tenant, poll=0.005)
        ok, got = complete(db, tenant, g["id"], len(ids))
    jobs = redis_added(redis_cli, a.redis_stream) - jobs0
    total = t_idle - t0
    print(json.dumps({
        "run": a.run, "shape": a.shape, "members": len(ids), "requests": requests,
        "seed_s": round(seeded, 2), "push_s": round(t_push - t0, 3), "sync_after_push_s": round(t_idle - t_push, 3),
        "total_s": round(total, 3), "jobs": jobs, "jobs_per_s": round(jobs / total, 1),
        "members_per_s": round(len(ids) / total),
    }), flush=True)


if __name__ == "__main__":
    main()
