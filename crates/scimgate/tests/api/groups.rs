//! `/Groups` (RFC 7644 §3.3–§3.6): members, `excludedAttributes=members` (INTEROP 12), the
//! member PATCH shapes of Entra ID and Okta (INTEROP 1, 5, 6), and addressing a group by its
//! displayName (SEMANTICS 3).

use serde_json::{Value, json};

use crate::harness::*;

/// Three users; returns their ids.
async fn three_users(scim: &Client) -> [String; 3] {
    [
        scim.create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await,
        scim.create_user(&user("bob", "Bob", "Jones", "bob@example.com"))
            .await,
        scim.create_user(&user("carol", "Carol", "King", "carol@example.com"))
            .await,
    ]
}

async fn members_of(scim: &Client, gid: &str) -> Vec<String> {
    member_ids(&scim.get(&format!("/Groups/{gid}")).await.expect(200).body)
}

#[tokio::test]
async fn a_group_is_created_with_its_members_and_reads_back() {
    for_each_backend(|app| async move {
        let [a, b, _] = three_users(&app.scim).await;
        let res = app
            .scim
            .post("/Groups", &group("Engineering", &[&a, &b]))
            .await
            .expect(201);
        let gid = res.id();
        assert_eq!(
            res.header("location"),
            Some(app.scim.url(&format!("/Groups/{gid}")).as_str())
        );
        assert_eq!(res.header("etag"), res.body["meta"]["version"].as_str());
        assert_eq!(res.body["meta"]["resourceType"], "Group");
        assert_eq!(res.body["displayName"], "Engineering");
        assert_eq!(member_ids(&res.body), sorted(&[&a, &b]));
        let alice = res.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["value"] == json!(a))
            .cloned()
            .unwrap();
        assert_eq!(alice["display"], "Alice Smith");
        assert_eq!(alice["type"], "User");
        assert_eq!(alice["$ref"], json!(app.scim.url(&format!("/Users/{a}"))));
        let got = app.scim.get(&format!("/Groups/{gid}")).await.expect(200);
        assert_eq!(got.body["displayName"], "Engineering");
        assert_eq!(member_ids(&got.body), sorted(&[&a, &b]));
        assert_eq!(got.header("etag"), res.header("etag"));
    })
    .await;
}

#[tokio::test]
async fn a_member_value_that_is_not_an_id_resolves_by_the_unique_identifier() {
    // SEMANTICS 3: a group member `value` that is not a member id resolves by the identifier.
    for_each_backend(|app| async move {
        let [a, ..] = three_users(&app.scim).await;
        let res = app
            .scim
            .post("/Groups", &group("Engineering", &["alice@example.com"]))
            .await
            .expect(201);
        assert_eq!(member_ids(&res.body), [a]);
    })
    .await;
}

#[tokio::test]
async fn excluded_attributes_members_leaves_the_members_out() {
    // INTEROP 12.
    for_each_backend(|app| async move {
        let [a, b, _] = three_users(&app.scim).await;
        let gid = app.scim.create_group(&group("Engineering", &[&a, &b])).await;
        let got = app.scim.get(&format!("/Groups/{gid}?excludedAttributes=members")).await.expect(200);
        assert!(got.body.get("members").is_none(), "{}", got.text);
        assert_eq!(got.body["displayName"], "Engineering");
        let list = app.scim.get("/Groups?excludedAttributes=members").await.expect(200);
        assert_eq!(list.total(), 1);
        assert!(list.resources()[0].get("members").is_none());
        let with = app.scim.get("/Groups?filter=displayName%20eq%20%22Engineering%22").await.expect(200);
        assert_eq!(member_ids(&with.resources()[0]), sorted(&[&a, &b]));
        // Groups are found by member without listing members.
        let filter = encode(&format!("members.value eq \"{a}\""));
        let by_member = app.scim.get(&format!("/Groups?filter={filter}&excludedAttributes=members")).await.expect(200);
        assert_eq!(by_member.each("id"), [gid.as_str()]);
        // The members are still there, and a PATCH answer honours the projection too.
        let patched = app
            .scim
            .patch(
                &format!("/Groups/{gid}?excludedAttributes=members"),
                &json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "displayName", "value": "Eng"}]}),
            )
            .await
            .expect(200);
        assert!(patched.body.get("members").is_none(), "{}", patched.text);
        assert_eq!(members_of(&app.scim, &gid).await, sorted(&[&a, &b]));
    })
    .await;
}

#[tokio::test]
async fn patch_adds_members_and_removes_one_by_value_filter() {
    for_each_backend(|app| async move {
        let [a, b, c] = three_users(&app.scim).await;
        let gid = app.scim.create_group(&group("Engineering", &[&a])).await;
        let add = json!([{"op": "add", "path": "members", "value": [{"value": b}, {"value": c}]}]);
        let res = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), add)
            .await
            .expect(200);
        assert_eq!(member_ids(&res.body), sorted(&[&a, &b, &c]));
        // Adding a member twice keeps one membership.
        let again = json!([{"op": "add", "path": "members", "value": [{"value": b}]}]);
        app.scim
            .patch_ops(&format!("/Groups/{gid}"), again)
            .await
            .expect(200);
        assert_eq!(members_of(&app.scim, &gid).await, sorted(&[&a, &b, &c]));
        let remove = json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]);
        let res = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), remove)
            .await
            .expect(200);
        assert_eq!(member_ids(&res.body), sorted(&[&a, &c]));
        assert_eq!(members_of(&app.scim, &gid).await, sorted(&[&a, &c]));
    })
    .await;
}

#[tokio::test]
async fn entra_value_array_remove_removes_exactly_those_members() {
    // INTEROP 1: never the whole list.
    for_each_backend(|app| async move {
        let [a, b, c] = three_users(&app.scim).await;
        let gid = app
            .scim
            .create_group(&group("Engineering", &[&a, &b, &c]))
            .await;
        let ops = json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}]);
        let res = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), ops)
            .await
            .expect(200);
        assert_eq!(member_ids(&res.body), sorted(&[&a, &c]));
        assert_eq!(members_of(&app.scim, &gid).await, sorted(&[&a, &c]));
    })
    .await;
}

#[tokio::test]
async fn okta_push_of_an_empty_group_empties_it() {
    // INTEROP 6, both shapes.
    for_each_backend(|app| async move {
        let [a, b, c] = three_users(&app.scim).await;
        let gid = app
            .scim
            .create_group(&group("Engineering", &[&a, &b]))
            .await;
        let ops = json!([{"op": "replace", "path": "members", "value": []}]);
        app.scim
            .patch_ops(&format!("/Groups/{gid}"), ops)
            .await
            .expect(200);
        assert_eq!(members_of(&app.scim, &gid).await, Vec::<String>::new());
        let refill = json!([{"op": "add", "path": "members", "value": [{"value": c}]}]);
        app.scim
            .patch_ops(&format!("/Groups/{gid}"), refill)
            .await
            .expect(200);
        assert_eq!(members_of(&app.scim, &gid).await, [c.as_str()]);
        let ops = json!([{"op": "replace", "value": {"members": []}}]);
        let res = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), ops)
            .await
            .expect(200);
        assert_eq!(member_ids(&res.body), Vec::<String>::new());
        assert_eq!(members_of(&app.scim, &gid).await, Vec::<String>::new());
        assert_eq!(res.body["displayName"], "Engineering");
    })
    .await;
}

#[tokio::test]
async fn okta_no_path_replace_with_the_groups_own_id_renames_it() {
    // INTEROP 5.
    for_each_backend(|app| async move {
        let [a, ..] = three_users(&app.scim).await;
        let gid = app.scim.create_group(&group("Engineering", &[&a])).await;
        let ops =
            json!([{"op": "replace", "value": {"id": gid, "displayName": "Engineering (all)"}}]);
        let res = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), ops)
            .await
            .expect(200);
        assert_eq!(res.body["displayName"], "Engineering (all)");
        assert_eq!(res.id(), gid);
        assert_eq!(member_ids(&res.body), [a]);
        let found = app
            .scim
            .get("/Groups?filter=displayName%20eq%20%22Engineering%20(all)%22")
            .await
            .expect(200);
        assert_eq!(found.each("id"), [gid]);
    })
    .await;
}

#[tokio::test]
async fn an_empty_operations_array_leaves_the_group_as_it_was() {
    // INTEROP 13.
    for_each_backend(|app| async move {
        let [a, ..] = three_users(&app.scim).await;
        let created = app
            .scim
            .post("/Groups", &group("Engineering", &[&a]))
            .await
            .expect(201);
        let gid = created.id();
        let res = app
            .scim
            .patch_ops(&format!("/Groups/{gid}"), json!([]))
            .await
            .expect(200);
        assert_eq!(
            res.body, created.body,
            "nothing changed, not even meta.version"
        );
    })
    .await;
}

#[tokio::test]
async fn put_replaces_the_member_list() {
    for_each_backend(|app| async move {
        let [a, b, c] = three_users(&app.scim).await;
        let gid = app
            .scim
            .create_group(&group("Engineering", &[&a, &b]))
            .await;
        let mut body = group("Engineering", &[&b, &c]);
        body["externalId"] = json!("okta-eng");
        let res = app
            .scim
            .put(&format!("/Groups/{gid}"), &body)
            .await
            .expect(200);
        assert_eq!(member_ids(&res.body), sorted(&[&b, &c]));
        assert_eq!(res.body["externalId"], "okta-eng");
        assert_eq!(members_of(&app.scim, &gid).await, sorted(&[&b, &c]));
        let emptied = app
            .scim
            .put(&format!("/Groups/{gid}"), &group("Engineering", &[]))
            .await
            .expect(200);
        assert_eq!(member_ids(&emptied.body), Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_display_name_is_409_uniqueness() {
    for_each_backend(|app| async move {
        app.scim.create_group(&group("Engineering", &[])).await;
        app.scim
            .post("/Groups", &group("engineering", &[]))
            .await
            .expect_error(409, Some("uniqueness"));
        let other = app.scim.create_group(&group("Sales", &[])).await;
        let rename = json!([{"op": "replace", "path": "displayName", "value": "Engineering"}]);
        app.scim
            .patch_ops(&format!("/Groups/{other}"), rename)
            .await
            .expect_error(409, Some("uniqueness"));
        app.scim
            .put(&format!("/Groups/{other}"), &group("ENGINEERING", &[]))
            .await
            .expect_error(409, Some("uniqueness"));
        assert_eq!(app.scim.get("/Groups").await.expect(200).total(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_deleted_group_is_404_and_its_members_stay() {
    for_each_backend(|app| async move {
        let [a, ..] = three_users(&app.scim).await;
        let gid = app.scim.create_group(&group("Engineering", &[&a])).await;
        app.scim.delete(&format!("/Groups/{gid}")).await.expect(204);
        app.scim
            .get(&format!("/Groups/{gid}"))
            .await
            .expect_error(404, None);
        app.scim
            .delete(&format!("/Groups/{gid}"))
            .await
            .expect_error(404, None);
        assert_eq!(app.scim.get("/Groups").await.expect(200).total(), 0);
        app.scim.get(&format!("/Users/{a}")).await.expect(200);
        // The name is free again.
        app.scim.create_group(&group("Engineering", &[])).await;
    })
    .await;
}

#[tokio::test]
async fn a_group_is_found_by_its_display_name_in_the_path() {
    // SEMANTICS 3 (Label Studio: `PUT /scim/v2/Groups/<group-name>`).
    for_each_backend(|app| async move {
        let [a, b, _] = three_users(&app.scim).await;
        let gid = app.scim.create_group(&group("Data Science", &[&a])).await;
        let got = app.scim.get("/Groups/Data%20Science").await.expect(200);
        assert_eq!(got.id(), gid);
        assert_eq!(
            got.body["meta"]["location"],
            json!(app.scim.url(&format!("/Groups/{gid}")))
        );
        assert_eq!(
            app.scim
                .get("/Groups/data%20science")
                .await
                .expect(200)
                .id(),
            gid
        );
        let put = app
            .scim
            .put("/Groups/Data%20Science", &group("Data Science", &[&b]))
            .await
            .expect(200);
        assert_eq!(
            (put.id(), member_ids(&put.body)),
            (gid.clone(), vec![b.clone()])
        );
        app.scim
            .get("/Groups/No%20Such%20Group")
            .await
            .expect_error(404, None);
    })
    .await;
}

#[tokio::test]
async fn an_unknown_member_is_refused_and_the_group_is_unchanged() {
    for_each_backend(|app| async move {
        let [a, ..] = three_users(&app.scim).await;
        let gid = app.scim.create_group(&group("Engineering", &[&a])).await;
        let unknown = uuid::Uuid::now_v7().to_string();
        let ops = json!([{"op": "add", "path": "members", "value": [{"value": unknown}]}]);
        let res = app.scim.patch_ops(&format!("/Groups/{gid}"), ops).await;
        assert_eq!(res.status, 400, "{}", res.text);
        assert_eq!(members_of(&app.scim, &gid).await, [a]);
        let res = app.scim.post("/Groups", &group("Other", &[&unknown])).await;
        assert_eq!(res.status, 400, "{}", res.text);
        let listed: Vec<Value> = app.scim.get("/Groups").await.expect(200).resources();
        assert_eq!(listed.len(), 1);
    })
    .await;
}
