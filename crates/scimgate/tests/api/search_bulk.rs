//! `POST /.search` (RFC 7644 §3.4.3), `POST /Bulk` (§3.7) and the body size limits (413).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

fn search(body: Value) -> Value {
    let mut b = body;
    b["schemas"] = json!([SEARCH_URN]);
    b
}

#[tokio::test]
async fn search_per_type_takes_the_list_parameters_in_the_body() {
    for_each_backend(|app| async move {
        for (u, g, f) in [
            ("alice", "Alice", "Smith"),
            ("bob", "Bob", "Jones"),
            ("carol", "Carol", "King"),
        ] {
            app.scim
                .create_user(&user(u, g, f, &format!("{u}@example.com")))
                .await;
        }
        let body = search(json!({
            "filter": "emails.value co \"@example.com\" and not (userName eq \"bob\")",
            "attributes": ["userName"],
            "sortBy": "userName",
            "sortOrder": "descending",
            "startIndex": 1,
            "count": 10
        }));
        let res = app.scim.post("/Users/.search", &body).await.expect(200);
        assert_eq!(res.body["schemas"], json!([LIST_URN]));
        assert_eq!(res.total(), 2);
        assert_eq!(res.each("userName"), ["carol", "alice"]);
        assert!(
            res.resources()[0].get("emails").is_none(),
            "attributes applied: {}",
            res.text
        );
        app.scim.create_group(&group("Engineering", &[])).await;
        let groups = app
            .scim
            .post(
                "/Groups/.search",
                &search(json!({"filter": "displayName sw \"Eng\""})),
            )
            .await
            .expect(200);
        assert_eq!(groups.each("displayName"), ["Engineering"]);
        // A search body must say what it is.
        let res = app
            .scim
            .post(
                "/Users/.search",
                &json!({"filter": "userName eq \"alice\""}),
            )
            .await;
        res.expect_error(400, Some("invalidSyntax"));
        app.scim
            .post("/Users/.search", &search(json!({"filter": "userName eq"})))
            .await
            .expect_error(400, Some("invalidFilter"));
    })
    .await;
}

#[tokio::test]
async fn search_at_the_root_spans_users_and_groups() {
    for_each_backend(|app| async move {
        app.scim
            .create_user(&user("eve", "Eve", "Adams", "eve@example.com"))
            .await;
        app.scim
            .create_user(&user("bob", "Bob", "Jones", "bob@example.com"))
            .await;
        app.scim.create_group(&group("Engineering", &[])).await;
        app.scim.create_group(&group("Sales", &[])).await;
        let res = app
            .scim
            .post(
                "/.search",
                &search(json!({"filter": "displayName sw \"E\""})),
            )
            .await
            .expect(200);
        assert_eq!(res.total(), 2);
        let kinds: Vec<Value> = res
            .resources()
            .iter()
            .map(|r| r["meta"]["resourceType"].clone())
            .collect();
        assert_eq!(kinds, [json!("User"), json!("Group")]);
        assert_eq!(res.each("displayName"), ["Eve Adams", "Engineering"]);
        // userName exists on Users only: it matches no Group.
        let by_name = app
            .scim
            .post(
                "/.search",
                &search(json!({"filter": "userName eq \"bob\""})),
            )
            .await
            .expect(200);
        assert_eq!(by_name.total(), 1);
        // Paging runs over users then groups.
        let all = app
            .scim
            .post("/.search", &search(json!({"startIndex": 2, "count": 2})))
            .await
            .expect(200);
        assert_eq!(all.total(), 4);
        let kinds: Vec<Value> = all
            .resources()
            .iter()
            .map(|r| r["meta"]["resourceType"].clone())
            .collect();
        assert_eq!(kinds, [json!("User"), json!("Group")]);
    })
    .await;
}

fn bulk(ops: Value) -> Value {
    json!({ "schemas": [BULK_URN], "Operations": ops })
}

#[tokio::test]
async fn bulk_resolves_bulk_id_references_to_created_resources() {
    for_each_backend(|app| async move {
        let body = bulk(json!([
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": user("alice", "Alice", "Smith", "alice@example.com")},
            {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {
                "schemas": [GROUP_URN], "displayName": "Engineering", "members": [{"value": "bulkId:u1"}]
            }},
            {"method": "PATCH", "path": "/Users/bulkId:u1", "data": {
                "schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title", "value": "CTO"}]
            }}
        ]));
        let res = app.scim.post("/Bulk", &body).await.expect(200);
        let ops = res.body["Operations"].as_array().cloned().unwrap_or_default();
        assert_eq!(ops.len(), 3, "{}", res.text);
        let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap_or_default()).collect();
        assert_eq!(statuses, ["201", "201", "200"], "{}", res.text);
        assert_eq!(ops[0]["bulkId"], "u1");
        let user_loc = ops[0]["location"].as_str().unwrap();
        let uid = user_loc.rsplit('/').next().unwrap().to_owned();
        assert_eq!(user_loc, app.scim.url(&format!("/Users/{uid}")));
        assert!(ops[0]["version"].is_string());
        let gid = ops[1]["location"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let g = app.scim.get(&format!("/Groups/{gid}")).await.expect(200);
        assert_eq!(member_ids(&g.body), [uid.as_str()]);
        assert_eq!(app.scim.get(&format!("/Users/{uid}")).await.expect(200).body["title"], "CTO");
    })
    .await;
}

#[tokio::test]
async fn bulk_with_fail_on_errors_1_stops_after_the_first_error() {
    for_each_backend(|app| async move {
        app.scim.create_user(&user("alice", "Alice", "Smith", "alice@example.com")).await;
        let mut body = bulk(json!([
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": user("bob", "Bob", "Jones", "bob@example.com")},
            {"method": "POST", "path": "/Users", "bulkId": "dup", "data": user("alice", "Alice", "Smith", "alice@example.com")},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": user("carol", "Carol", "King", "carol@example.com")}
        ]));
        body["failOnErrors"] = json!(1);
        let res = app.scim.post("/Bulk", &body).await.expect(200);
        let ops = res.body["Operations"].as_array().cloned().unwrap_or_default();
        assert_eq!(ops.len(), 2, "stopped after the error: {}", res.text);
        assert_eq!(ops[0]["status"], "201");
        assert_eq!(ops[1]["status"], "409");
        assert_eq!(ops[1]["response"]["schemas"], json!([ERROR_URN]));
        assert_eq!(ops[1]["response"]["scimType"], "uniqueness");
        assert_eq!(ops[1]["response"]["status"], "409");
        assert_eq!(app.scim.filter_users("userName eq \"carol\"").await.expect(200).total(), 0);
        assert_eq!(app.scim.filter_users("userName eq \"bob\"").await.expect(200).total(), 1);
        // Without failOnErrors every operation runs.
        body.as_object_mut().unwrap().remove("failOnErrors");
        body["Operations"][0]["data"]["userName"] = json!("bob2");
        body["Operations"][0]["data"]["emails"][0]["value"] = json!("bob2@example.com");
        let res = app.scim.post("/Bulk", &body).await.expect(200);
        let statuses: Vec<Value> = res.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].clone()).collect();
        assert_eq!(statuses, [json!("201"), json!("409"), json!("201")]);
    })
    .await;
}

#[tokio::test]
async fn bulk_with_more_operations_than_max_operations_is_413() {
    for_each_backend(|app| async move {
        let ops: Vec<Value> = (0..=BULK_MAX_OPERATIONS)
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                       "data": user(&format!("user{i}"), "U", "Ser", &format!("user{i}@example.com"))})
            })
            .collect();
        app.scim.post("/Bulk", &bulk(json!(ops))).await.expect_error(413, None);
        assert_eq!(app.scim.get("/Users").await.expect(200).total(), 0, "nothing ran");
    })
    .await;
}

#[tokio::test]
async fn a_bulk_body_over_max_payload_size_is_413() {
    for_each_backend(|app| async move {
        let mut data = user("alice", "Alice", "Smith", "alice@example.com");
        data["title"] = json!("x".repeat(BULK_MAX_PAYLOAD_BYTES));
        let body =
            bulk(json!([{"method": "POST", "path": "/Users", "bulkId": "u1", "data": data}]));
        app.scim.post("/Bulk", &body).await.expect_error(413, None);
        assert_eq!(app.scim.get("/Users").await.expect(200).total(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_single_resource_body_over_max_body_bytes_is_413() {
    for_each_backend(|app| async move {
        let mut body = user("alice", "Alice", "Smith", "alice@example.com");
        body["title"] = json!("x".repeat(MAX_BODY_BYTES));
        app.scim.post("/Users", &body).await.expect_error(413, None);
        let id = app
            .scim
            .create_user(&user("bob", "Bob", "Jones", "bob@example.com"))
            .await;
        app.scim
            .put(&format!("/Users/{id}"), &body)
            .await
            .expect_error(413, None);
        let ops = json!([{"op": "replace", "path": "title", "value": "x".repeat(MAX_BODY_BYTES)}]);
        app.scim
            .patch_ops(&format!("/Users/{id}"), ops)
            .await
            .expect_error(413, None);
        // Just under the limit is fine.
        let mut ok = user("carol", "Carol", "King", "carol@example.com");
        ok["title"] = json!("x".repeat(MAX_BODY_BYTES / 2));
        send(app.scim.request(Method::POST, "/Users").json(&ok))
            .await
            .expect(201);
    })
    .await;
}
