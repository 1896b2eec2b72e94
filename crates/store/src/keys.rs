//! Access-token signing keys and revoked access tokens: rows and queries.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use scimgate_domain::ids::{ClientId, TenantId};
use scimgate_domain::oauth::{RevokedToken, SigningKeyRecord};
use scimgate_domain::ports::{KeyStore, RevocationStore, StoreError};
use scimgate_domain::time::Timestamp;

use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::schema::{revoked_tokens, signing_keys};

/// `is_current` of the key that signs; retired keys hold NULL (see the migration).
const CURRENT: i32 = 1;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub sealed_private_key: String,
    pub created: i64,
    pub retired: Option<i64>,
    pub is_current: Option<i32>,
}

impl SigningKeyRow {
    fn from_domain(k: &SigningKeyRecord) -> Self {
        Self {
            kid: k.kid.clone(),
            alg: k.alg.clone(),
            public_jwk: k.public_jwk.clone(),
            sealed_private_key: k.sealed_private_key.clone(),
            created: k.created.millis(),
            retired: k.retired.map(Timestamp::millis),
            is_current: k.retired.is_none().then_some(CURRENT),
        }
    }

    fn into_domain(self) -> SigningKeyRecord {
        SigningKeyRecord {
            kid: self.kid,
            alg: self.alg,
            public_jwk: self.public_jwk,
            sealed_private_key: self.sealed_private_key,
            created: Timestamp::from_millis(self.created),
            retired: self.retired.map(Timestamp::from_millis),
        }
    }
}

#[async_trait]
impl KeyStore for DbStore {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let r: Result<Vec<SigningKeyRow>, DbError> = with_conn!(self, conn => {
            signing_keys::table.order((signing_keys::created.desc(), signing_keys::kid.desc()))
                .select(SigningKeyRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        Ok(r?.into_iter().map(SigningKeyRow::into_domain).collect())
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError> {
        let row = SigningKeyRow::from_domain(key);
        let r: Result<(), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                diesel::update(signing_keys::table.filter(signing_keys::is_current.eq(CURRENT)))
                    .set((
                        signing_keys::is_current.eq(None::<i32>),
                        signing_keys::retired.eq(Some(at.millis())),
                    ))
                    .execute(conn)
                    .await?;
                diesel::delete(signing_keys::table.filter(signing_keys::retired.lt(forget_before.millis())))
                    .execute(conn)
                    .await?;
                diesel::insert_into(signing_keys::table).values(&row).execute(conn).await?;
                Ok(())
            }).await
        });
        r.map_err(StoreError::from)
    }

    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool, StoreError> {
        let row = SigningKeyRow::from_domain(key);
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::insert_into(signing_keys::table).values(&row)
                .on_conflict(signing_keys::is_current).do_nothing()
                .execute(conn).await.map_err(DbError::from)
        });
        Ok(r? > 0)
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = revoked_tokens)]
struct RevokedTokenRow {
    jti: String,
    tenant_id: String,
    client_id: String,
    revoked: i64,
    expires: i64,
}

#[async_trait]
impl RevocationStore for DbStore {
    async fn revoke_access_token(&self, token: &RevokedToken) -> Result<(), StoreError> {
        let row = RevokedTokenRow {
            jti: token.jti.clone(),
            tenant_id: TenantId::to_string(&token.tenant_id),
            client_id: ClientId::to_string(&token.client_id),
            revoked: token.revoked.millis(),
            expires: token.expires.millis(),
        };
        // Entries past their token's expiry are useless: purge them when writing, so reads
        // stay read-only.
        let now = token.revoked.millis();
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires.le(now)))
                .execute(conn).await.map_err(DbError::from)?;
            diesel::insert_into(revoked_tokens::table).values(&row)
                .on_conflict(revoked_tokens::jti).do_nothing()
                .execute(conn).await.map_err(DbError::from)
        });
        r.map(drop).map_err(StoreError::from)
    }

    async fn revoked_token_ids(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let now = now.millis();
        let r: Result<Vec<String>, DbError> = with_conn!(self, conn => {
            revoked_tokens::table.filter(revoked_tokens::expires.gt(now))
                .select(revoked_tokens::jti).load(conn).await.map_err(DbError::from)
        });
        r.map_err(StoreError::from)
    }
}
