//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) on every response that
//! carries a resource: GET, list, POST, PUT and PATCH (INTEROP 14).

use serde_json::{Value, json};

use crate::harness::*;

fn keys(resource: &Value) -> Vec<String> {
    let mut k: Vec<String> = resource
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// Asserts that `attributes=userName,active` left exactly these: `id` and `schemas` are
/// `returned: always`.
#[track_caller]
fn only_user_name_and_active(resource: &Value) {
    for key in keys(resource) {
        assert!(
            ["id", "schemas", "userName", "active"].contains(&key.as_str()),
            "unexpected {key} in {resource}"
        );
    }
    assert!(
        resource["id"].is_string() && resource["userName"].is_string(),
        "{resource}"
    );
}

#[track_caller]
fn without_emails_and_name(resource: &Value) {
    assert!(
        resource.get("emails").is_none() && resource.get("name").is_none(),
        "{resource}"
    );
    assert!(
        resource["userName"].is_string() && resource["id"].is_string(),
        "{resource}"
    );
    assert!(
        resource["displayName"].is_string(),
        "default attributes stay: {resource}"
    );
}

#[tokio::test]
async fn get_honours_attributes_and_excluded_attributes() {
    for_each_backend(|app| async move {
        let id = app
            .scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        let only = app
            .scim
            .get(&format!("/Users/{id}?attributes=userName,active"))
            .await
            .expect(200);
        only_user_name_and_active(&only.body);
        let sub = app
            .scim
            .get(&format!("/Users/{id}?attributes=name.givenName"))
            .await
            .expect(200);
        assert_eq!(sub.body["name"], json!({"givenName": "Alice"}));
        assert!(sub.body.get("emails").is_none());
        let excluded = app
            .scim
            .get(&format!("/Users/{id}?excludedAttributes=emails,name"))
            .await
            .expect(200);
        without_emails_and_name(&excluded.body);
        // `id` is returned always, even when excluded.
        let id_excluded = app
            .scim
            .get(&format!("/Users/{id}?excludedAttributes=id"))
            .await
            .expect(200);
        assert_eq!(id_excluded.id(), id);
    })
    .await;
}

#[tokio::test]
async fn a_list_honours_attributes_and_excluded_attributes() {
    for_each_backend(|app| async move {
        app.scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        app.scim
            .create_user(&user("bob", "Bob", "Jones", "bob@example.com"))
            .await;
        let only = app
            .scim
            .get("/Users?attributes=userName,active")
            .await
            .expect(200);
        assert_eq!(only.resources().len(), 2);
        only.resources().iter().for_each(only_user_name_and_active);
        let excluded = app
            .scim
            .get("/Users?excludedAttributes=emails,name")
            .await
            .expect(200);
        excluded
            .resources()
            .iter()
            .for_each(without_emails_and_name);
    })
    .await;
}

#[tokio::test]
async fn post_put_and_patch_answers_honour_the_projection() {
    for_each_backend(|app| async move {
        let body = user("alice", "Alice", "Smith", "alice@example.com");
        let created = app.scim.post("/Users?attributes=userName,active", &body).await.expect(201);
        only_user_name_and_active(&created.body);
        assert!(created.header("location").is_some(), "Location is there whatever the projection");
        let id = created.id();
        let put = app.scim.put(&format!("/Users/{id}?excludedAttributes=emails,name"), &body).await.expect(200);
        without_emails_and_name(&put.body);
        // INTEROP 14: PATCH answers 200 with the resource, honouring `attributes`.
        let ops = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title", "value": "CTO"}]});
        let patched = app.scim.patch(&format!("/Users/{id}?attributes=userName,active"), &ops).await.expect(200);
        only_user_name_and_active(&patched.body);
        let patched = app.scim.patch(&format!("/Users/{id}?attributes=title"), &ops).await.expect(200);
        assert_eq!(patched.body["title"], "CTO");
        assert!(patched.body.get("emails").is_none(), "{}", patched.text);
        assert!(patched.header("etag").is_some());
        // Groups too.
        let created = app.scim.post("/Groups?attributes=displayName", &group("Engineering", &[&id])).await.expect(201);
        assert_eq!(keys(&created.body), ["displayName", "id", "schemas"]);
        assert!(created.header("location").is_some_and(|l| l.ends_with(&created.id())));
    })
    .await;
}
