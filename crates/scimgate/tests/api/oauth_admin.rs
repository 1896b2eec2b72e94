//! Support operations through the admin API, seen from the IdP's side: rotation with and
//! without overlap, client revocation, Disconnect SCIM and signing-key rotation all apply to
//! the token endpoint and the SCIM API at once (this process; `token_cache_seconds` 0).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::oauth::{Auth, access_token, add_client, expect_oauth_error, post_form};

/// A request to the admin API with the operator credential (or another one).
async fn admin(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> Resp {
    let client = app.root().with_token(Some(token.unwrap_or(OPERATOR_TOKEN)));
    let rb = client.request(method, &format!("/admin/v1{path}"));
    send(match body {
        Some(b) => rb.json(&b),
        None => rb,
    })
    .await
}

#[tokio::test]
async fn the_admin_api_wants_the_operator_credential_and_answers_problem_details() {
    for_each_backend(|app| async move {
        for token in [Some("wrong-operator-token"), Some("")] {
            let r = admin(&app, Method::GET, "/tenants", None, token)
                .await
                .expect(401);
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            assert_eq!(r.body["status"], 401);
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|c| c.starts_with("Bearer "))
            );
        }
        // A static SCIM token is no operator credential.
        admin(&app, Method::GET, "/tenants", None, Some(&app.token))
            .await
            .expect(401);
        let listed = admin(&app, Method::GET, "/tenants", None, None)
            .await
            .expect(200);
        assert_eq!(listed.body["tenants"][0]["slug"], "acme");
        admin(&app, Method::GET, "/tenants/nope", None, None)
            .await
            .expect(404);
        let bad = admin(
            &app,
            Method::POST,
            "/tenants",
            Some(json!({ "slug": "Not OK" })),
            None,
        )
        .await;
        assert_eq!(bad.expect(400).body["title"], "Bad Request");
        // The document is public and parses.
        let doc = app
            .root()
            .with_token(None)
            .get("/admin/v1/openapi.json")
            .await
            .expect(200);
        assert!(doc.body.is_object());
    })
    .await;
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_for_the_overlap_and_no_longer() {
    for_each_backend(|app| async move {
        let (id, old) = add_client(&app, &app.tenant, "scim:read").await;
        let path = format!("/tenants/acme/clients/{id}/rotate");
        let r = admin(
            &app,
            Method::POST,
            &path,
            Some(json!({ "overlap_seconds": 3600 })),
            None,
        )
        .await
        .expect(200);
        let new = r.body["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert!(r.body["previous_secret_expires"].is_string());
        access_token(&app, &id, &old, &[]).await;
        access_token(&app, &id, &new, &[]).await;
        // A second rotation without overlap: only the newest secret works.
        let r = admin(
            &app,
            Method::POST,
            &path,
            Some(json!({ "overlap_seconds": 0 })),
            None,
        )
        .await
        .expect(200);
        let newest = r.body["client_secret"].as_str().unwrap().to_owned();
        let cc = [("grant_type", "client_credentials")];
        for stale in [&old, &new] {
            let r = post_form(&app, "/oauth/token", Auth::Basic(&id, stale), &cc).await;
            expect_oauth_error(r, 401, "invalid_client");
        }
        access_token(&app, &id, &newest, &[]).await;
        // The secret is shown on rotation only, never when reading the client.
        let shown = admin(
            &app,
            Method::GET,
            &format!("/tenants/acme/clients/{id}"),
            None,
            None,
        )
        .await
        .expect(200);
        assert!(shown.body.get("client_secret").is_none());
        assert!(!shown.text.contains(&newest));
    })
    .await;
}

#[tokio::test]
async fn a_revoked_client_gets_no_token_and_its_tokens_stop_working() {
    for_each_backend(|app| async move {
        let (id, secret) = add_client(&app, &app.tenant, "scim:read").await;
        let token = access_token(&app, &id, &secret, &[]).await;
        let scim = app.scim.with_token(Some(&token));
        scim.get("/Users").await.expect(200);
        let r = admin(
            &app,
            Method::POST,
            &format!("/tenants/acme/clients/{id}/revoke"),
            None,
            None,
        )
        .await;
        assert_eq!(r.expect(200).body["status"], "revoked");
        scim.get("/Users").await.expect_error(401, None);
        let r = post_form(
            &app,
            "/oauth/token",
            Auth::Basic(&id, &secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
        expect_oauth_error(r, 401, "invalid_client");
        // Another tenant's client is not reachable through this tenant's path.
        let (other, _) = app.other_tenant("globex").await;
        let (oid, _) = add_client(&app, &other, "scim:read").await;
        admin(
            &app,
            Method::POST,
            &format!("/tenants/acme/clients/{oid}/revoke"),
            None,
            None,
        )
        .await
        .expect(404);
    })
    .await;
}

#[tokio::test]
async fn disconnect_scim_stops_every_credential_of_the_tenant_and_keeps_its_data() {
    for_each_backend(|app| async move {
        let (id, secret) = add_client(&app, &app.tenant, "scim:read scim:write").await;
        let token = access_token(&app, &id, &secret, &[]).await;
        let oauth = app.scim.with_token(Some(&token));
        let alice = oauth
            .create_user(&user(
                "alice@acme.example",
                "Alice",
                "L",
                "alice@acme.example",
            ))
            .await;
        let (_, globex) = app.other_tenant("globex").await;

        let r = admin(
            &app,
            Method::POST,
            "/tenants/acme/disconnect-scim",
            None,
            None,
        )
        .await
        .expect(200);
        assert_eq!(
            (
                r.body["clients_revoked"].as_u64(),
                r.body["tokens_revoked"].as_u64()
            ),
            (Some(1), Some(1))
        );
        oauth.get("/Users").await.expect_error(401, None);
        app.scim.get("/Users").await.expect_error(401, None);
        let r = post_form(
            &app,
            "/oauth/token",
            Auth::Basic(&id, &secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
        expect_oauth_error(r, 401, "invalid_client");
        globex.get("/Users").await.expect(200);

        // Connecting again (a new client) finds the same members.
        let (nid, nsecret) = add_client(&app, &app.tenant, "scim:read").await;
        let again = app
            .scim
            .with_token(Some(&access_token(&app, &nid, &nsecret, &[]).await));
        again.get(&format!("/Users/{alice}")).await.expect(200);
    })
    .await;
}

#[tokio::test]
async fn key_rotation_publishes_both_keys_and_old_tokens_keep_working() {
    for_each_backend(|app| async move {
        let (id, secret) = add_client(&app, &app.tenant, "scim:read").await;
        let before = access_token(&app, &id, &secret, &[]).await;
        let jwks = app
            .root()
            .with_token(None)
            .get("/.well-known/jwks.json")
            .await
            .expect(200);
        assert_eq!(jwks.body["keys"].as_array().map(Vec::len), Some(1));
        let r = admin(&app, Method::POST, "/keys/rotate", None, None)
            .await
            .expect(200);
        let kid = r.body["kid"].as_str().unwrap().to_owned();
        let jwks = app
            .root()
            .with_token(None)
            .get("/.well-known/jwks.json")
            .await
            .expect(200);
        let kids: Vec<&str> = jwks.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids.len(), 2);
        assert!(kids.contains(&kid.as_str()));
        for k in jwks.body["keys"].as_array().unwrap() {
            assert!(
                k.get("d").is_none(),
                "a private key part was published: {k}"
            );
        }
        let after = access_token(&app, &id, &secret, &[]).await;
        let header = |t: &str| -> Value {
            use base64::Engine as _;
            let h = t.split('.').next().unwrap();
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(h)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(header(&after)["kid"], kid.as_str());
        assert_ne!(header(&before)["kid"], kid.as_str());
        app.scim
            .with_token(Some(&before))
            .get("/Users")
            .await
            .expect(200);
        app.scim
            .with_token(Some(&after))
            .get("/Users")
            .await
            .expect(200);
    })
    .await;
}
