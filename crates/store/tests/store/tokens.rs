//! Static SCIM tokens: stored by hash, looked up with their tenant, revoked idempotently.

use scimgate_domain::ids::{TenantId, TokenId};
use scimgate_domain::ports::{TenantStore, TokenRecord, TokenStore};
use scimgate_domain::time::Timestamp;

use crate::backends::for_each_backend;
use crate::fixtures::new_tenant;

fn token(tenant: &TenantId, hash: &str, created: Timestamp) -> TokenRecord {
    TokenRecord {
        id: TokenId::generate(),
        tenant_id: tenant.clone(),
        hash: hash.to_owned(),
        created,
        expires: Some(created.plus_seconds(90 * 24 * 3600)),
        revoked: None,
    }
}

#[tokio::test]
async fn a_token_is_found_by_its_hash_with_its_tenant() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("acme");
        store.insert_tenant(&tenant).await.unwrap();
        let record = token(
            &tenant.id,
            "hmac-sha256:3f1c9a0d5e",
            Timestamp::from_millis(1_763_894_640_123),
        );
        store.insert_token(&record).await.unwrap();

        let (found, owner) = store
            .token_by_hash("hmac-sha256:3f1c9a0d5e")
            .await
            .unwrap()
            .expect("the token");
        assert_eq!(found, record);
        assert_eq!(owner, tenant);
        assert_eq!(
            store.token_by_hash("hmac-sha256:other").await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn revoking_is_true_again_for_a_revoked_token_and_false_for_an_unknown_one() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("acme");
        store.insert_tenant(&tenant).await.unwrap();
        let record = token(&tenant.id, "h1", Timestamp::now());
        store.insert_token(&record).await.unwrap();

        let at = Timestamp::from_millis(1_800_000_000_000);
        assert!(store.revoke_token(&record.id, at).await.unwrap());
        assert!(
            store
                .revoke_token(&record.id, at.plus_seconds(60))
                .await
                .unwrap()
        );
        assert!(!store.revoke_token(&TokenId::generate(), at).await.unwrap());

        // The first revocation's time stays; the lookup still answers (the caller refuses it).
        let (found, _) = store.token_by_hash("h1").await.unwrap().expect("the token");
        assert_eq!(found.revoked, Some(at));
    })
    .await;
}

#[tokio::test]
async fn tokens_of_lists_a_tenants_tokens_oldest_first_and_no_others() {
    for_each_backend(|store| async move {
        let acme = new_tenant("acme");
        let globex = new_tenant("globex");
        store.insert_tenant(&acme).await.unwrap();
        store.insert_tenant(&globex).await.unwrap();
        let t0 = Timestamp::from_millis(1_700_000_000_000);
        let newer = token(&acme.id, "a2", t0.plus_seconds(10));
        let older = token(&acme.id, "a1", t0);
        let other = token(&globex.id, "g1", t0);
        for t in [&newer, &older, &other] {
            store.insert_token(t).await.unwrap();
        }

        assert_eq!(store.tokens_of(&acme.id).await.unwrap(), vec![older, newer]);
        assert_eq!(store.tokens_of(&globex.id).await.unwrap(), vec![other]);
        assert_eq!(
            store.tokens_of(&TenantId::generate()).await.unwrap(),
            Vec::new()
        );
    })
    .await;
}
