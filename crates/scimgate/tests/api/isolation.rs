//! Tenant isolation: with tenant A's credential, nothing of tenant B exists. Every answer about
//! B's resources is the 404 (or the refusal) a random nonexistent id gets, so nothing reveals
//! that they exist; and B's resources never change.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

/// Tenant B (`beta`) with a user and a group; returns its client, user id and group id.
async fn beta(app: &TestApp) -> (Client, String, String) {
    let (_, b) = app.other_tenant("beta").await;
    let mut body = user("bella", "Bella", "Beta", "bella@beta.test");
    body["externalId"] = json!("entra-bella");
    let uid = b.create_user(&body).await;
    let gid = b.create_group(&group("Beta Team", &[&uid])).await;
    (b, uid, gid)
}

/// The body with `id` replaced by a placeholder, to compare refusals about different ids.
fn without(res: &Resp, id: &str) -> (u16, Value) {
    let text = res.text.replace(id, "<id>");
    (
        res.status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn another_tenants_users_and_groups_are_404_for_every_method() {
    for_each_backend(|app| async move {
        let (b, uid, gid) = beta(&app).await;
        let user_before = b.get(&format!("/Users/{uid}")).await.expect(200);
        let group_before = b.get(&format!("/Groups/{gid}")).await.expect(200);
        let a = &app.scim;
        let ops = json!([{"op": "replace", "path": "displayName", "value": "Taken over"}]);
        let deactivate = json!([{"op": "replace", "value": {"active": false}}]);
        let answers = [
            a.get(&format!("/Users/{uid}")).await,
            a.put(
                &format!("/Users/{uid}"),
                &user("bella", "Bella", "Beta", "bella@beta.test"),
            )
            .await,
            a.patch_ops(&format!("/Users/{uid}"), deactivate).await,
            a.delete(&format!("/Users/{uid}")).await,
            a.get("/Users/bella@beta.test").await,
            a.get(&format!("/Groups/{gid}")).await,
            a.put(&format!("/Groups/{gid}"), &group("Beta Team", &[]))
                .await,
            a.patch_ops(&format!("/Groups/{gid}"), ops).await,
            a.delete(&format!("/Groups/{gid}")).await,
            a.get("/Groups/Beta%20Team").await,
        ];
        for res in answers {
            res.expect_error(404, None);
        }
        // The same answers as for ids that exist nowhere.
        let random = uuid::Uuid::now_v7().to_string();
        let theirs = a.get(&format!("/Users/{uid}")).await;
        let nobodys = a.get(&format!("/Users/{random}")).await;
        assert_eq!(without(&theirs, &uid), without(&nobodys, &random));
        // B's resources did not change.
        assert_eq!(
            b.get(&format!("/Users/{uid}")).await.expect(200).body,
            user_before.body
        );
        assert_eq!(
            b.get(&format!("/Groups/{gid}")).await.expect(200).body,
            group_before.body
        );
    })
    .await;
}

#[tokio::test]
async fn filters_never_find_another_tenants_users() {
    for_each_backend(|app| async move {
        let (b, uid, _) = beta(&app).await;
        app.scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        for filter in [
            "userName eq \"bella\"".to_owned(),
            "externalId eq \"entra-bella\"".to_owned(),
            "emails.value co \"beta.test\"".to_owned(),
            format!("id eq \"{uid}\""),
        ] {
            let res = app.scim.filter_users(&filter).await.expect(200);
            assert_eq!(res.total(), 0, "{filter}: {}", res.text);
            // The same filter finds the user with B's credential.
            assert_eq!(
                b.filter_users(&filter).await.expect(200).total(),
                1,
                "{filter}"
            );
        }
        assert_eq!(
            app.scim.get("/Users").await.expect(200).each("userName"),
            ["alice"]
        );
        assert_eq!(app.scim.get("/Groups").await.expect(200).total(), 0);
        let root = app
            .scim
            .post("/.search", &json!({"schemas": [SEARCH_URN]}))
            .await
            .expect(200);
        assert_eq!(root.total(), 1);
    })
    .await;
}

#[tokio::test]
async fn another_tenants_user_names_emails_and_group_names_are_free_in_this_tenant() {
    // A 409 here would tell tenant A that tenant B has such a member.
    for_each_backend(|app| async move {
        let (b, their_user, their_group) = beta(&app).await;
        let mine = app
            .scim
            .post("/Users", &user("bella", "Bella", "Beta", "bella@beta.test"))
            .await
            .expect(201);
        assert_ne!(mine.id(), their_user);
        let group = app
            .scim
            .post("/Groups", &group("Beta Team", &[&mine.id()]))
            .await
            .expect(201);
        assert_ne!(group.id(), their_group);
        let theirs = b.get(&format!("/Groups/{their_group}")).await.expect(200);
        assert_eq!(member_ids(&theirs.body), [their_user.as_str()]);
        assert_eq!(
            b.get("/Users/bella@beta.test").await.expect(200).id(),
            their_user
        );
        assert_eq!(
            app.scim
                .get("/Users/bella@beta.test")
                .await
                .expect(200)
                .id(),
            mine.id()
        );
    })
    .await;
}

#[tokio::test]
async fn a_tenant_path_that_is_not_the_credentials_is_404_like_a_tenant_that_does_not_exist() {
    for_each_backend(|app| async move {
        let (_, uid, _) = beta(&app).await;
        let theirs = app
            .scim
            .at("/tenants/beta/scim/v2")
            .get(&format!("/Users/{uid}"))
            .await
            .expect_error(404, None);
        let nowhere = app
            .scim
            .at("/tenants/no-such-tenant/scim/v2")
            .get(&format!("/Users/{uid}"))
            .await;
        assert_eq!(
            (nowhere.status, &nowhere.body),
            (theirs.status, &theirs.body)
        );
        let listed = app.scim.at("/tenants/beta/scim/v2").get("/Users").await;
        assert_eq!((listed.status, &listed.body), (theirs.status, &theirs.body));
        let created = app
            .scim
            .at("/tenants/beta/scim/v2")
            .post("/Users", &user("x", "X", "Y", "x@example.com"))
            .await;
        assert_eq!(
            (created.status, &created.body),
            (theirs.status, &theirs.body)
        );
        assert_eq!(
            app.scim.get("/Users").await.expect(200).total(),
            0,
            "nothing was created in A either"
        );
    })
    .await;
}

#[tokio::test]
async fn the_credentials_own_tenant_path_works() {
    for_each_backend(|app| async move {
        let own = app.scim.at("/tenants/acme/scim/v2");
        let created = own
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        let id = created.id();
        let location = own.url(&format!("/Users/{id}"));
        assert!(location.contains("/tenants/acme/scim/v2/Users/"));
        assert_eq!(created.header("location"), Some(location.as_str()));
        assert_eq!(
            own.get("/Users").await.expect(200).each("id"),
            [id.as_str()]
        );
        assert_eq!(
            app.scim.get(&format!("/Users/{id}")).await.expect(200).id(),
            id
        );
        own.get("/ServiceProviderConfig").await.expect(200);
    })
    .await;
}

#[tokio::test]
async fn adding_another_tenants_user_to_a_group_is_refused_like_an_unknown_id() {
    for_each_backend(|app| async move {
        let (_, their_user, _) = beta(&app).await;
        let alice = app
            .scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        let gid = app
            .scim
            .create_group(&group("Engineering", &[&alice]))
            .await;
        let before = app.scim.get(&format!("/Groups/{gid}")).await.expect(200);
        let random = uuid::Uuid::now_v7().to_string();
        let add = |id: &str| json!([{"op": "add", "path": "members", "value": [{"value": id}]}]);
        let theirs = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), add(&their_user))
            .await;
        let nobodys = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), add(&random))
            .await;
        assert!(theirs.status >= 400, "{}", theirs.text);
        assert_eq!(without(&theirs, &their_user), without(&nobodys, &random));
        // By identifier too: B's email is no identifier in A.
        let by_email = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), add("bella@beta.test"))
            .await;
        assert_eq!(
            without(&by_email, "bella@beta.test"),
            without(&nobodys, &random)
        );
        let after = app.scim.get(&format!("/Groups/{gid}")).await.expect(200);
        assert_eq!(after.body, before.body, "A's group is unchanged");
        // On create and replace as well.
        let created = app
            .scim
            .post("/Groups", &group("Other", &[&their_user]))
            .await;
        let created_random = app.scim.post("/Groups", &group("Other", &[&random])).await;
        assert_eq!(
            without(&created, &their_user),
            without(&created_random, &random)
        );
        let put = app
            .scim
            .put(
                &format!("/Groups/{gid}"),
                &group("Engineering", &[&their_user]),
            )
            .await;
        let put_random = app
            .scim
            .put(&format!("/Groups/{gid}"), &group("Engineering", &[&random]))
            .await;
        assert_eq!(without(&put, &their_user), without(&put_random, &random));
        assert_eq!(
            app.scim
                .get(&format!("/Groups/{gid}"))
                .await
                .expect(200)
                .body,
            before.body
        );
    })
    .await;
}

#[tokio::test]
async fn bulk_operations_on_another_tenants_ids_fail_one_by_one_with_404() {
    for_each_backend(|app| async move {
        let (b, uid, gid) = beta(&app).await;
        let user_before = b.get(&format!("/Users/{uid}")).await.expect(200);
        let body = json!({
            "schemas": [BULK_URN],
            "Operations": [
                {"method": "PUT", "path": format!("/Users/{uid}"), "data": user("bella", "B", "B", "bella@beta.test")},
                {"method": "PATCH", "path": format!("/Users/{uid}"), "data": {
                    "schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": false}]}},
                {"method": "DELETE", "path": format!("/Users/{uid}")},
                {"method": "PATCH", "path": format!("/Groups/{gid}"), "data": {
                    "schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "members", "value": []}]}},
                {"method": "DELETE", "path": format!("/Groups/{gid}")},
                {"method": "POST", "path": "/Users", "bulkId": "mine", "data": user("alice", "Alice", "Smith", "alice@example.com")}
            ]
        });
        let res = send(app.scim.request(Method::POST, "/Bulk").json(&body)).await.expect(200);
        let ops = res.body["Operations"].as_array().cloned().unwrap_or_default();
        let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap_or_default()).collect();
        assert_eq!(statuses, ["404", "404", "404", "404", "404", "201"], "{}", res.text);
        for op in &ops[..5] {
            assert_eq!(op["response"]["status"], "404");
            assert_eq!(op["response"]["schemas"], json!([ERROR_URN]));
        }
        assert_eq!(b.get(&format!("/Users/{uid}")).await.expect(200).body, user_before.body);
        let g = b.get(&format!("/Groups/{gid}")).await.expect(200);
        assert_eq!(member_ids(&g.body), [uid.as_str()]);
    })
    .await;
}
