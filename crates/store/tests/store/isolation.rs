//! Tenant isolation: two tenants holding look-alike members and groups; every read, list,
//! filter, write, delete and membership call of one never touches the other's rows.

use scimgate_domain::group::{Group, MembershipChange};
use scimgate_domain::ids::TenantId;
use scimgate_domain::member::Member;
use scimgate_domain::ports::{GroupStore, ListQuery, MemberStore, StoreError};
use scimgate_store::DbStore;

use crate::backends::for_each_backend;
use crate::fixtures::{
    add_group, add_member, add_tenant, all_query, bumped, edited, matching, matching_groups,
    new_group, scim_user,
};

struct Side {
    tenant: TenantId,
    member: Member,
    group: Group,
}

/// The same userName, email and group name in both tenants (unique keys are per tenant).
async fn side(store: &DbStore, slug: &str) -> Side {
    let tenant = add_tenant(store, slug).await;
    let member = add_member(
        store,
        &tenant,
        scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
    )
    .await;
    let group = add_group(store, &tenant, "Engineering", &[&member]).await;
    Side {
        tenant,
        member,
        group,
    }
}

#[tokio::test]
async fn member_reads_lists_and_filters_see_only_their_tenant() {
    for_each_backend(|store| async move {
        let a = side(&store, "tenant-a").await;
        let b = side(&store, "tenant-b").await;

        assert_eq!(store.member(&a.tenant, &b.member.id).await.unwrap(), None);
        let by_identifier = store
            .member_by_identifier(&a.tenant, "bjensen@example.com")
            .await
            .unwrap();
        assert_eq!(by_identifier.map(|m| m.id), Some(a.member.id.clone()));
        let by_user_name = store
            .member_by_user_name(&a.tenant, "bjensen")
            .await
            .unwrap();
        assert_eq!(by_user_name.map(|m| m.id), Some(a.member.id.clone()));

        let all = store.list_members(&a.tenant, &all_query()).await.unwrap();
        assert_eq!((all.total, all.items), (1, vec![a.member.clone()]));
        let count_only = store
            .list_members(
                &a.tenant,
                &ListQuery {
                    count: 0,
                    ..all_query()
                },
            )
            .await
            .unwrap();
        assert_eq!(count_only.total, 1);
        for filter in [
            r#"userName eq "bjensen""#,
            r#"emails[type eq "work" and value co "@example.com"]"#,
            r#"name.familyName eq "Jensen""#,
            "emails pr",
        ] {
            let page = store
                .list_members(&a.tenant, &crate::fixtures::filter_query(filter))
                .await
                .unwrap();
            let ids: Vec<_> = page.items.into_iter().map(|m| m.id).collect();
            assert_eq!(ids, vec![a.member.id.clone()], "{filter}");
        }
        assert_eq!(
            matching(&store, &a.tenant, &format!(r#"id eq "{}""#, b.member.id)).await,
            Vec::<String>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn member_writes_of_one_tenant_never_touch_another() {
    for_each_backend(|store| async move {
        let a = side(&store, "tenant-a").await;
        let b = side(&store, "tenant-b").await;

        // B's member id under tenant A's name: no row matches, so nothing is written.
        let (mut forged, keys) = edited(
            &b.member,
            scim_user("mallory", "Mallory", "Forged", "mallory@example.com"),
        );
        forged.tenant_id = a.tenant.clone();
        let err = store
            .update_member(&forged, &keys, 1, None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::VersionMismatch), "{err:?}");
        assert_eq!(
            store.member(&b.tenant, &b.member.id).await.unwrap(),
            Some(b.member.clone())
        );
        assert_eq!(
            matching(&store, &b.tenant, r#"name.familyName eq "Forged""#).await,
            Vec::<String>::new()
        );
        assert_eq!(
            matching(&store, &a.tenant, r#"name.familyName eq "Forged""#).await,
            Vec::<String>::new()
        );

        assert!(!store.delete_member(&a.tenant, &b.member.id).await.unwrap());
        assert!(
            store
                .member(&b.tenant, &b.member.id)
                .await
                .unwrap()
                .is_some()
        );

        // Resolution by id or identifier stays inside the tenant.
        let resolved = store
            .resolve_members(
                &a.tenant,
                &[b.member.id.to_string(), "bjensen@example.com".to_owned()],
            )
            .await
            .unwrap();
        assert_eq!(
            resolved,
            vec![("bjensen@example.com".to_owned(), a.member.id.clone())]
        );
    })
    .await;
}

#[tokio::test]
async fn group_reads_memberships_and_writes_see_only_their_tenant() {
    for_each_backend(|store| async move {
        let a = side(&store, "tenant-a").await;
        let b = side(&store, "tenant-b").await;

        assert_eq!(store.group(&a.tenant, &b.group.id).await.unwrap(), None);
        assert_eq!(
            store
                .group_by_display_name(&a.tenant, "engineering")
                .await
                .unwrap()
                .map(|g| g.id),
            Some(a.group.id.clone())
        );
        let refs = store
            .group_members(&a.tenant, &[a.group.id.clone(), b.group.id.clone()])
            .await
            .unwrap();
        let members: Vec<_> = refs.into_iter().map(|r| r.member_id).collect();
        assert_eq!(members, vec![a.member.id.clone()]);
        assert_eq!(
            store
                .groups_of_member(&a.tenant, &b.member.id)
                .await
                .unwrap(),
            vec![]
        );
        let listed = store.list_groups(&a.tenant, &all_query()).await.unwrap();
        assert_eq!((listed.total, listed.items), (1, vec![a.group.clone()]));
        assert_eq!(
            matching_groups(
                &store,
                &a.tenant,
                &format!(r#"members[value eq "{}"]"#, b.member.id)
            )
            .await,
            Vec::<String>::new()
        );

        // B's group under tenant A's name: not found, nothing changes.
        let mut forged = bumped(&b.group);
        forged.tenant_id = a.tenant.clone();
        let err = store
            .update_group(&forged, b.group.version, &[MembershipChange::RemoveAll])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::VersionMismatch), "{err:?}");
        assert!(!store.delete_group(&a.tenant, &b.group.id).await.unwrap());
        assert_eq!(
            store.group(&b.tenant, &b.group.id).await.unwrap(),
            Some(b.group.clone())
        );
        let b_members: Vec<_> = store
            .group_members(&b.tenant, std::slice::from_ref(&b.group.id))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.member_id)
            .collect();
        assert_eq!(b_members, vec![b.member.id.clone()]);
    })
    .await;
}

#[tokio::test]
async fn a_group_never_lists_another_tenants_member() {
    for_each_backend(|store| async move {
        let a = side(&store, "tenant-a").await;
        let b = side(&store, "tenant-b").await;

        // Ids should come resolved in the tenant; a caller that slips must not leak B's
        // member (its id and displayName) into A's group.
        let group = new_group(&a.tenant, "Leaky", None);
        let insert = store
            .insert_group(&group, &[a.member.id.clone(), b.member.id.clone()])
            .await;
        let next = bumped(&a.group);
        let update = store
            .update_group(
                &next,
                a.group.version,
                &[MembershipChange::Add(vec![b.member.id.clone()])],
            )
            .await;

        for (label, result, group_id) in [
            ("insert_group", insert, &group.id),
            ("update_group", update, &a.group.id),
        ] {
            if result.is_err() {
                continue; // refusing is fine too
            }
            let members: Vec<_> = store
                .group_members(&a.tenant, std::slice::from_ref(group_id))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.member_id)
                .collect();
            assert!(
                !members.contains(&b.member.id),
                "{label}: tenant A's group lists tenant B's member"
            );
        }
        assert_eq!(
            store
                .groups_of_member(&b.tenant, &b.member.id)
                .await
                .unwrap(),
            vec![b.group.clone()],
            "tenant B's member shows no group of tenant A"
        );
    })
    .await;
}
