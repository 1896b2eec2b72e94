//! The tenant's provisioning settings over HTTP: unique identifier and adoption
//! (SEMANTICS 1, 2), DELETE behaviour (8) and pre-SCIM protection (9).

use scimgate_domain::member::{MemberState, Provenance};
use scimgate_domain::tenant::{DeleteBehaviour, UniqueIdentifier};
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn a_post_with_a_pre_scim_members_email_adopts_it() {
    // SEMANTICS 2: 201, same id, SCIM manages it from now on, provenance stays pre-SCIM.
    for_each_backend(|app| async move {
        let existing = app
            .pre_scim_member(user(
                "alice.admin-made",
                "Alice",
                "Smith",
                "Alice@Example.com",
            ))
            .await;
        let res = app
            .scim
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        assert_eq!(res.id(), existing.as_str());
        assert_eq!(
            res.body["userName"], "alice",
            "the IdP's attributes are now the member's"
        );
        let stored = app.stored_member(&res.id()).await.expect("stored");
        assert!(stored.scim_managed);
        assert_eq!(stored.provenance, Provenance::PreScim);
        // Adopted once: a second POST is a duplicate.
        app.scim
            .post(
                "/Users",
                &user("alice2", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect_error(409, Some("uniqueness"));
    })
    .await;
}

#[tokio::test]
async fn a_tenant_identifying_by_user_name_adopts_by_user_name() {
    // SEMANTICS 1 (LaunchDarkly): the identifier is userName, not email.
    for_each_backend(|mut app| async move {
        app.set_settings(|s| s.unique_identifier = UniqueIdentifier::UserName)
            .await;
        let existing = app
            .pre_scim_member(user("alice", "Alice", "Smith", "old-address@example.com"))
            .await;
        let res = app
            .scim
            .post(
                "/Users",
                &user("ALICE", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        assert_eq!(res.id(), existing.as_str());
        // The same email under another userName is another member.
        let other = app
            .scim
            .post(
                "/Users",
                &user("alice-2", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        assert_ne!(other.id(), existing.as_str());
        // And `/Users/{x}` resolves by userName.
        assert_eq!(
            app.scim.get("/Users/alice").await.expect(200).id(),
            existing.as_str()
        );
    })
    .await;
}

#[tokio::test]
async fn a_post_of_an_identifier_scim_already_manages_is_409_uniqueness() {
    for_each_backend(|app| async move {
        app.scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        let dup = app
            .scim
            .post(
                "/Users",
                &user("alice-again", "Alice", "Smith", " ALICE@example.com "),
            )
            .await;
        dup.expect_error(409, Some("uniqueness"));
        let same_user_name = app
            .scim
            .post(
                "/Users",
                &user("Alice", "Other", "Person", "other@example.com"),
            )
            .await;
        same_user_name.expect_error(409, Some("uniqueness"));
        assert_eq!(app.scim.get("/Users").await.expect(200).total(), 1);
        // Taking another member's identifier on PUT or PATCH is a duplicate too.
        let bob = app
            .scim
            .create_user(&user("bob", "Bob", "Jones", "bob@example.com"))
            .await;
        let put = app
            .scim
            .put(
                &format!("/Users/{bob}"),
                &user("bob", "Bob", "Jones", "Alice@example.com"),
            )
            .await;
        put.expect_error(409, Some("uniqueness"));
        let ops = json!([{"op": "replace", "path": "userName", "value": "ALICE"}]);
        app.scim
            .patch_ops(&format!("/Users/{bob}"), ops)
            .await
            .expect_error(409, Some("uniqueness"));
        assert_eq!(
            app.scim
                .get(&format!("/Users/{bob}"))
                .await
                .expect(200)
                .body["userName"],
            "bob"
        );
    })
    .await;
}

#[tokio::test]
async fn delete_deactivates_by_default_and_a_later_post_adopts_the_member_again() {
    // SEMANTICS 8, `deactivate` (the default).
    for_each_backend(|app| async move {
        let id = app
            .scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        app.scim.delete(&format!("/Users/{id}")).await.expect(204);
        app.scim
            .get(&format!("/Users/{id}"))
            .await
            .expect_error(404, None);
        app.scim
            .get("/Users/alice@example.com")
            .await
            .expect_error(404, None);
        let ops = json!([{"op": "replace", "path": "active", "value": true}]);
        app.scim
            .patch_ops(&format!("/Users/{id}"), ops)
            .await
            .expect_error(404, None);
        app.scim
            .put(
                &format!("/Users/{id}"),
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect_error(404, None);
        assert_eq!(app.scim.get("/Users").await.expect(200).total(), 0);
        let stored = app
            .stored_member(&id)
            .await
            .expect("the account stays for the host application");
        assert_eq!(stored.state, MemberState::Deactivated);
        let again = app
            .scim
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        assert_eq!(again.id(), id);
        assert_eq!(again.body["active"], true);
        assert_eq!(
            app.stored_member(&id).await.expect("stored").state,
            MemberState::Active
        );
        assert_eq!(
            app.scim.get(&format!("/Users/{id}")).await.expect(200).id(),
            id
        );
    })
    .await;
}

#[tokio::test]
async fn delete_with_the_remove_behaviour_removes_the_member() {
    // SEMANTICS 8, `remove` (Datasaur).
    for_each_backend(|mut app| async move {
        app.set_settings(|s| s.delete_behaviour = DeleteBehaviour::Remove)
            .await;
        let id = app
            .scim
            .create_user(&user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        let gid = app.scim.create_group(&group("Engineering", &[&id])).await;
        app.scim.delete(&format!("/Users/{id}")).await.expect(204);
        app.scim
            .get(&format!("/Users/{id}"))
            .await
            .expect_error(404, None);
        assert!(app.stored_member(&id).await.is_none());
        let g = app.scim.get(&format!("/Groups/{gid}")).await.expect(200);
        assert_eq!(
            member_ids(&g.body),
            Vec::<String>::new(),
            "memberships go with the member"
        );
        let again = app
            .scim
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        assert_ne!(again.id(), id);
    })
    .await;
}

#[tokio::test]
async fn protected_pre_scim_members_cannot_be_deactivated_or_deleted() {
    // SEMANTICS 9: 400 mutability naming the setting; nothing changes.
    for_each_backend(|mut app| async move {
        app.set_settings(|s| s.protect_pre_scim_members = true)
            .await;
        let id = app
            .pre_scim_member(user("alice", "Alice", "Smith", "alice@example.com"))
            .await;
        let id = id.as_str();
        let adopted = app
            .scim
            .post(
                "/Users",
                &user("alice", "Alice", "Smith", "alice@example.com"),
            )
            .await
            .expect(201);
        assert_eq!(adopted.id(), id);
        let before = app.scim.get(&format!("/Users/{id}")).await.expect(200);

        let refusals = [
            app.scim
                .patch_ops(
                    &format!("/Users/{id}"),
                    json!([{"op": "replace", "path": "active", "value": false}]),
                )
                .await,
            app.scim
                .patch_ops(
                    &format!("/Users/{id}"),
                    json!([{"op": "Replace", "value": {"active": "False"}}]),
                )
                .await,
            app.scim
                .put(&format!("/Users/{id}"), &{
                    let mut b = user("alice", "Alice", "Smith", "alice@example.com");
                    b["active"] = json!(false);
                    b
                })
                .await,
            app.scim.delete(&format!("/Users/{id}")).await,
        ];
        for res in refusals {
            let res = res.expect_error(400, Some("mutability"));
            assert!(
                res.body["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("protect_pre_scim_members")),
                "{}",
                res.text
            );
        }
        let after = app.scim.get(&format!("/Users/{id}")).await.expect(200);
        assert_eq!(after.body, before.body, "nothing changed");
        assert_eq!(
            app.stored_member(id).await.expect("stored").state,
            MemberState::Active
        );

        // Other changes to the member, and deactivating members SCIM created, still work.
        let renamed = app
            .scim
            .patch_ops(
                &format!("/Users/{id}"),
                json!([{"op": "replace", "path": "title", "value": "CTO"}]),
            )
            .await;
        assert_eq!(renamed.expect(200).body["active"], true);
        let bob = app
            .scim
            .create_user(&user("bob", "Bob", "Jones", "bob@example.com"))
            .await;
        let off = app
            .scim
            .patch_ops(
                &format!("/Users/{bob}"),
                json!([{"op": "replace", "path": "active", "value": false}]),
            )
            .await;
        assert_eq!(off.expect(200).body["active"], false);
        app.scim.delete(&format!("/Users/{bob}")).await.expect(204);
    })
    .await;
}
