//! Tenants and static SCIM tokens' lookups.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scimgate_domain::ids::TenantId;
use scimgate_domain::ports::{StoreError, TenantStore};
use scimgate_domain::tenant::{Tenant, TenantSettings};

use crate::connection::{DbStore, with_conn};
use crate::error::DbError;
use crate::rows::TenantRow;
use crate::schema::tenants;

#[async_trait]
impl TenantStore for DbStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let row = TenantRow::from_domain(tenant)?;
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::insert_into(tenants::table).values(&row).execute(conn).await.map_err(DbError::from)
        });
        r.map(drop).map_err(StoreError::from)
    }

    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>, StoreError> {
        let r: Result<Option<TenantRow>, DbError> = with_conn!(self, conn => {
            tenants::table.filter(tenants::slug.eq(slug)).select(TenantRow::as_select())
                .first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(TenantRow::into_domain).transpose()?)
    }

    async fn tenant_by_id(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let r: Result<Option<TenantRow>, DbError> = with_conn!(self, conn => {
            tenants::table.find(id.as_str()).select(TenantRow::as_select())
                .first(conn).await.optional().map_err(DbError::from)
        });
        Ok(r?.map(TenantRow::into_domain).transpose()?)
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let r: Result<Vec<TenantRow>, DbError> = with_conn!(self, conn => {
            tenants::table.order(tenants::slug).select(TenantRow::as_select()).load(conn).await.map_err(DbError::from)
        });
        Ok(r?
            .into_iter()
            .map(TenantRow::into_domain)
            .collect::<Result<_, _>>()?)
    }

    async fn update_tenant_settings(
        &self,
        id: &TenantId,
        settings: &TenantSettings,
    ) -> Result<(), StoreError> {
        let text =
            serde_json::to_string(settings).map_err(|e| StoreError::Backend(e.to_string()))?;
        let r: Result<usize, DbError> = with_conn!(self, conn => {
            diesel::update(tenants::table.find(id.as_str())).set(tenants::settings.eq(&text))
                .execute(conn).await.map_err(DbError::from)
        });
        match r? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}
