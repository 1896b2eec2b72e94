//! Tenants: insert, lookups by slug and id, listing, settings.

use scimgate_domain::ids::TenantId;
use scimgate_domain::ports::{StoreError, TenantStore};
use scimgate_domain::tenant::{ActivateOn, DeleteBehaviour, TenantSettings, UniqueIdentifier};

use crate::backends::for_each_backend;
use crate::fixtures::new_tenant;

#[tokio::test]
async fn a_tenant_is_found_by_slug_and_by_id() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("acme-corp");
        store.insert_tenant(&tenant).await.unwrap();

        assert_eq!(
            store.tenant_by_slug("acme-corp").await.unwrap(),
            Some(tenant.clone())
        );
        assert_eq!(
            store.tenant_by_id(&tenant.id).await.unwrap(),
            Some(tenant.clone())
        );
        assert_eq!(store.tenant_by_slug("acme").await.unwrap(), None);
        assert_eq!(
            store.tenant_by_id(&TenantId::generate()).await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn tenants_are_listed_by_slug() {
    for_each_backend(|store| async move {
        for slug in ["zeta", "acme", "m-42"] {
            store.insert_tenant(&new_tenant(slug)).await.unwrap();
        }
        let slugs: Vec<String> = store
            .list_tenants()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.slug.to_string())
            .collect();
        assert_eq!(slugs, ["acme", "m-42", "zeta"]);
    })
    .await;
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict() {
    for_each_backend(|store| async move {
        store.insert_tenant(&new_tenant("acme")).await.unwrap();
        let err = store.insert_tenant(&new_tenant("acme")).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { what: "slug" }),
            "{err:?}"
        );
        assert_eq!(store.list_tenants().await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn settings_updates_are_read_back_and_an_unknown_tenant_is_not_found() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("launchdarkly-like");
        store.insert_tenant(&tenant).await.unwrap();
        let settings = TenantSettings {
            unique_identifier: UniqueIdentifier::UserName,
            delete_behaviour: DeleteBehaviour::Remove,
            protect_pre_scim_members: true,
            strict_schema: true,
            team_sync: true,
            default_initial_role: "admin".into(),
            seat_limit: Some(5),
            activate_on: ActivateOn::FirstSignIn,
        };
        store
            .update_tenant_settings(&tenant.id, &settings)
            .await
            .unwrap();

        let read = store.tenant_by_slug("launchdarkly-like").await.unwrap();
        assert_eq!(read.map(|t| t.settings), Some(settings.clone()));

        let err = store
            .update_tenant_settings(&TenantId::generate(), &settings)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    })
    .await;
}
