//! OAuth2 clients, signing keys and revoked access tokens: stored and read back the same on both
//! backends; rotation keeps the previous secret; Disconnect SCIM revokes one tenant's
//! credentials and nobody else's; at most one signing key is current.

use scimgate_domain::ids::{ClientId, TenantId, TokenId};
use scimgate_domain::oauth::{ClientRecord, GrantType, RevokedToken, ScopeSet, SigningKeyRecord};
use scimgate_domain::ports::{
    ClientStore, KeyStore, RevocationStore, StoreError, TenantStore, TokenRecord, TokenStore,
};
use scimgate_domain::time::Timestamp;

use crate::backends::for_each_backend;
use crate::fixtures::new_tenant;

fn client(tenant: &TenantId, id: &str, created: Timestamp) -> ClientRecord {
    ClientRecord {
        client_id: ClientId::from_raw(id),
        tenant_id: tenant.clone(),
        name: "Okta – production".into(),
        scopes: ScopeSet::parse("scim:read").unwrap(),
        grant_types: vec![GrantType::ClientCredentials],
        secret_hash: format!("hash-of-{id}"),
        previous_secret_hash: None,
        previous_secret_expires: None,
        created,
        secret_rotated: None,
        revoked: None,
    }
}

fn key(kid: &str, created: Timestamp) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        alg: "ES256".into(),
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        sealed_private_key: format!("v1.sealed-{kid}"),
        created,
        retired: None,
    }
}

#[tokio::test]
async fn a_client_reads_back_as_written_and_ids_are_unique() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("acme");
        store.insert_tenant(&tenant).await.unwrap();
        let c = client(
            &tenant.id,
            "sgc_1",
            Timestamp::from_millis(1_800_000_000_123),
        );
        store.insert_client(&c).await.unwrap();
        assert_eq!(store.client(&c.client_id).await.unwrap(), Some(c.clone()));
        assert_eq!(
            store.client(&ClientId::from_raw("sgc_none")).await.unwrap(),
            None
        );
        assert!(matches!(
            store.insert_client(&c).await,
            Err(StoreError::Conflict { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn clients_of_lists_one_tenants_clients_oldest_first() {
    for_each_backend(|store| async move {
        let (a, b) = (new_tenant("acme"), new_tenant("globex"));
        store.insert_tenant(&a).await.unwrap();
        store.insert_tenant(&b).await.unwrap();
        let t0 = Timestamp::from_millis(1_800_000_000_000);
        store
            .insert_client(&client(&a.id, "sgc_late", t0.plus_seconds(5)))
            .await
            .unwrap();
        store
            .insert_client(&client(&a.id, "sgc_early", t0))
            .await
            .unwrap();
        store
            .insert_client(&client(&b.id, "sgc_other", t0))
            .await
            .unwrap();
        let ids: Vec<String> = store
            .clients_of(&a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.client_id.into_string())
            .collect();
        assert_eq!(ids, ["sgc_early", "sgc_late"]);
    })
    .await;
}

#[tokio::test]
async fn rotation_keeps_the_current_secret_as_the_previous_one() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("acme");
        store.insert_tenant(&tenant).await.unwrap();
        let c = client(&tenant.id, "sgc_1", Timestamp::now());
        store.insert_client(&c).await.unwrap();
        let at = Timestamp::from_millis(1_800_000_000_000);
        let rotated = store
            .rotate_client_secret(&c.client_id, "hash-2", at.plus_seconds(3600), at)
            .await
            .unwrap();
        assert_eq!(rotated.secret_hash, "hash-2");
        assert_eq!(
            rotated.previous_secret_hash.as_deref(),
            Some("hash-of-sgc_1")
        );
        assert_eq!(rotated.previous_secret_expires, Some(at.plus_seconds(3600)));
        assert_eq!(rotated.secret_rotated, Some(at));
        // A second rotation drops the oldest secret.
        let again = store
            .rotate_client_secret(&c.client_id, "hash-3", at.plus_seconds(60), at)
            .await
            .unwrap();
        assert_eq!(again.previous_secret_hash.as_deref(), Some("hash-2"));
        assert_eq!(store.client(&c.client_id).await.unwrap(), Some(again));
        assert!(matches!(
            store
                .rotate_client_secret(&ClientId::from_raw("sgc_none"), "h", at, at)
                .await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn a_revoked_client_stays_revoked_from_its_first_revocation_and_cannot_rotate() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("acme");
        store.insert_tenant(&tenant).await.unwrap();
        let c = client(&tenant.id, "sgc_1", Timestamp::now());
        store.insert_client(&c).await.unwrap();
        let at = Timestamp::from_millis(1_800_000_000_000);
        assert!(store.revoke_client(&c.client_id, at).await.unwrap());
        assert!(
            store
                .revoke_client(&c.client_id, at.plus_seconds(9))
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_client(&ClientId::from_raw("sgc_none"), at)
                .await
                .unwrap()
        );
        let stored = store.client(&c.client_id).await.unwrap().unwrap();
        assert_eq!(stored.revoked, Some(at));
        assert!(matches!(
            store.rotate_client_secret(&c.client_id, "h", at, at).await,
            Err(StoreError::NotFound)
        ));
        let since = |s: i64| store.clients_revoked_since(at.plus_seconds(s));
        assert_eq!(since(0).await.unwrap(), std::slice::from_ref(&c.client_id));
        assert!(since(1).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn disconnect_revokes_every_credential_of_one_tenant_and_nothing_else() {
    for_each_backend(|store| async move {
        let (a, b) = (new_tenant("acme"), new_tenant("globex"));
        store.insert_tenant(&a).await.unwrap();
        store.insert_tenant(&b).await.unwrap();
        let now = Timestamp::now();
        let token = |t: &TenantId, h: &str| TokenRecord {
            id: TokenId::generate(),
            tenant_id: t.clone(),
            hash: h.into(),
            created: now,
            expires: None,
            revoked: None,
        };
        for (t, id) in [(&a.id, "sgc_a1"), (&a.id, "sgc_a2"), (&b.id, "sgc_b")] {
            store.insert_client(&client(t, id, now)).await.unwrap();
        }
        store.insert_token(&token(&a.id, "ha")).await.unwrap();
        store.insert_token(&token(&b.id, "hb")).await.unwrap();
        let earlier = now.plus_seconds(-60);
        store
            .revoke_client(&ClientId::from_raw("sgc_a2"), earlier)
            .await
            .unwrap();

        let at = now.plus_seconds(1);
        let done = store.revoke_tenant_credentials(&a.id, at).await.unwrap();
        assert_eq!(
            (done.clients, done.tokens),
            (1, 1),
            "only what was still live"
        );
        let a1 = store
            .client(&ClientId::from_raw("sgc_a1"))
            .await
            .unwrap()
            .unwrap();
        let a2 = store
            .client(&ClientId::from_raw("sgc_a2"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((a1.revoked, a2.revoked), (Some(at), Some(earlier)));
        assert_eq!(store.tokens_of(&a.id).await.unwrap()[0].revoked, Some(at));
        let b_client = store
            .client(&ClientId::from_raw("sgc_b"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b_client.revoked, None);
        assert_eq!(store.tokens_of(&b.id).await.unwrap()[0].revoked, None);
        // Data stays: the tenant is still there.
        assert!(store.tenant_by_id(&a.id).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn at_most_one_signing_key_is_current_and_rotation_retires_and_forgets() {
    for_each_backend(|store| async move {
        let t0 = Timestamp::from_millis(1_800_000_000_000);
        assert!(
            store
                .insert_first_signing_key(&key("k1", t0))
                .await
                .unwrap()
        );
        // A second replica starting at once makes no second key.
        assert!(
            !store
                .insert_first_signing_key(&key("k1b", t0))
                .await
                .unwrap()
        );
        assert_eq!(store.signing_keys().await.unwrap(), [key("k1", t0)]);

        let t1 = t0.plus_seconds(100);
        store
            .rotate_signing_key(&key("k2", t1), t1, t0)
            .await
            .unwrap();
        let keys = store.signing_keys().await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!((keys[0].kid.as_str(), keys[0].retired), ("k2", None));
        assert_eq!((keys[1].kid.as_str(), keys[1].retired), ("k1", Some(t1)));

        // k1 was retired at t1: forgetting keys retired before t1 + 1 s deletes it.
        let t2 = t1.plus_seconds(100);
        store
            .rotate_signing_key(&key("k3", t2), t2, t1.plus_seconds(1))
            .await
            .unwrap();
        let kids: Vec<String> = store
            .signing_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, ["k3", "k2"]);
    })
    .await;
}

#[tokio::test]
async fn revoked_tokens_are_listed_until_they_expire_and_revoking_twice_is_harmless() {
    for_each_backend(|store| async move {
        let tenant = new_tenant("acme");
        store.insert_tenant(&tenant).await.unwrap();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let revoked = |jti: &str, expires: Timestamp| RevokedToken {
            jti: jti.into(),
            tenant_id: tenant.id.clone(),
            client_id: ClientId::from_raw("sgc_1"),
            revoked: now,
            expires,
        };
        store
            .revoke_access_token(&revoked("j1", now.plus_seconds(60)))
            .await
            .unwrap();
        store
            .revoke_access_token(&revoked("j1", now.plus_seconds(60)))
            .await
            .unwrap();
        store
            .revoke_access_token(&revoked("j2", now.plus_seconds(600)))
            .await
            .unwrap();
        let mut live = store.revoked_token_ids(now).await.unwrap();
        live.sort();
        assert_eq!(live, ["j1", "j2"]);
        assert_eq!(
            store.revoked_token_ids(now.plus_seconds(60)).await.unwrap(),
            ["j2"]
        );
    })
    .await;
}
