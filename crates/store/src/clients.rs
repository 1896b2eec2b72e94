//! OAuth2 clients: their rows and queries, and Disconnect SCIM (every credential of a tenant
//! revoked in one transaction).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use scimgate_domain::ids::{ClientId, TenantId};
use scimgate_domain::oauth::{ClientRecord, GrantType, ScopeSet};
use scimgate_domain::ports::{ClientStore, Disconnected, StoreError};
use scimgate_domain::time::Timestamp;

use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::schema::{oauth_clients, scim_tokens};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_clients)]
pub struct ClientRow {
    pub client_id: String,
    pub tenant_id: String,
    pub name: String,
    pub scopes: String,
    pub grant_types: String,
    pub secret_hash: String,
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires: Option<i64>,
    pub created: i64,
    pub secret_rotated: Option<i64>,
    pub revoked: Option<i64>,
}

impl ClientRow {
    fn from_domain(c: &ClientRecord) -> Self {
        Self {
            client_id: c.client_id.to_string(),
            tenant_id: c.tenant_id.to_string(),
            name: c.name.clone(),
            scopes: c.scopes.to_string(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            secret_hash: c.secret_hash.clone(),
            previous_secret_hash: c.previous_secret_hash.clone(),
            previous_secret_expires: c.previous_secret_expires.map(Timestamp::millis),
            created: c.created.millis(),
            secret_rotated: c.secret_rotated.map(Timestamp::millis),
            revoked: c.revoked.map(Timestamp::millis),
        }
    }

    fn into_domain(self) -> Result<ClientRecord, DbError> {
        // A client may be stored with no scope at all (it can then get no token).
        let scopes = if self.scopes.trim().is_empty() {
            ScopeSet::empty()
        } else {
            ScopeSet::parse(&self.scopes)
                .map_err(|e| DbError::Corrupt(format!("client scopes: {e}")))?
        };
        let grant_types = self
            .grant_types
            .split(' ')
            .filter(|g| !g.is_empty())
            .map(|g| GrantType::parse(g).ok_or_else(|| DbError::Corrupt(format!("grant type {g}"))))
            .collect::<Result<_, _>>()?;
        Ok(ClientRecord {
            client_id: ClientId::from_raw(self.client_id),
            tenant_id: TenantId::from_raw(self.tenant_id),
            name: self.name,
            scopes,
            grant_types,
            secret_hash: self.secret_hash,
            previous_secret_hash: self.previous_secret_hash,
            previous_secret_expires: self.previous_secret_expires.map(Timestamp::from_millis),
            created: Timestamp::from_millis(self.created),
            secret_rotated: self.secret_rotated.map(Timestamp::from_millis),
            revoked: self.revoked.map(Timestamp::from_millis),
        })
    }
}

#[async_trait]
impl ClientStore for DbStore {
    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let row = ClientRow::from_domain(client);
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::insert_into(oauth_clients::table).values(&row).execute(conn).await.map_err(DbError::from)
        });
        r.map(drop).map_err(StoreError::from)
    }

    async fn client(&self, id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        let r: Result<Option<ClientRow>, DbError> = with_conn!(self, conn => {
            oauth_clients::table.find(id.as_str()).select(ClientRow::as_select())
                .first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(ClientRow::into_domain).transpose()?)
    }

    async fn clients_of(&self, tenant: &TenantId) -> Result<Vec<ClientRecord>, StoreError> {
        let r: Result<Vec<ClientRow>, DbError> = with_conn!(self, conn => {
            oauth_clients::table.filter(oauth_clients::tenant_id.eq(tenant.as_str()))
                .order((oauth_clients::created, oauth_clients::client_id))
                .select(ClientRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        Ok(r?
            .into_iter()
            .map(ClientRow::into_domain)
            .collect::<Result<_, _>>()?)
    }

    async fn rotate_client_secret(
        &self,
        id: &ClientId,
        new_hash: &str,
        previous_expires: Timestamp,
        at: Timestamp,
    ) -> Result<ClientRecord, StoreError> {
        let id = id.as_str();
        // One statement: the current hash becomes the previous one, whatever a concurrent
        // rotation did, and a revoked client is never brought back.
        let r: Result<Option<ClientRow>, DbError> = with_conn!(self, conn => {
            diesel::update(oauth_clients::table.find(id).filter(oauth_clients::revoked.is_null()))
                .set((
                    oauth_clients::previous_secret_hash.eq(oauth_clients::secret_hash.nullable()),
                    oauth_clients::previous_secret_expires.eq(Some(previous_expires.millis())),
                    oauth_clients::secret_hash.eq(new_hash),
                    oauth_clients::secret_rotated.eq(Some(at.millis())),
                ))
                .returning(ClientRow::as_returning())
                .get_result(conn).await.optional().map_err(DbError::from)
        });
        r?.ok_or(StoreError::NotFound)?
            .into_domain()
            .map_err(StoreError::from)
    }

    async fn revoke_client(&self, id: &ClientId, at: Timestamp) -> Result<bool, StoreError> {
        let id = id.as_str();
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::update(oauth_clients::table.find(id).filter(oauth_clients::revoked.is_null()))
                .set(oauth_clients::revoked.eq(Some(at.millis())))
                .execute(conn).await.map_err(DbError::from)
        });
        if r? > 0 {
            return Ok(true);
        }
        let exists: Result<i64, DbError> = with_conn!(self, conn => {
            oauth_clients::table.find(id).count().get_result(conn).await.map_err(DbError::from)
        });
        Ok(exists? > 0)
    }

    async fn clients_revoked_since(&self, since: Timestamp) -> Result<Vec<ClientId>, StoreError> {
        let r: Result<Vec<String>, DbError> = with_conn!(self, conn => {
            oauth_clients::table.filter(oauth_clients::revoked.ge(since.millis()))
                .select(oauth_clients::client_id).load(conn).await.map_err(DbError::from)
        });
        Ok(r?.into_iter().map(ClientId::from_raw).collect())
    }

    async fn revoke_tenant_credentials(
        &self,
        tenant: &TenantId,
        at: Timestamp,
    ) -> Result<Disconnected, StoreError> {
        let tenant = tenant.as_str();
        let r: Result<(usize, usize), DbError> = with_conn!(self, conn => {
            conn.transaction::<_, DbError, _>(async move |conn| {
                let clients = diesel::update(
                    oauth_clients::table
                        .filter(oauth_clients::tenant_id.eq(tenant))
                        .filter(oauth_clients::revoked.is_null()),
                )
                .set(oauth_clients::revoked.eq(Some(at.millis())))
                .execute(conn)
                .await?;
                let tokens = diesel::update(
                    scim_tokens::table
                        .filter(scim_tokens::tenant_id.eq(tenant))
                        .filter(scim_tokens::revoked.is_null()),
                )
                .set(scim_tokens::revoked.eq(Some(at.millis())))
                .execute(conn)
                .await?;
                Ok((clients, tokens))
            }).await
        });
        let (clients, tokens) = r?;
        Ok(Disconnected {
            clients: clients as u64,
            tokens: tokens as u64,
        })
    }
}
