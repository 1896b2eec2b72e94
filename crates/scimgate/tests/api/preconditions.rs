//! ETags and preconditions (RFC 7644 §3.14, RFC 7232): If-Match on writes, If-None-Match on
//! reads.

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn if_match_with_another_version_is_412_and_changes_nothing() {
    for_each_backend(|app| async move {
        let created = app.scim.post("/Users", &user("alice", "Alice", "Smith", "alice@example.com")).await.expect(201);
        let id = created.id();
        let path = format!("/Users/{id}");
        let stale = "W/\"999\"";
        let ops = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title", "value": "CTO"}]});
        let body = user("alice", "Alicia", "Smith", "alice@example.com");
        let refused = [
            send(app.scim.request(Method::PATCH, &path).header("If-Match", stale).json(&ops)).await,
            send(app.scim.request(Method::PUT, &path).header("If-Match", stale).json(&body)).await,
            send(app.scim.request(Method::DELETE, &path).header("If-Match", stale)).await,
        ];
        for res in refused {
            res.expect_error(412, None);
        }
        let got = app.scim.get(&path).await.expect(200);
        assert_eq!(got.body, created.body);
    })
    .await;
}

#[tokio::test]
async fn if_match_with_the_current_version_succeeds() {
    for_each_backend(|app| async move {
        let created = app.scim.post("/Users", &user("alice", "Alice", "Smith", "alice@example.com")).await.expect(201);
        let id = created.id();
        let path = format!("/Users/{id}");
        let etag = created.header("etag").unwrap().to_owned();
        let ops = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title", "value": "CTO"}]});
        let res = send(app.scim.request(Method::PATCH, &path).header("If-Match", &etag).json(&ops)).await.expect(200);
        assert_eq!(res.body["title"], "CTO");
        let next = res.header("etag").unwrap().to_owned();
        assert_ne!(next, etag);
        // The old ETag is stale now; the new one and `*` work.
        let body = user("alice", "Alicia", "Smith", "alice@example.com");
        send(app.scim.request(Method::PUT, &path).header("If-Match", &etag).json(&body)).await.expect_error(412, None);
        send(app.scim.request(Method::PUT, &path).header("If-Match", &next).json(&body)).await.expect(200);
        send(app.scim.request(Method::DELETE, &path).header("If-Match", "*")).await.expect(204);
    })
    .await;
}

#[tokio::test]
async fn if_none_match_with_the_current_etag_is_304() {
    for_each_backend(|app| async move {
        let created = app
            .scim
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        let path = format!("/Users/{}", created.id());
        let etag = created.header("etag").unwrap().to_owned();
        let res = send(
            app.scim
                .request(Method::GET, &path)
                .header("If-None-Match", &etag),
        )
        .await
        .expect(304);
        assert!(res.text.is_empty());
        let fresh = send(
            app.scim
                .request(Method::GET, &path)
                .header("If-None-Match", "W/\"999\""),
        )
        .await
        .expect(200);
        assert_eq!(fresh.id(), created.id());
    })
    .await;
}

#[tokio::test]
async fn groups_honour_if_match_and_if_none_match_too() {
    for_each_backend(|app| async move {
        let created = app.scim.post("/Groups", &group("Engineering", &[])).await.expect(201);
        let path = format!("/Groups/{}", created.id());
        let etag = created.header("etag").unwrap().to_owned();
        send(app.scim.request(Method::GET, &path).header("If-None-Match", &etag)).await.expect(304);
        let ops = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "displayName", "value": "Eng"}]});
        send(app.scim.request(Method::PATCH, &path).header("If-Match", "W/\"999\"").json(&ops)).await.expect_error(412, None);
        let res = send(app.scim.request(Method::PATCH, &path).header("If-Match", &etag).json(&ops)).await.expect(200);
        assert_eq!(res.body["displayName"], "Eng");
        send(app.scim.request(Method::DELETE, &path).header("If-Match", &etag)).await.expect_error(412, None);
    })
    .await;
}
