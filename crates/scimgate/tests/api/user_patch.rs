//! PATCH of Users (RFC 7644 §3.5.2) with the exact shapes identity providers send
//! (INTEROP 2, 3, 4, 5, 7, 9, 10, 13, 14).

use scimgate_domain::member::MemberState;
use serde_json::{Value, json};

use crate::harness::*;

async fn alice(app: &TestApp) -> String {
    app.scim
        .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
        .await
}

/// PATCHes `/Users/{id}` with these operations; asserts 200 and that a GET agrees.
async fn patched(app: &TestApp, id: &str, ops: Value) -> Value {
    let res = app
        .scim
        .patch_ops(&format!("/Users/{id}"), ops)
        .await
        .expect(200);
    let got = app.scim.get(&format!("/Users/{id}")).await.expect(200);
    assert_eq!(
        res.body, got.body,
        "the PATCH answer is the stored resource"
    );
    res.body
}

#[tokio::test]
async fn entra_string_booleans_are_coerced() {
    // INTEROP 2.
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let out = patched(
            &app,
            &id,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
        assert_eq!(out["active"], false);
        let out = patched(
            &app,
            &id,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        )
        .await;
        assert_eq!(out["active"], true);
        let out = patched(
            &app,
            &id,
            json!([{"op": "replace", "path": "active", "value": "false"}]),
        )
        .await;
        assert_eq!(out["active"], false);
    })
    .await;
}

#[tokio::test]
async fn entra_capitalised_op_names_are_accepted() {
    // INTEROP 3.
    for_each_backend(|app| async move {
        let mut body = user("alice", "Alice", "Smith", "alice@example.com");
        body["nickName"] = json!("Ali");
        let id = app.scim.create_user(&body).await;
        let out = patched(
            &app,
            &id,
            json!([
                {"op": "Add", "path": "title", "value": "Engineer"},
                {"op": "Replace", "path": "displayName", "value": "Alice S."},
                {"op": "Remove", "path": "nickName"}
            ]),
        )
        .await;
        assert_eq!(out["title"], "Engineer");
        assert_eq!(out["displayName"], "Alice S.");
        assert!(out.get("nickName").is_none(), "{out}");
    })
    .await;
}

#[tokio::test]
async fn entra_filtered_paths_to_missing_values_build_one_element() {
    // INTEROP 4: several ops in one request build one element each, not several.
    for_each_backend(|app| async move {
        let mut body = user("alice", "Alice", "Smith", "alice@example.com");
        body["emails"] = json!([{"value": "alice@home.test", "type": "home"}]);
        let id = app.scim.create_user(&body).await;
        let out = patched(
            &app,
            &id,
            json!([
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "alice@example.com"},
                {"op": "Add", "path": "emails[type eq \"work\"].primary", "value": "True"},
                {"op": "Add", "path": "addresses[type eq \"work\"].formatted", "value": "1 Main St, Springfield"},
                {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"}
            ]),
        )
        .await;
        let emails = out["emails"].as_array().expect("emails");
        assert_eq!(emails.len(), 2, "{out}");
        let work: Vec<&Value> = emails.iter().filter(|e| e["type"] == "work").collect();
        assert_eq!(work.len(), 1, "{out}");
        assert_eq!(work[0]["value"], "alice@example.com");
        assert_eq!(work[0]["primary"], true);
        assert_eq!(
            out["addresses"],
            json!([{"type": "work", "formatted": "1 Main St, Springfield", "streetAddress": "1 Main St", "locality": "Springfield"}])
        );
        // The new work email is now the member's identifier.
        assert_eq!(app.scim.get("/Users/alice@example.com").await.expect(200).id(), id);
    })
    .await;
}

#[tokio::test]
async fn okta_no_path_replace_deactivates() {
    // INTEROP 5.
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let out = patched(
            &app,
            &id,
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await;
        assert_eq!(out["active"], false);
        assert_eq!(
            app.stored_member(&id).await.expect("stored").state,
            MemberState::Deactivated
        );
    })
    .await;
}

#[tokio::test]
async fn a_deactivated_user_can_be_reactivated() {
    // INTEROP 7: deprovisioning is active=false; reactivation must work.
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let off = patched(
            &app,
            &id,
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
        assert_eq!(off["active"], false);
        assert_eq!(
            app.stored_member(&id).await.expect("stored").state,
            MemberState::Deactivated
        );
        let listed = app.scim.filter_users("active eq false").await.expect(200);
        assert_eq!(listed.each("id"), [id.as_str()]);
        let on = patched(
            &app,
            &id,
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await;
        assert_eq!(on["active"], true);
        assert_eq!(
            app.stored_member(&id).await.expect("stored").state,
            MemberState::Active
        );
        assert_eq!(
            app.scim
                .filter_users("active eq false")
                .await
                .expect(200)
                .total(),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn entra_manager_as_a_bare_string_and_as_an_object() {
    // INTEROP 9.
    for_each_backend(|app| async move {
        let boss = app
            .scim
            .create_user(&user("boss", "Bea", "Boss", "boss@example.com"))
            .await;
        let id = alice(&app).await;
        let path = format!("{ENTERPRISE_URN}:manager");
        let out = patched(
            &app,
            &id,
            json!([{"op": "Add", "path": path, "value": boss}]),
        )
        .await;
        assert_eq!(out[ENTERPRISE_URN]["manager"]["value"], json!(boss));
        assert!(
            out["schemas"]
                .as_array()
                .is_some_and(|s| s.contains(&json!(ENTERPRISE_URN))),
            "{out}"
        );
        let out = patched(
            &app,
            &id,
            json!([{"op": "Replace", "path": path, "value": {"value": "m-2"}}]),
        )
        .await;
        assert_eq!(out[ENTERPRISE_URN]["manager"]["value"], "m-2");
        // On create too.
        let mut body = user("carl", "Carl", "Cole", "carl@example.com");
        body["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
        body[ENTERPRISE_URN] = json!({"manager": boss, "department": "R&D"});
        let created = app.scim.post("/Users", &body).await.expect(201);
        assert_eq!(
            created.body[ENTERPRISE_URN]["manager"]["value"],
            json!(boss)
        );
    })
    .await;
}

#[tokio::test]
async fn older_microsoft_clients_send_single_values_as_value_arrays() {
    // INTEROP 10.
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let out = patched(&app, &id, json!([{"op": "Replace", "path": "displayName", "value": [{"$ref": null, "value": "x"}]}])).await;
        assert_eq!(out["displayName"], "x");
        let out = patched(&app, &id, json!([{"op": "Replace", "value": {"title": [{"$ref": null, "value": "x"}]}}])).await;
        assert_eq!(out["title"], "x");
    })
    .await;
}

#[tokio::test]
async fn an_empty_operations_array_succeeds_and_changes_nothing() {
    // INTEROP 13.
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let before = app.scim.get(&format!("/Users/{id}")).await.expect(200);
        let res = app
            .scim
            .patch_ops(&format!("/Users/{id}"), json!([]))
            .await
            .expect(200);
        assert_eq!(
            res.body, before.body,
            "nothing changed, not even meta.version"
        );
        assert_eq!(res.header("etag"), before.header("etag"));
    })
    .await;
}

#[tokio::test]
async fn patch_answers_200_with_the_resource() {
    // INTEROP 14.
    for_each_backend(|app| async move {
        let id = alice(&app).await;
        let res = app
            .scim
            .patch_ops(
                &format!("/Users/{id}"),
                json!([{"op": "add", "path": "title", "value": "CTO"}]),
            )
            .await;
        let res = res.expect(200);
        assert_eq!(res.id(), id);
        assert_eq!(res.body["title"], "CTO");
        assert_eq!(res.body["userName"], "alice");
        assert_eq!(res.header("etag"), res.body["meta"]["version"].as_str());
    })
    .await;
}
