-- OAuth2: clients registered by support, access-token signing keys, revoked access tokens.
-- Portable column types only (TEXT, BIGINT, INTEGER): the SQLite schema is the same.

CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    -- HMAC-SHA-256 of the secret under security.token_hash_key; never the secret.
    secret_hash TEXT NOT NULL,
    previous_secret_hash TEXT,
    previous_secret_expires BIGINT,
    created BIGINT NOT NULL,
    secret_rotated BIGINT,
    revoked BIGINT
);
CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, created);
CREATE INDEX oauth_clients_revoked ON oauth_clients (revoked);

-- `is_current` is 1 for the one key that signs and NULL for retired keys: the UNIQUE
-- constraint lets at most one key sign, so two replicas starting at once make one key.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    -- The private key sealed with AES-256-GCM under security.key_encryption_key.
    sealed_private_key TEXT NOT NULL,
    created BIGINT NOT NULL,
    retired BIGINT,
    is_current INTEGER,
    CONSTRAINT signing_keys_one_current UNIQUE (is_current)
);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    revoked BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires);
