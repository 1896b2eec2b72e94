//! The SCIM API's [`Authenticator`]: static tokens (`scimgate_...`, looked up by keyed hash) and
//! OAuth2 access tokens (JWTs, verified in memory). A JWT names its tenant by id; tenants are
//! cached for `security.token_cache_seconds` so the common request makes no database round trip.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use scimgate_authz::{AccessTokenVerifier, TtlCache, VerifyError};
use scimgate_domain::error::ScimError;
use scimgate_domain::oauth::ScopeSet;
use scimgate_domain::ports::Store;
use scimgate_domain::tenant::Tenant;
use scimgate_scim::{AuthFailure, Authenticator, Principal};

use crate::tokens::{StaticTokens, TOKEN_PREFIX};

/// Tenants kept at most; past it the cache starts over.
const TENANT_CACHE_CAPACITY: usize = 10_000;

pub struct Credentials {
    pub static_tokens: StaticTokens,
    pub access_tokens: AccessTokenVerifier,
    store: Arc<dyn Store>,
    tenants: TtlCache<Tenant>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("tenants", &self.tenants)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    pub fn new(
        static_tokens: StaticTokens,
        access_tokens: AccessTokenVerifier,
        store: Arc<dyn Store>,
        ttl: Duration,
    ) -> Self {
        Self {
            static_tokens,
            access_tokens,
            store,
            tenants: TtlCache::new(ttl, TENANT_CACHE_CAPACITY),
        }
    }

    /// After a revocation in this process: the next request of every credential is checked
    /// against the database again.
    pub fn forget(&self) {
        self.static_tokens.clear();
        self.access_tokens.credentials.invalidate();
        self.tenants.clear();
    }

    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, ScimError> {
        if let Some(t) = self.tenants.get(id) {
            return Ok(Some(t));
        }
        let found = self
            .store
            .tenant_by_id(&scimgate_domain::ids::TenantId::from_raw(id))
            .await
            .map_err(|e| {
                tracing::error!(cause = %e, "tenant lookup failed");
                ScimError::internal()
            })?;
        if let Some(t) = &found {
            self.tenants.insert(id, t.clone(), None);
        }
        Ok(found)
    }

    async fn access_token(&self, token: &str) -> Result<Result<Principal, AuthFailure>, ScimError> {
        let claims = match self.access_tokens.verify(token).await {
            Ok(Ok(c)) => c,
            Ok(Err(why)) => {
                tracing::info!(%why, "refused access token");
                return Ok(Err(match why {
                    VerifyError::Expired => AuthFailure::Expired,
                    VerifyError::Revoked => AuthFailure::Revoked,
                    _ => AuthFailure::Invalid,
                }));
            }
            Err(e) => {
                tracing::error!(cause = %e, "credential state unavailable");
                return Err(ScimError::internal());
            }
        };
        let Some(tenant) = self.tenant(&claims.tenant).await? else {
            return Ok(Err(AuthFailure::Unknown));
        };
        let scopes = ScopeSet::parse(&claims.scope).unwrap_or_default();
        Ok(Ok(Principal {
            tenant,
            credential_id: format!("client:{}", claims.client_id),
            scopes,
        }))
    }
}

#[async_trait]
impl Authenticator for Credentials {
    async fn authenticate(&self, token: &str) -> Result<Result<Principal, AuthFailure>, ScimError> {
        if token.starts_with(TOKEN_PREFIX) {
            self.static_tokens.authenticate(token).await
        } else {
            self.access_token(token).await
        }
    }
}
