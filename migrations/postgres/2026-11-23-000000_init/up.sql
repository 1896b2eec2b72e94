-- Tenants, static SCIM tokens, members with their filter index, groups and memberships.
-- Portable column types only (TEXT, BIGINT, INTEGER, BOOLEAN): the SQLite schema is the same.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE scim_tokens (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL,
    expires BIGINT,
    revoked BIGINT
);
CREATE INDEX scim_tokens_tenant ON scim_tokens (tenant_id);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    user_name_lc TEXT NOT NULL,
    email_lc TEXT,
    identifier_lc TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT,
    active BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    provenance TEXT NOT NULL,
    scim_managed BOOLEAN NOT NULL,
    scim_visible BOOLEAN NOT NULL,
    resource TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    version BIGINT NOT NULL,
    synced_version BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT members_user_name_unique UNIQUE (tenant_id, user_name_lc),
    CONSTRAINT members_identifier_unique UNIQUE (tenant_id, identifier_lc)
);
CREATE INDEX members_tenant_external_id ON members (tenant_id, external_id);
CREATE INDEX members_tenant_created ON members (tenant_id, created, id);

-- One row per attribute value (and one marker row per element of a multi-valued complex
-- attribute), so every SCIM filter runs in the database.
CREATE TABLE member_values (
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    path TEXT NOT NULL,
    idx INTEGER NOT NULL,
    value TEXT,
    value_lc TEXT,
    PRIMARY KEY (member_id, path, idx)
);
CREATE INDEX member_values_lookup ON member_values (tenant_id, path, value_lc);

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    display_name_lc TEXT NOT NULL,
    external_id TEXT,
    resource TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    version BIGINT NOT NULL,
    synced_version BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT groups_display_name_unique UNIQUE (tenant_id, display_name_lc)
);
CREATE INDEX groups_tenant_created ON groups (tenant_id, created, id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (member_id);
