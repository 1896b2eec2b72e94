//! Members: insert and lookups, unique keys, optimistic updates with their filter index, delete.

use scimgate_domain::ids::MemberId;
use scimgate_domain::ports::{MemberStore, StoreError};
use serde_json::json;

use crate::backends::for_each_backend;
use crate::fixtures::{
    ENTERPRISE_URN, USER_URN, add_member, add_tenant, all_query, edited, matching, new_member,
    scim_user,
};

#[tokio::test]
async fn a_member_is_read_back_by_id_identifier_and_user_name() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        let (member, keys) = new_member(
            &tenant,
            json!({
                "schemas": [USER_URN, ENTERPRISE_URN],
                "userName": "BJensen@Example.com",
                "externalId": "00u1abcd",
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "displayName": "Babs Jensen",
                "emails": [
                    {"value": "babs@jensen.org", "type": "home"},
                    {"value": "BJensen@Example.com", "type": "work", "primary": true}
                ],
                "active": true,
                ENTERPRISE_URN: {"department": "Tour Operations", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
            }),
        );
        store.insert_member(&member, &keys, None).await.unwrap();

        assert_eq!(
            store.member(&tenant, &member.id).await.unwrap(),
            Some(member.clone())
        );
        assert_eq!(
            store
                .member_by_identifier(&tenant, "bjensen@example.com")
                .await
                .unwrap(),
            Some(member.clone())
        );
        assert_eq!(
            store
                .member_by_user_name(&tenant, "bjensen@example.com")
                .await
                .unwrap(),
            Some(member.clone())
        );
        assert_eq!(
            store.member(&tenant, &MemberId::generate()).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .member_by_identifier(&tenant, "babs@jensen.org")
                .await
                .unwrap(),
            None,
            "only the primary email is the identifier"
        );
    })
    .await;
}

#[tokio::test]
async fn a_user_name_taken_in_another_case_is_a_user_name_conflict() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let (twin, keys) = new_member(
            &tenant,
            scim_user("BJENSEN", "Barb", "Jensen", "barbara.jensen@example.com"),
        );
        let err = store.insert_member(&twin, &keys, None).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { what: "userName" }),
            "{err:?}"
        );
        assert_eq!(store.member(&tenant, &twin.id).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_taken_identifier_is_a_conflict_and_nothing_is_written() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        // Another userName, the same email in another case: the identifier (email) collides.
        let (twin, keys) = new_member(
            &tenant,
            scim_user("barbara.j", "Barbara", "Jensen", "BJensen@Example.COM"),
        );
        let err = store.insert_member(&twin, &keys, None).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
        assert_eq!(store.member(&tenant, &twin.id).await.unwrap(), None);
        // The failed insert left no index rows behind either.
        assert_eq!(
            matching(&store, &tenant, r#"userName eq "barbara.j""#).await,
            Vec::<String>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn an_update_with_the_expected_version_is_written() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        let member = add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let (next, keys) = edited(
            &member,
            scim_user("bjensen", "Barbara", "Jensen-Smith", "bjensen@example.com"),
        );
        store.update_member(&next, &keys, 1, None).await.unwrap();

        let read = store.member(&tenant, &member.id).await.unwrap();
        assert_eq!(read, Some(next));
        assert_eq!(read.map(|m| m.version), Some(2));
    })
    .await;
}

#[tokio::test]
async fn an_update_with_a_stale_version_is_a_mismatch_and_writes_nothing() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        let member = add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let (v2, keys2) = edited(
            &member,
            scim_user("bjensen", "Barbara", "Jensen", "babs@example.com"),
        );
        store.update_member(&v2, &keys2, 1, None).await.unwrap();

        // A writer that read version 1 loses.
        let (stale, stale_keys) = edited(
            &member,
            scim_user("barbara", "Barbara", "Stale", "stale@example.com"),
        );
        let err = store
            .update_member(&stale, &stale_keys, 1, None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::VersionMismatch), "{err:?}");

        assert_eq!(store.member(&tenant, &member.id).await.unwrap(), Some(v2));
        assert_eq!(
            store.member_by_user_name(&tenant, "barbara").await.unwrap(),
            None
        );
        assert_eq!(
            matching(&store, &tenant, r#"name.familyName eq "Stale""#).await,
            Vec::<String>::new(),
            "the index was not rewritten"
        );
        assert_eq!(
            matching(&store, &tenant, r#"emails.value eq "babs@example.com""#).await,
            ["bjensen"]
        );
    })
    .await;
}

#[tokio::test]
async fn renaming_a_member_to_a_taken_user_name_is_a_conflict_and_writes_nothing() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        add_member(
            &store,
            &tenant,
            scim_user("jsmith", "John", "Smith", "jsmith@example.com"),
        )
        .await;
        let member = add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let (next, keys) = edited(
            &member,
            scim_user("JSmith", "Barbara", "Renamed", "bjensen@example.com"),
        );
        let err = store
            .update_member(&next, &keys, 1, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { what: "userName" }),
            "{err:?}"
        );
        assert_eq!(
            store.member(&tenant, &member.id).await.unwrap(),
            Some(member)
        );
        assert_eq!(
            matching(&store, &tenant, r#"name.familyName eq "Renamed""#).await,
            Vec::<String>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn the_filter_index_follows_updates() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        let member = add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@old.example.com"),
        )
        .await;
        assert_eq!(
            matching(
                &store,
                &tenant,
                r#"emails.value eq "bjensen@old.example.com""#
            )
            .await,
            ["bjensen"]
        );

        let mut resource = scim_user("bjensen", "Barbara", "Jensen", "bjensen@new.example.com");
        resource["active"] = json!(false);
        let (next, keys) = edited(&member, resource);
        store.update_member(&next, &keys, 1, None).await.unwrap();

        assert_eq!(
            matching(
                &store,
                &tenant,
                r#"emails.value eq "bjensen@old.example.com""#
            )
            .await,
            Vec::<String>::new()
        );
        assert_eq!(
            matching(&store, &tenant, r#"emails co "@new.example.com""#).await,
            ["bjensen"]
        );
        assert_eq!(
            matching(&store, &tenant, "active eq false").await,
            ["bjensen"]
        );
        assert_eq!(
            store
                .member_by_identifier(&tenant, "bjensen@new.example.com")
                .await
                .unwrap()
                .map(|m| m.id),
            Some(member.id.clone())
        );
        assert_eq!(
            store
                .member_by_identifier(&tenant, "bjensen@old.example.com")
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn a_deleted_member_is_gone_and_deleting_again_is_false() {
    for_each_backend(|store| async move {
        let tenant = add_tenant(&store, "acme").await;
        let member = add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let other = add_member(
            &store,
            &tenant,
            scim_user("jsmith", "John", "Smith", "jsmith@example.com"),
        )
        .await;

        assert!(store.delete_member(&tenant, &member.id).await.unwrap());
        assert!(!store.delete_member(&tenant, &member.id).await.unwrap());

        assert_eq!(store.member(&tenant, &member.id).await.unwrap(), None);
        let page = store.list_members(&tenant, &all_query()).await.unwrap();
        assert_eq!(page.items, vec![other]);
        assert_eq!(
            matching(&store, &tenant, r#"name.familyName eq "Jensen""#).await,
            Vec::<String>::new()
        );
        // The userName and identifier are free again.
        add_member(
            &store,
            &tenant,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
    })
    .await;
}
