//! Realistic tenants, SCIM Users and Groups for the store tests, and short ways to list them.

use scimgate_domain::ids::TenantId;
use scimgate_domain::tenant::{Slug, Tenant, TenantSettings};
use scimgate_domain::time::Timestamp;

pub fn new_tenant(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::generate(),
        slug: Slug::parse(slug).expect("a valid slug"),
        name: format!("{slug} Inc."),
        settings: TenantSettings::default(),
        created: Timestamp::now(),
    }
}
