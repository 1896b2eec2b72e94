//! Optimistic concurrency under real concurrent writers: several writers that read the same
//! version race, exactly one wins and the others get `VersionMismatch`; racing inserts of one
//! userName leave one member and conflicts.

use scimgate_domain::group::MembershipChange;
use scimgate_domain::ids::MemberId;
use scimgate_domain::ports::{GroupStore, MemberStore, StoreError};

use crate::backends::for_each_backend;
use crate::fixtures::{add_group, add_member, add_tenant, bumped, edited, new_member, scim_user};

const WRITERS: usize = 4;

fn count_outcomes(results: &[Result<(), StoreError>], expected_loss: fn(&StoreError) -> bool) {
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "exactly one writer wins: {results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(expected_loss),
        "the losers fail cleanly: {results:?}"
    );
}

#[tokio::test]
async fn of_several_updates_from_the_same_version_exactly_one_is_written() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let member = add_member(
            &store,
            &t,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let attempts: Vec<_> = (0..WRITERS)
            .map(|i| {
                edited(
                    &member,
                    scim_user(
                        "bjensen",
                        "Barbara",
                        &format!("Writer{i}"),
                        "bjensen@example.com",
                    ),
                )
            })
            .collect();
        let results = futures_util::future::join_all(
            attempts
                .iter()
                .map(|(next, keys)| store.update_member(next, keys, 1, None)),
        )
        .await;
        count_outcomes(&results, |e| matches!(e, StoreError::VersionMismatch));

        let winner = results.iter().position(Result::is_ok).unwrap();
        let read = store.member(&t, &member.id).await.unwrap();
        assert_eq!(read.as_ref(), Some(&attempts[winner].0));
    })
    .await;
}

#[tokio::test]
async fn of_several_group_updates_from_the_same_version_only_the_winners_membership_lands() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let mut people = Vec::new();
        for i in 0..WRITERS {
            people.push(
                add_member(
                    &store,
                    &t,
                    scim_user(&format!("u{i}"), "U", "Ser", &format!("u{i}@example.com")),
                )
                .await,
            );
        }
        let group = add_group(&store, &t, "Engineering", &[]).await;
        let next = bumped(&group);
        let changes: Vec<Vec<MembershipChange>> = people
            .iter()
            .map(|m| vec![MembershipChange::ReplaceAll(vec![m.id.clone()])])
            .collect();
        let results = futures_util::future::join_all(
            changes
                .iter()
                .map(|c| store.update_group(&next, group.version, c)),
        )
        .await;
        count_outcomes(&results, |e| matches!(e, StoreError::VersionMismatch));

        let winner = results.iter().position(Result::is_ok).unwrap();
        let members: Vec<MemberId> = store
            .group_members(&t, std::slice::from_ref(&group.id))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.member_id)
            .collect();
        assert_eq!(members, vec![people[winner].id.clone()]);
    })
    .await;
}

#[tokio::test]
async fn of_several_inserts_of_one_user_name_exactly_one_succeeds() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let attempts: Vec<_> = (0..WRITERS)
            .map(|i| {
                new_member(
                    &t,
                    scim_user("BJensen", "Barbara", "Jensen", &format!("b{i}@example.com")),
                )
            })
            .collect();
        let results = futures_util::future::join_all(
            attempts
                .iter()
                .map(|(member, keys)| store.insert_member(member, keys, None)),
        )
        .await;
        count_outcomes(&results, |e| {
            matches!(e, StoreError::Conflict { what: "userName" })
        });
    })
    .await;
}
