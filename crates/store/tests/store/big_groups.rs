//! Sizes past the store's 1,000-row chunk: a 2,500-member group inserted, replaced, trimmed
//! and refilled; 2,500 ids resolved at once; a member with more index rows than a chunk.

use futures_util::StreamExt as _;
use scimgate_domain::group::MembershipChange;
use scimgate_domain::ids::{MemberId, TenantId};
use scimgate_domain::ports::{GroupStore, MemberStore};
use scimgate_store::DbStore;
use serde_json::{Value, json};

use crate::backends::for_each_backend;
use crate::fixtures::{
    USER_URN, add_member, add_tenant, bumped, matching, matching_groups, new_group, scim_user,
};

const MEMBERS: usize = 2_500;

async fn many_members(store: &DbStore, t: &TenantId) -> Vec<MemberId> {
    let mut ids: Vec<MemberId> = futures_util::stream::iter(0..MEMBERS)
        .map(|i| async move {
            add_member(
                store,
                t,
                scim_user(
                    &format!("user{i:04}"),
                    "User",
                    &format!("No{i}"),
                    &format!("user{i:04}@example.com"),
                ),
            )
            .await
            .id
        })
        .buffer_unordered(4)
        .collect()
        .await;
    ids.sort();
    ids
}

async fn member_ids(
    store: &DbStore,
    t: &TenantId,
    group: &scimgate_domain::group::Group,
) -> Vec<MemberId> {
    let mut ids: Vec<MemberId> = store
        .group_members(t, std::slice::from_ref(&group.id))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.member_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_group_bigger_than_a_chunk_is_inserted_replaced_trimmed_and_refilled() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let ids = many_members(&store, &t).await;

        let group = new_group(&t, "Everyone", Some("all-staff"));
        store.insert_group(&group, &ids).await.unwrap();
        assert_eq!(member_ids(&store, &t, &group).await, ids);
        let last = ids.last().unwrap();
        assert_eq!(
            matching_groups(&store, &t, &format!(r#"members.value eq "{last}""#)).await,
            ["Everyone"]
        );

        // Replaced by the same people in reverse order plus 100 repeats: three chunks, the
        // repeats crossing chunk boundaries.
        let mut replacement: Vec<MemberId> = ids.iter().rev().cloned().collect();
        replacement.extend(ids.iter().take(100).cloned());
        let group = {
            let next = bumped(&group);
            store
                .update_group(
                    &next,
                    group.version,
                    &[MembershipChange::ReplaceAll(replacement)],
                )
                .await
                .unwrap();
            next
        };
        assert_eq!(member_ids(&store, &t, &group).await, ids);

        // Remove 1,200 (two chunks), then add all back (three chunks, mostly present).
        let group = {
            let next = bumped(&group);
            store
                .update_group(
                    &next,
                    group.version,
                    &[MembershipChange::Remove(ids[..1_200].to_vec())],
                )
                .await
                .unwrap();
            next
        };
        assert_eq!(member_ids(&store, &t, &group).await, ids[1_200..].to_vec());
        let group = {
            let next = bumped(&group);
            store
                .update_group(&next, group.version, &[MembershipChange::Add(ids.clone())])
                .await
                .unwrap();
            next
        };
        assert_eq!(member_ids(&store, &t, &group).await, ids);

        let mut given: Vec<String> = ids.iter().map(ToString::to_string).collect();
        given.push("nobody@example.com".into());
        let resolved = store.resolve_members(&t, &given).await.unwrap();
        assert_eq!(resolved.len(), MEMBERS);
        assert!(resolved.iter().all(|(given, id)| given == id.as_str()));
    })
    .await;
}

#[tokio::test]
async fn a_member_with_more_index_rows_than_a_chunk_is_written_and_filtered() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        // 400 emails: 400 element markers + 800 sub-attribute rows.
        let emails: Vec<Value> = (0..400)
            .map(|i| json!({"value": format!("alias{i}@example.com"), "type": "other"}))
            .collect();
        let member = add_member(
            &store,
            &t,
            json!({"schemas": [USER_URN], "userName": "aliases", "emails": emails}),
        )
        .await;
        assert_eq!(
            matching(
                &store,
                &t,
                r#"emails[value eq "alias399@example.com" and type eq "other"]"#
            )
            .await,
            ["aliases"]
        );

        let (next, keys) = crate::fixtures::edited(
            &member,
            json!({"schemas": [USER_URN], "userName": "aliases", "emails": emails[..5]}),
        );
        store.update_member(&next, &keys, 1, None).await.unwrap();
        assert_eq!(
            matching(&store, &t, r#"emails.value eq "alias399@example.com""#).await,
            Vec::<String>::new()
        );
        assert_eq!(
            matching(&store, &t, r#"emails.value eq "alias4@example.com""#).await,
            ["aliases"]
        );
    })
    .await;
}
