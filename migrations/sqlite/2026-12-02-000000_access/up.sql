-- Roles, teams and effective access (issue 4): the role catalogue, workspaces, projects, the
-- group mappings, teams, each member's computed access, the webhook endpoint and the event
-- outbox. Portable column types only (TEXT, BIGINT, INTEGER, BOOLEAN): the same on SQLite.

-- Anything that can change a member's access bumps access_version in the same transaction;
-- the worker sets synced_version to the access_version it applied. Existing members start
-- behind (1 > 0), so an upgrade computes everyone's access once.
ALTER TABLE members ADD COLUMN access_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE members ADD COLUMN first_sign_in BIGINT;
CREATE INDEX members_behind ON members (tenant_id, id) WHERE access_version > synced_version;
CREATE INDEX groups_behind ON groups (tenant_id, id) WHERE version > synced_version;

CREATE TABLE role_catalogues (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    catalogue TEXT NOT NULL,
    updated BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    created BIGINT NOT NULL,
    CONSTRAINT workspaces_name_unique UNIQUE (tenant_id, name_lc)
);

CREATE TABLE projects (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_key TEXT NOT NULL,
    name TEXT NOT NULL,
    workspace_id TEXT REFERENCES workspaces (id) ON DELETE SET NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, project_key)
);

-- kind: role (role = a catalogue role or 'deactivated'), workspace (workspace_id), project
-- (project_key, role = a catalogue role or 'inherit'). group_id binds the mapping to the
-- group once it exists, so the mapping follows renames; a deleted group unbinds it.
CREATE TABLE group_mappings (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    group_name TEXT NOT NULL,
    group_name_lc TEXT NOT NULL,
    group_id TEXT REFERENCES groups (id) ON DELETE SET NULL,
    role TEXT,
    workspace_id TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    project_key TEXT,
    created BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, project_key) REFERENCES projects (tenant_id, project_key) ON DELETE CASCADE
);
CREATE INDEX group_mappings_tenant ON group_mappings (tenant_id, group_name_lc);
CREATE INDEX group_mappings_group ON group_mappings (group_id);

-- linked_group_id is the group a synced team follows; no foreign key, so that the worker sees
-- the deleted group and unlinks the team itself (and says so in an event).
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    description TEXT,
    custom_roles TEXT NOT NULL,
    maintainers TEXT NOT NULL,
    linked_group_id TEXT,
    created BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    version BIGINT NOT NULL,
    CONSTRAINT teams_name_unique UNIQUE (tenant_id, name_lc),
    CONSTRAINT teams_group_unique UNIQUE (linked_group_id)
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (team_id, member_id)
);
CREATE INDEX team_members_member ON team_members (member_id);

-- What the worker computed last for each member (the host application's read API).
CREATE TABLE member_access (
    member_id TEXT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    state TEXT NOT NULL,
    role TEXT,
    takes_seat BOOLEAN NOT NULL,
    access TEXT NOT NULL,
    -- The member's access_version and SCIM version this row was computed from.
    access_version BIGINT NOT NULL,
    member_version BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX member_access_tenant ON member_access (tenant_id, state);

-- One webhook endpoint per tenant; the secret is stored sealed under the key-encryption key
-- when one is configured (it must be recoverable to sign).
CREATE TABLE webhook_endpoints (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);

-- The outbox: each change event is written in the transaction that makes the change, then
-- delivered (and retried) from here; also the tenant's provisioning log.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt BIGINT NOT NULL,
    last_error TEXT,
    delivered BIGINT
);
CREATE INDEX events_tenant ON events (tenant_id, created);
CREATE INDEX events_due ON events (next_attempt) WHERE status = 'pending';
