//! Client registration by support (DESIGN "client IDs are issued via support"), shared by the
//! CLI and the admin API: a client id and a 256-bit secret shown once, stored as a keyed hash;
//! rotation with an overlap; revocation; Disconnect SCIM.

use scimgate_domain::ids::{ClientId, TenantId, TokenId};
use scimgate_domain::oauth::{ClientRecord, GrantType, ScopeSet, SigningKeyRecord};
use scimgate_domain::ports::{Disconnected, Store, StoreError, TokenRecord};
use scimgate_domain::tenant::Tenant;
use scimgate_domain::time::Timestamp;

use crate::secrets::{SecretError, TokenHasher, random_text};

/// Prefix of every client secret, so that leaked secrets are recognisable by secret scanners.
pub const SECRET_PREFIX: &str = "scimgate_cs_";
/// Prefix of every static SCIM token, so that leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "scimgate_";
/// The longest credential lifetime or rotation overlap accepted anywhere: ten years of 365
/// days, so every expiry stays a printable instant.
pub const MAX_LIFETIME_SECONDS: i64 = 10 * 365 * 24 * 3600;
/// Prefix of client ids (not secret; recognisable in logs).
pub const CLIENT_ID_PREFIX: &str = "sgc_";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("no client with id {0:?}")]
    NoSuchClient(String),
    #[error("a client name must be 1 to 200 characters")]
    BadName,
}

/// A secret, shown once.
#[derive(Clone)]
pub struct ShownOnce(pub String);

impl std::fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShownOnce(<redacted>)")
    }
}

fn new_secret() -> Result<String, SecretError> {
    Ok(format!("{SECRET_PREFIX}{}", random_text()?))
}

/// A new static token: `scimgate_` + 256 random bits, base64url.
pub fn generate_token() -> Result<String, SecretError> {
    Ok(format!("{TOKEN_PREFIX}{}", random_text()?))
}

/// Issues a static SCIM bearer token of `tenant` (what Entra ID's "Secret Token" takes).
pub async fn create_static_token(
    store: &dyn Store,
    hasher: &TokenHasher,
    tenant: &TenantId,
    expires: Option<Timestamp>,
) -> Result<(TokenRecord, ShownOnce), RegistryError> {
    let secret = generate_token()?;
    let record = TokenRecord {
        id: TokenId::generate(),
        tenant_id: tenant.clone(),
        hash: hasher.hash(&secret),
        created: Timestamp::now(),
        expires,
        revoked: None,
    };
    store.insert_token(&record).await?;
    Ok((record, ShownOnce(secret)))
}

/// A static token as the CLI and the admin API show it: never the secret or its hash.
pub fn token_json(t: &TokenRecord) -> serde_json::Value {
    serde_json::json!({
        "id": t.id.as_str(),
        "tenant_id": t.tenant_id.as_str(),
        "created": t.created.to_rfc3339(),
        "expires": t.expires.map(Timestamp::to_rfc3339),
        "revoked": t.revoked.map(Timestamp::to_rfc3339),
    })
}

/// Registers a client of `tenant` allowed `scopes` with the client credentials grant.
pub async fn create(
    store: &dyn Store,
    hasher: &TokenHasher,
    tenant: &TenantId,
    name: &str,
    scopes: ScopeSet,
) -> Result<(ClientRecord, ShownOnce), RegistryError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(RegistryError::BadName);
    }
    let secret = new_secret()?;
    let client = ClientRecord {
        client_id: ClientId::from_raw(format!(
            "{CLIENT_ID_PREFIX}{}",
            uuid::Uuid::new_v4().simple()
        )),
        tenant_id: tenant.clone(),
        name: name.to_owned(),
        scopes,
        grant_types: vec![GrantType::ClientCredentials],
        secret_hash: hasher.hash(&secret),
        previous_secret_hash: None,
        previous_secret_expires: None,
        created: Timestamp::now(),
        secret_rotated: None,
        revoked: None,
    };
    store.insert_client(&client).await?;
    Ok((client, ShownOnce(secret)))
}

/// A new secret; the current one keeps working for `overlap` seconds, then fails.
pub async fn rotate(
    store: &dyn Store,
    hasher: &TokenHasher,
    id: &ClientId,
    overlap_seconds: i64,
) -> Result<(ClientRecord, ShownOnce), RegistryError> {
    let secret = new_secret()?;
    let now = Timestamp::now();
    let client = store
        .rotate_client_secret(
            id,
            &hasher.hash(&secret),
            now.plus_seconds(overlap_seconds.max(0)),
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => RegistryError::NoSuchClient(id.to_string()),
            other => other.into(),
        })?;
    Ok((client, ShownOnce(secret)))
}

/// Revokes a client: its secrets fail at once and its tokens are refused.
pub async fn revoke(store: &dyn Store, id: &ClientId) -> Result<ClientRecord, RegistryError> {
    if !store.revoke_client(id, Timestamp::now()).await? {
        return Err(RegistryError::NoSuchClient(id.to_string()));
    }
    store
        .client(id)
        .await?
        .ok_or_else(|| RegistryError::NoSuchClient(id.to_string()))
}

/// Disconnect SCIM (SEMANTICS 21): every client and static token of the tenant, at once.
pub async fn disconnect(
    store: &dyn Store,
    tenant: &TenantId,
) -> Result<Disconnected, RegistryError> {
    Ok(store
        .revoke_tenant_credentials(tenant, Timestamp::now())
        .await?)
}

/// A client as the CLI and the admin API show it: never a secret or a hash.
pub fn client_json(c: &ClientRecord, tenant_slug: &str) -> serde_json::Value {
    serde_json::json!({
        "client_id": c.client_id.as_str(),
        "tenant": tenant_slug,
        "name": c.name,
        "scope": c.scopes.to_string(),
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "created": c.created.to_rfc3339(),
        "secret_rotated": c.secret_rotated.map(Timestamp::to_rfc3339),
        "previous_secret_expires": c
            .previous_secret_hash
            .as_ref()
            .and(c.previous_secret_expires)
            .map(Timestamp::to_rfc3339),
        "revoked": c.revoked.map(Timestamp::to_rfc3339),
        "status": if c.revoked.is_some() { "revoked" } else { "active" },
    })
}

/// A tenant as the CLI and the admin API show it.
pub fn tenant_json(t: &Tenant) -> serde_json::Value {
    serde_json::json!({
        "id": t.id.as_str(),
        "slug": t.slug.as_str(),
        "name": t.name,
        "settings": t.settings,
        "created": t.created.to_rfc3339(),
    })
}

/// A signing key as the CLI and the admin API show it: public facts only.
pub fn key_json(k: &SigningKeyRecord) -> serde_json::Value {
    serde_json::json!({
        "kid": k.kid,
        "alg": k.alg,
        "created": k.created.to_rfc3339(),
        "retired": k.retired.map(Timestamp::to_rfc3339),
        "status": if k.retired.is_some() { "retired" } else { "current" },
    })
}
