//! Groups and their memberships: insert, unique displayName, optimistic updates applying
//! membership changes in one transaction, member lookups, deletes.

use scimgate_domain::group::{Group, GroupMemberRef, MembershipChange};
use scimgate_domain::ids::{GroupId, MemberId, TenantId};
use scimgate_domain::member::Member;
use scimgate_domain::ports::{GroupStore, MemberStore, StoreError};
use scimgate_store::DbStore;
use serde_json::json;

use crate::backends::for_each_backend;
use crate::fixtures::{
    USER_URN, add_group, add_member, add_tenant, all_query, bumped, new_group, scim_user,
};

/// The member ids of `group`, sorted.
async fn member_ids(store: &DbStore, t: &TenantId, group: &GroupId) -> Vec<MemberId> {
    let mut ids: Vec<MemberId> = store
        .group_members(t, std::slice::from_ref(group))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.member_id)
        .collect();
    ids.sort();
    ids
}

fn ids_of(members: &[&Member]) -> Vec<MemberId> {
    let mut ids: Vec<MemberId> = members.iter().map(|m| m.id.clone()).collect();
    ids.sort();
    ids
}

async fn three_people(store: &DbStore, t: &TenantId) -> (Member, Member, Member) {
    let b = add_member(
        store,
        t,
        scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
    )
    .await;
    let j = add_member(
        store,
        t,
        scim_user("jsmith", "John", "Smith", "jsmith@example.com"),
    )
    .await;
    // No displayName: a membership shows the userName.
    let m = add_member(
        store,
        t,
        json!({"schemas": [USER_URN], "userName": "mlee", "emails": [{"value": "mlee@example.com"}]}),
    )
    .await;
    (b, j, m)
}

async fn update(
    store: &DbStore,
    group: &Group,
    changes: &[MembershipChange],
) -> Result<Group, StoreError> {
    let next = bumped(group);
    store
        .update_group(&next, group.version, changes)
        .await
        .map(|()| next)
}

#[tokio::test]
async fn a_group_is_stored_with_its_members_and_found_by_id_and_name() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, _, m) = three_people(&store, &t).await;
        let group = new_group(&t, "Engineering", Some("okta-00g1"));
        store
            .insert_group(&group, &[b.id.clone(), m.id.clone()])
            .await
            .unwrap();

        assert_eq!(
            store.group(&t, &group.id).await.unwrap(),
            Some(group.clone())
        );
        assert_eq!(
            store
                .group_by_display_name(&t, "engineering")
                .await
                .unwrap(),
            Some(group.clone())
        );
        assert_eq!(store.group(&t, &GroupId::generate()).await.unwrap(), None);

        let mut expected = vec![
            GroupMemberRef {
                group_id: group.id.clone(),
                member_id: b.id.clone(),
                display: "Barbara Jensen".into(),
            },
            GroupMemberRef {
                group_id: group.id.clone(),
                member_id: m.id.clone(),
                display: "mlee".into(),
            },
        ];
        expected.sort_by(|x, y| x.member_id.cmp(&y.member_id));
        assert_eq!(
            store
                .group_members(&t, std::slice::from_ref(&group.id))
                .await
                .unwrap(),
            expected
        );
    })
    .await;
}

#[tokio::test]
async fn a_display_name_taken_in_another_case_is_a_conflict() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, _, _) = three_people(&store, &t).await;
        add_group(&store, &t, "Engineering", &[]).await;
        let twin = new_group(&t, "ENGINEERING", None);
        let err = store
            .insert_group(&twin, std::slice::from_ref(&b.id))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    what: "displayName"
                }
            ),
            "{err:?}"
        );
        assert_eq!(store.group(&t, &twin.id).await.unwrap(), None);
        assert_eq!(store.groups_of_member(&t, &b.id).await.unwrap(), vec![]);
    })
    .await;
}

#[tokio::test]
async fn adding_members_is_idempotent() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j, m) = three_people(&store, &t).await;
        let group = add_group(&store, &t, "Engineering", &[&b]).await;

        let add = MembershipChange::Add(vec![b.id.clone(), j.id.clone(), j.id.clone()]);
        let group = update(&store, &group, std::slice::from_ref(&add))
            .await
            .unwrap();
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&b, &j]));

        let group = update(&store, &group, &[add.clone(), add]).await.unwrap();
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&b, &j]));

        let group = update(&store, &group, &[MembershipChange::Add(vec![m.id.clone()])])
            .await
            .unwrap();
        assert_eq!(
            member_ids(&store, &t, &group.id).await,
            ids_of(&[&b, &j, &m])
        );
        assert_eq!(
            store.group(&t, &group.id).await.unwrap().map(|g| g.version),
            Some(4)
        );
    })
    .await;
}

#[tokio::test]
async fn remove_remove_all_and_replace_all_change_only_what_they_name() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j, m) = three_people(&store, &t).await;
        let group = add_group(&store, &t, "Engineering", &[&b, &j, &m]).await;

        let group = update(
            &store,
            &group,
            &[MembershipChange::Remove(vec![
                j.id.clone(),
                MemberId::generate(),
            ])],
        )
        .await
        .unwrap();
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&b, &m]));

        let group = update(&store, &group, &[MembershipChange::RemoveAll])
            .await
            .unwrap();
        assert_eq!(member_ids(&store, &t, &group.id).await, vec![]);

        let group = update(
            &store,
            &group,
            &[MembershipChange::ReplaceAll(vec![
                j.id.clone(),
                m.id.clone(),
            ])],
        )
        .await
        .unwrap();
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&j, &m]));

        let group = update(
            &store,
            &group,
            &[MembershipChange::ReplaceAll(vec![b.id.clone()])],
        )
        .await
        .unwrap();
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&b]));

        // Changes apply in order.
        let group = update(
            &store,
            &group,
            &[
                MembershipChange::Add(vec![j.id.clone()]),
                MembershipChange::Remove(vec![b.id.clone()]),
                MembershipChange::Add(vec![m.id.clone()]),
                MembershipChange::Remove(vec![m.id.clone()]),
            ],
        )
        .await
        .unwrap();
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&j]));
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_a_mismatch_and_changes_no_membership() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j, _) = three_people(&store, &t).await;
        let group = add_group(&store, &t, "Engineering", &[&b]).await;
        let current = update(&store, &group, &[]).await.unwrap();

        let mut renamed = bumped(&group);
        renamed.resource["displayName"] = json!("Platform");
        renamed.sync_keys();
        let err = store
            .update_group(
                &renamed,
                group.version,
                &[
                    MembershipChange::RemoveAll,
                    MembershipChange::Add(vec![j.id.clone()]),
                ],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::VersionMismatch), "{err:?}");
        assert_eq!(store.group(&t, &group.id).await.unwrap(), Some(current));
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&b]));
    })
    .await;
}

#[tokio::test]
async fn renaming_a_group_to_a_taken_name_is_a_conflict_and_changes_no_membership() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j, _) = three_people(&store, &t).await;
        add_group(&store, &t, "Sales", &[]).await;
        let group = add_group(&store, &t, "Engineering", &[&b]).await;

        let mut renamed = bumped(&group);
        renamed.resource["displayName"] = json!("sales");
        renamed.sync_keys();
        let err = store
            .update_group(
                &renamed,
                group.version,
                &[MembershipChange::ReplaceAll(vec![j.id.clone()])],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    what: "displayName"
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            store.group(&t, &group.id).await.unwrap(),
            Some(group.clone())
        );
        assert_eq!(member_ids(&store, &t, &group.id).await, ids_of(&[&b]));
    })
    .await;
}

#[tokio::test]
async fn group_members_reads_several_groups_at_once_in_a_stable_order() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j, m) = three_people(&store, &t).await;
        let eng = add_group(&store, &t, "Engineering", &[&b, &j]).await;
        let sales = add_group(&store, &t, "Sales", &[&m, &j]).await;
        let other = add_group(&store, &t, "Support", &[&b]).await;

        let refs = store
            .group_members(&t, &[sales.id.clone(), eng.id.clone()])
            .await
            .unwrap();
        let pairs: Vec<(GroupId, MemberId)> = refs
            .iter()
            .map(|r| (r.group_id.clone(), r.member_id.clone()))
            .collect();
        let mut expected = vec![
            (eng.id.clone(), b.id.clone()),
            (eng.id.clone(), j.id.clone()),
            (sales.id.clone(), m.id.clone()),
            (sales.id.clone(), j.id.clone()),
        ];
        expected.sort();
        assert_eq!(pairs, expected);
        assert!(refs.iter().all(|r| r.group_id != other.id));
        assert_eq!(store.group_members(&t, &[]).await.unwrap(), vec![]);
    })
    .await;
}

#[tokio::test]
async fn groups_of_member_lists_its_groups_by_name() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j, _) = three_people(&store, &t).await;
        add_group(&store, &t, "sales", &[&b]).await;
        add_group(&store, &t, "Engineering", &[&b, &j]).await;
        add_group(&store, &t, "Support", &[&j]).await;

        let names: Vec<String> = store
            .groups_of_member(&t, &b.id)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.display_name)
            .collect();
        assert_eq!(names, ["Engineering", "sales"]);
    })
    .await;
}

#[tokio::test]
async fn deleting_a_member_removes_its_memberships() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j, _) = three_people(&store, &t).await;
        let eng = add_group(&store, &t, "Engineering", &[&b, &j]).await;
        let sales = add_group(&store, &t, "Sales", &[&b]).await;

        assert!(store.delete_member(&t, &b.id).await.unwrap());

        assert_eq!(member_ids(&store, &t, &eng.id).await, ids_of(&[&j]));
        assert_eq!(member_ids(&store, &t, &sales.id).await, vec![]);
        assert_eq!(store.groups_of_member(&t, &b.id).await.unwrap(), vec![]);
        // The membership rows are gone, not just hidden by the join.
        assert_eq!(
            crate::fixtures::matching_groups(
                &store,
                &t,
                &format!(r#"members.value eq "{}""#, b.id)
            )
            .await,
            Vec::<String>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_a_group_keeps_its_members() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, _, _) = three_people(&store, &t).await;
        let eng = add_group(&store, &t, "Engineering", &[&b]).await;

        assert!(store.delete_group(&t, &eng.id).await.unwrap());
        assert!(!store.delete_group(&t, &eng.id).await.unwrap());
        assert_eq!(store.group(&t, &eng.id).await.unwrap(), None);
        assert_eq!(store.groups_of_member(&t, &b.id).await.unwrap(), vec![]);
        assert_eq!(store.list_members(&t, &all_query()).await.unwrap().total, 3);
        // The name is free again.
        add_group(&store, &t, "engineering", &[&b]).await;
    })
    .await;
}
