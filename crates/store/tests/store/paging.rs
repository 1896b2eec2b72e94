//! sortBy/sortOrder (RFC 7644 §3.4.2.3), startIndex/count paging with its total (§3.4.2.4),
//! and members SCIM no longer sees (scim_visible = false).

use scimgate_domain::filter::AttrPath;
use scimgate_domain::ids::TenantId;
use scimgate_domain::ports::{ListQuery, MemberStore, StoreError};
use scimgate_store::DbStore;
use serde_json::json;

use crate::backends::for_each_backend;
use crate::fixtures::{
    USER_URN, add_member, add_tenant, all_query, filter_query, listed, matching, new_member,
    scim_user, sorted_query,
};

async fn people(store: &DbStore, t: &TenantId) {
    for (user_name, family) in [
        ("carol", Some("Zimmer")),
        ("Alice", Some("adams")),
        ("bob", None),
        ("dave", Some("Miller")),
    ] {
        let mut resource = json!({
            "schemas": [USER_URN],
            "userName": user_name,
            "emails": [{"value": format!("{user_name}@example.com"), "type": "work"}],
        });
        if let Some(family) = family {
            resource["name"] = json!({"givenName": user_name, "familyName": family});
        }
        add_member(store, t, resource).await;
    }
}

#[tokio::test]
async fn members_sort_by_user_name_ignoring_case_both_ways() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        people(&store, &t).await;
        let user_name = AttrPath::new("userName");
        assert_eq!(
            listed(&store, &t, &sorted_query(user_name.clone(), false)).await,
            ["Alice", "bob", "carol", "dave"]
        );
        assert_eq!(
            listed(&store, &t, &sorted_query(user_name, true)).await,
            ["dave", "carol", "bob", "Alice"]
        );
    })
    .await;
}

#[tokio::test]
async fn sorting_by_family_name_puts_a_member_without_one_last_when_ascending() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        people(&store, &t).await;
        assert_eq!(
            listed(
                &store,
                &t,
                &sorted_query(AttrPath::with_sub("name", "familyName"), false)
            )
            .await,
            ["Alice", "dave", "carol", "bob"]
        );
    })
    .await;
}

#[tokio::test]
async fn sorting_descending_puts_a_member_without_the_value_first() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        people(&store, &t).await;
        // RFC 7644 §3.4.2.3: without data for sortBy, "ordered last if ascending and first if
        // descending".
        assert_eq!(
            listed(
                &store,
                &t,
                &sorted_query(AttrPath::with_sub("name", "familyName"), true)
            )
            .await,
            ["bob", "carol", "dave", "Alice"]
        );
    })
    .await;
}

#[tokio::test]
async fn sorting_by_a_multi_valued_attribute_uses_the_primary_value() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        add_member(
            &store,
            &t,
            json!({"schemas": [USER_URN], "userName": "zed", "emails": [
                {"value": "aaa@example.com", "type": "home"},
                {"value": "zed@example.com", "type": "work", "primary": true}
            ]}),
        )
        .await;
        add_member(
            &store,
            &t,
            json!({"schemas": [USER_URN], "userName": "mid", "emails": [
                {"value": "mid@example.com", "type": "work", "primary": true}
            ]}),
        )
        .await;
        // RFC 7644 §3.4.2.3: a multi-valued sortBy sorts by the primary value, else the first.
        for path in [
            AttrPath::with_sub("emails", "value"),
            AttrPath::new("emails"),
        ] {
            assert_eq!(
                listed(&store, &t, &sorted_query(path.clone(), false)).await,
                ["mid", "zed"],
                "sortBy={path:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn sorting_by_an_unknown_attribute_is_an_invalid_query() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        people(&store, &t).await;
        let err = store
            .list_members(&t, &sorted_query(AttrPath::new("shoeSize"), false))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidQuery(_)), "{err:?}");
    })
    .await;
}

fn page(start_index: u64, count: u64) -> ListQuery {
    ListQuery {
        start_index,
        count,
        ..sorted_query(AttrPath::new("userName"), false)
    }
}

#[tokio::test]
async fn pages_cover_the_sorted_list_and_each_carries_the_total() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        for i in 0..7 {
            add_member(
                &store,
                &t,
                scim_user(
                    &format!("user{i}"),
                    "U",
                    "Ser",
                    &format!("user{i}@example.com"),
                ),
            )
            .await;
        }
        let mut seen = Vec::new();
        for start in [1, 4, 7] {
            let p = store.list_members(&t, &page(start, 3)).await.unwrap();
            assert_eq!(p.total, 7, "startIndex={start}");
            seen.extend(p.items.iter().map(crate::fixtures::user_name));
        }
        let expected: Vec<String> = (0..7).map(|i| format!("user{i}")).collect();
        assert_eq!(seen, expected);

        // Past the end: no items, the total still right.
        let past = store.list_members(&t, &page(20, 3)).await.unwrap();
        assert_eq!((past.total, past.items.len()), (7, 0));
        // startIndex below 1 reads as 1 (RFC 7644 §3.4.2.4).
        assert_eq!(listed(&store, &t, &page(0, 2)).await, ["user0", "user1"]);
        // Out-of-range numbers are harmless: everything, or nothing past the end.
        let huge = store.list_members(&t, &page(1, u64::MAX)).await.unwrap();
        assert_eq!((huge.total, huge.items.len()), (7, 7));
        let far = store.list_members(&t, &page(u64::MAX, 3)).await.unwrap();
        assert_eq!((far.total, far.items.len()), (7, 0));
        // A filtered page counts the filtered total.
        let filtered = store
            .list_members(
                &t,
                &ListQuery {
                    count: 1,
                    ..filter_query(r#"userName sw "user" and not (userName eq "user3")"#)
                },
            )
            .await
            .unwrap();
        assert_eq!((filtered.total, filtered.items.len()), (6, 1));
    })
    .await;
}

#[tokio::test]
async fn count_zero_gives_only_the_total() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        people(&store, &t).await;
        let only_total = store.list_members(&t, &page(1, 0)).await.unwrap();
        assert_eq!((only_total.total, only_total.items.len()), (4, 0));
        let filtered = store
            .list_members(
                &t,
                &ListQuery {
                    count: 0,
                    ..filter_query("name.familyName pr")
                },
            )
            .await
            .unwrap();
        assert_eq!((filtered.total, filtered.items.len()), (3, 0));
    })
    .await;
}

#[tokio::test]
async fn members_scim_no_longer_sees_are_left_out_of_lists_and_resolution() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let visible = add_member(
            &store,
            &t,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let (mut hidden, keys) = new_member(
            &t,
            scim_user("jsmith", "John", "Smith", "jsmith@example.com"),
        );
        hidden.scim_visible = false;
        store.insert_member(&hidden, &keys, None).await.unwrap();

        let all = store.list_members(&t, &all_query()).await.unwrap();
        assert_eq!((all.total, all.items), (1, vec![visible.clone()]));
        assert_eq!(
            matching(&store, &t, r#"userName eq "jsmith""#).await,
            Vec::<String>::new()
        );
        let count_only = store.list_members(&t, &page(1, 0)).await.unwrap();
        assert_eq!(count_only.total, 1);

        let resolved = store
            .resolve_members(
                &t,
                &[
                    hidden.id.to_string(),
                    "jsmith@example.com".to_owned(),
                    visible.id.to_string(),
                ],
            )
            .await
            .unwrap();
        assert_eq!(resolved, vec![(visible.id.to_string(), visible.id.clone())]);
        // The account itself is still there for the host application.
        assert_eq!(store.member(&t, &hidden.id).await.unwrap(), Some(hidden));
    })
    .await;
}

#[tokio::test]
async fn members_resolve_by_id_or_by_unique_identifier_in_the_order_given() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let b = add_member(
            &store,
            &t,
            scim_user("bjensen", "Barbara", "Jensen", "bjensen@example.com"),
        )
        .await;
        let j = add_member(
            &store,
            &t,
            scim_user("jsmith", "John", "Smith", "jsmith@example.com"),
        )
        .await;
        let given = vec![
            " JSmith@Example.com ".to_owned(),
            "nobody@example.com".to_owned(),
            b.id.to_string(),
        ];
        let resolved = store.resolve_members(&t, &given).await.unwrap();
        assert_eq!(
            resolved,
            vec![
                (given[0].clone(), j.id.clone()),
                (given[2].clone(), b.id.clone())
            ]
        );
    })
    .await;
}
