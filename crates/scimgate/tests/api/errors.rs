//! Refusals as RFC 7644 §3.12 error bodies: `schemas` is the Error URN, `status` a string, and
//! `scimType` as SEMANTICS "Errors" lists it.
//!
//! Two `scimType` values have no test because the server never produces them: `tooMany` (a
//! `count` above `filter.maxResults` is served as `maxResults`, see
//! `user_lists::a_count_above_max_results_is_served_as_max_results`) and `invalidVers` (the
//! API has one version and reads no version parameter).

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

async fn alice(app: &TestApp) -> String {
    app.scim
        .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
        .await
}

#[tokio::test]
async fn an_unparsable_filter_is_invalid_filter() {
    for_each_backend(|app| async move {
        let res = app
            .scim
            .filter_users("userName eq \"unterminated")
            .await
            .expect_error(400, Some("invalidFilter"));
        assert!(!res.body["detail"].as_str().unwrap_or_default().is_empty());
        app.scim
            .get("/Groups?filter=displayName%20%3D%3D%20x")
            .await
            .expect_error(400, Some("invalidFilter"));
    })
    .await;
}

#[tokio::test]
async fn a_bad_patch_path_is_invalid_path() {
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        for path in ["noSuchAttribute", "emails[type eq", "name.noSuchSub"] {
            let ops = json!([{"op": "replace", "path": path, "value": "x"}]);
            app.scim
                .patch_ops(&format!("/Users/{id}"), ops)
                .await
                .expect_error(400, Some("invalidPath"));
        }
    })
    .await;
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_invalid_value() {
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let ops = json!([{"op": "replace", "path": "active", "value": "maybe"}]);
        app.scim
            .patch_ops(&format!("/Users/{id}"), ops)
            .await
            .expect_error(400, Some("invalidValue"));
        let mut body = user("bob", "Bob", "Jones", "bob@example.com");
        body["active"] = json!([1, 2]);
        app.scim
            .post("/Users", &body)
            .await
            .expect_error(400, Some("invalidValue"));
    })
    .await;
}

#[tokio::test]
async fn malformed_json_and_missing_schemas_are_invalid_syntax() {
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let raw = |method: Method, path: &str, text: &'static str| {
            app.scim
                .request(method, path)
                .header("content-type", "application/scim+json")
                .body(text)
        };
        send(raw(Method::POST, "/Users", "{\"userName\": "))
            .await
            .expect_error(400, Some("invalidSyntax"));
        send(raw(Method::PUT, &format!("/Users/{id}"), "not json"))
            .await
            .expect_error(400, Some("invalidSyntax"));
        send(raw(Method::PATCH, &format!("/Users/{id}"), "{"))
            .await
            .expect_error(400, Some("invalidSyntax"));
        send(raw(Method::POST, "/Users", ""))
            .await
            .expect_error(400, Some("invalidSyntax"));
        let mut no_schemas = user("bob", "Bob", "Jones", "bob@example.com");
        no_schemas.as_object_mut().unwrap().remove("schemas");
        app.scim
            .post("/Users", &no_schemas)
            .await
            .expect_error(400, Some("invalidSyntax"));
        let patch_without_schemas =
            json!({"Operations": [{"op": "replace", "path": "title", "value": "x"}]});
        app.scim
            .patch(&format!("/Users/{id}"), &patch_without_schemas)
            .await
            .expect_error(400, Some("invalidSyntax"));
        let no_schemas_group = json!({"displayName": "Engineering"});
        app.scim
            .post("/Groups", &no_schemas_group)
            .await
            .expect_error(400, Some("invalidSyntax"));
        send(raw(Method::POST, "/Bulk", "{\"Operations\": ["))
            .await
            .expect_error(400, Some("invalidSyntax"));
        app.scim
            .post("/Bulk", &json!({"Operations": []}))
            .await
            .expect_error(400, Some("invalidSyntax"));
    })
    .await;
}

#[tokio::test]
async fn patching_id_to_another_value_is_mutability() {
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let before = app.scim.get(&format!("/Users/{id}")).await.expect(200);
        let ops = json!([{"op": "replace", "path": "id", "value": "another-id"}]);
        app.scim
            .patch_ops(&format!("/Users/{id}"), ops)
            .await
            .expect_error(400, Some("mutability"));
        let ops = json!([{"op": "replace", "value": {"id": "another-id", "title": "CTO"}}]);
        app.scim
            .patch_ops(&format!("/Users/{id}"), ops)
            .await
            .expect_error(400, Some("mutability"));
        assert_eq!(
            app.scim.get(&format!("/Users/{id}")).await.expect(200).body,
            before.body
        );
        let gid = app.scim.create_group(&group("Engineering", &[])).await;
        let ops = json!([{"op": "replace", "value": {"id": "another-id", "displayName": "Eng"}}]);
        app.scim
            .patch_ops(&format!("/Groups/{gid}"), ops)
            .await
            .expect_error(400, Some("mutability"));
    })
    .await;
}

#[tokio::test]
async fn removing_with_a_filter_that_matches_nothing_is_no_target() {
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let ops = json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]);
        app.scim
            .patch_ops(&format!("/Users/{id}"), ops)
            .await
            .expect_error(400, Some("noTarget"));
        let ops = json!([{"op": "remove"}]);
        app.scim
            .patch_ops(&format!("/Users/{id}"), ops)
            .await
            .expect_error(400, Some("noTarget"));
        let got = app.scim.get(&format!("/Users/{id}")).await.expect(200);
        assert_eq!(got.body["emails"][0]["value"], "alice@example.com");
    })
    .await;
}

#[tokio::test]
async fn missing_wrong_revoked_and_expired_tokens_are_401_with_a_bearer_challenge() {
    for_each_backend(|app| async move {
        let (revoked, record) = app.add_token(&app.tenant.id, None).await;
        use scimgate_domain::ports::TokenStore as _;
        assert!(
            app.services
                .db
                .revoke_token(&record.id, scimgate_domain::time::Timestamp::now())
                .await
                .unwrap()
        );
        let past = scimgate_domain::time::Timestamp::now().plus_seconds(-60);
        let (expired, _) = app.add_token(&app.tenant.id, Some(past)).await;
        let (future, _) = app
            .add_token(&app.tenant.id, Some(past.plus_seconds(3600)))
            .await;

        let missing = app.anonymous().get("/Users").await.expect_error(401, None);
        let challenge = missing.header("www-authenticate").expect("a challenge");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(
            !challenge.contains("error="),
            "RFC 6750 §3.1: no error code without a token: {challenge}"
        );
        let wrong = format!("scimgate_{}", "A".repeat(43));
        for token in [
            wrong.as_str(),
            "not-even-our-prefix",
            revoked.as_str(),
            expired.as_str(),
        ] {
            let res = app
                .scim
                .with_token(Some(token))
                .get("/Users")
                .await
                .expect_error(401, None);
            let challenge = res.header("www-authenticate").expect("a challenge");
            assert!(
                challenge.starts_with("Bearer") && challenge.contains("invalid_token"),
                "{challenge}"
            );
        }
        let basic = send(
            app.anonymous()
                .request(Method::GET, "/Users")
                .basic_auth("acme", Some(&app.token)),
        )
        .await;
        basic.expect_error(401, None);
        // Writes are refused the same way.
        let res = app
            .scim
            .with_token(Some(&expired))
            .post("/Users", &user("bob", "Bob", "Jones", "bob@example.com"))
            .await;
        res.expect_error(401, None);
        assert_eq!(app.scim.get("/Users").await.expect(200).total(), 0);
        // A token that expires later works.
        app.scim
            .with_token(Some(&future))
            .get("/Users")
            .await
            .expect(200);
    })
    .await;
}

#[tokio::test]
async fn a_write_to_a_read_only_endpoint_is_405() {
    for_each_backend(|app| async move {
        app.scim
            .post("/ServiceProviderConfig", &json!({}))
            .await
            .expect_error(405, None);
        app.scim.delete("/Schemas").await.expect_error(405, None);
        app.scim
            .put("/ResourceTypes/User", &json!({}))
            .await
            .expect_error(405, None);
        app.scim.delete("/Users").await.expect_error(405, None);
    })
    .await;
}

#[tokio::test]
async fn an_unknown_endpoint_is_404() {
    for_each_backend(|app| async move {
        app.scim.get("/Widgets").await.expect_error(404, None);
        app.scim.get("/Users/a/b").await.expect_error(404, None);
        assert_eq!(app.root().get("/nothing-here").await.status, 404);
        // Health endpoints need no credential.
        app.root()
            .with_token(None)
            .get("/healthz")
            .await
            .expect(200);
        app.root().with_token(None).get("/readyz").await.expect(200);
    })
    .await;
}
