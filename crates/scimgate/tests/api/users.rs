//! `/Users`: create, read, replace and delete (RFC 7644 §3.3–§3.6), and addressing a user by
//! its unique identifier (SEMANTICS 3).

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn a_created_user_answers_201_with_location_etag_and_meta() {
    for_each_backend(|app| async move {
        let res = app
            .scim
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        let id = res.id();
        let location = res
            .header("location")
            .expect("a Location header")
            .to_owned();
        assert_eq!(location, app.scim.url(&format!("/Users/{id}")));
        assert!(
            res.header("content-type")
                .is_some_and(|c| c.starts_with("application/scim+json"))
        );
        let meta = &res.body["meta"];
        assert_eq!(meta["location"], json!(location));
        assert_eq!(meta["resourceType"], "User");
        assert!(
            meta["created"].is_string() && meta["lastModified"].is_string(),
            "meta: {meta}"
        );
        assert_eq!(res.header("etag"), meta["version"].as_str());
        assert!(
            res.header("etag").is_some_and(|e| e.starts_with("W/\"")),
            "a weak ETag"
        );
        assert_eq!(res.body["schemas"], json!([USER_URN]));
        assert_eq!(res.body["userName"], "alice");
        assert_eq!(res.body["name"]["givenName"], "Alice");
        assert_eq!(res.body["emails"][0]["value"], "alice@example.com");
        assert_eq!(res.body["active"], true);
    })
    .await;
}

#[tokio::test]
async fn a_password_sent_on_create_is_accepted_and_never_returned_or_stored() {
    // SEMANTICS 5.
    for_each_backend(|app| async move {
        let mut body = user("alice", "Alice", "Smith", "alice@example.com");
        body["password"] = json!("t1meMa$heen");
        let res = app.scim.post("/Users", &body).await.expect(201);
        assert!(res.body.get("password").is_none(), "{}", res.text);
        assert!(!res.text.contains("t1meMa$heen"));
        let stored = app.stored_member(&res.id()).await.expect("stored");
        assert!(stored.resource.get("password").is_none());
        let got = app
            .scim
            .get(&format!("/Users/{}", res.id()))
            .await
            .expect(200);
        assert!(!got.text.contains("t1meMa$heen"));
    })
    .await;
}

#[tokio::test]
async fn a_user_reads_back_as_it_was_created() {
    for_each_backend(|app| async move {
        let created = app
            .scim
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        let id = created.id();
        let got = app.scim.get(&format!("/Users/{id}")).await.expect(200);
        assert_eq!(got.body, created.body);
        assert_eq!(got.header("etag"), created.header("etag"));
        assert!(got.header("location").is_none(), "Location is for 201 only");
    })
    .await;
}

#[tokio::test]
async fn a_user_is_found_by_its_email_in_the_path() {
    // SEMANTICS 3: `GET /scim/v2/Users/user@email.com`; the answer carries the canonical id.
    for_each_backend(|app| async move {
        let id = app
            .scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        let got = app.scim.get("/Users/alice@example.com").await.expect(200);
        assert_eq!(got.id(), id);
        assert_eq!(
            got.body["meta"]["location"],
            json!(app.scim.url(&format!("/Users/{id}")))
        );
        // Emails compare case-insensitively.
        assert_eq!(
            app.scim
                .get("/Users/Alice@Example.COM")
                .await
                .expect(200)
                .id(),
            id
        );
        app.scim
            .get("/Users/nobody@example.com")
            .await
            .expect_error(404, None);
    })
    .await;
}

#[tokio::test]
async fn an_unknown_user_id_is_404() {
    for_each_backend(|app| async move {
        let res = app
            .scim
            .get(&format!("/Users/{}", uuid::Uuid::now_v7()))
            .await;
        res.expect_error(404, None);
    })
    .await;
}

#[tokio::test]
async fn put_replaces_the_user_and_changes_its_version() {
    for_each_backend(|app| async move {
        let mut body = user("alice", "Alice", "Smith", "alice@example.com");
        body["title"] = json!("Engineer");
        let created = app.scim.post("/Users", &body).await.expect(201);
        let id = created.id();
        let mut next = user("alice", "Alicia", "Smith-Jones", "alicia@example.com");
        next["externalId"] = json!("ext-1");
        let put = app
            .scim
            .put(&format!("/Users/{id}"), &next)
            .await
            .expect(200);
        assert_eq!(put.id(), id);
        assert_eq!(put.body["name"]["givenName"], "Alicia");
        assert_eq!(
            put.body["emails"],
            json!([{"value": "alicia@example.com", "type": "work", "primary": true}])
        );
        assert_eq!(put.body["externalId"], "ext-1");
        assert!(
            put.body.get("title").is_none(),
            "PUT replaces: title was not sent: {}",
            put.text
        );
        assert_ne!(put.header("etag"), created.header("etag"));
        assert_eq!(put.body["meta"]["created"], created.body["meta"]["created"]);
        let got = app.scim.get(&format!("/Users/{id}")).await.expect(200);
        assert_eq!(got.body, put.body);
        // The identifier follows the new primary email.
        assert_eq!(
            app.scim
                .get("/Users/alicia@example.com")
                .await
                .expect(200)
                .id(),
            id
        );
    })
    .await;
}

#[tokio::test]
async fn delete_answers_204_and_the_user_is_404_afterwards() {
    for_each_backend(|app| async move {
        let id = app
            .scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        let res = app.scim.delete(&format!("/Users/{id}")).await.expect(204);
        assert!(res.text.is_empty());
        app.scim
            .get(&format!("/Users/{id}"))
            .await
            .expect_error(404, None);
        app.scim
            .delete(&format!("/Users/{id}"))
            .await
            .expect_error(404, None);
        assert_eq!(
            app.scim
                .filter_users("userName eq \"alice\"")
                .await
                .expect(200)
                .total(),
            0
        );
    })
    .await;
}
