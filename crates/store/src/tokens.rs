//! Static SCIM bearer tokens: stored as keyed hashes, looked up by hash.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scimgate_domain::ids::{TenantId, TokenId};
use scimgate_domain::ports::{StoreError, TokenRecord, TokenStore};
use scimgate_domain::tenant::Tenant;
use scimgate_domain::time::Timestamp;

use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::rows::{TenantRow, TokenRow};
use crate::schema::{scim_tokens, tenants};

#[async_trait]
impl TokenStore for DbStore {
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        let row = TokenRow::from_domain(token);
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::insert_into(scim_tokens::table).values(&row).execute(conn).await.map_err(DbError::from)
        });
        r.map(drop).map_err(StoreError::from)
    }

    async fn tokens_of(&self, tenant: &TenantId) -> Result<Vec<TokenRecord>, StoreError> {
        let r: Result<Vec<TokenRow>, DbError> = with_conn!(self, conn => {
            scim_tokens::table.filter(scim_tokens::tenant_id.eq(tenant.as_str()))
                .order((scim_tokens::created, scim_tokens::id))
                .select(TokenRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        Ok(r?.into_iter().map(TokenRow::into_domain).collect())
    }

    async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<bool, StoreError> {
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::update(scim_tokens::table.find(id.as_str()).filter(scim_tokens::revoked.is_null()))
                .set(scim_tokens::revoked.eq(Some(at.millis())))
                .execute(conn).await.map_err(DbError::from)
        });
        if r? > 0 {
            return Ok(true);
        }
        // Revoking twice is not an error; an unknown id is.
        let exists: Result<i64, DbError> = with_conn!(self, conn => {
            scim_tokens::table.find(id.as_str()).count().get_result(conn).await.map_err(DbError::from)
        });
        Ok(exists? > 0)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<(TokenRecord, Tenant)>, StoreError> {
        let r: Result<Option<(TokenRow, TenantRow)>, DbError> = with_conn!(self, conn => {
            scim_tokens::table.inner_join(tenants::table)
                .filter(scim_tokens::token_hash.eq(hash))
                .select((TokenRow::as_select(), TenantRow::as_select()))
                .first(conn).await.optional().map_err(DbError::from)
        });
        match r? {
            None => Ok(None),
            Some((token, tenant)) => Ok(Some((token.into_domain(), tenant.into_domain()?))),
        }
    }
}
