//! SCIM filters and paging on Groups: displayName (caseExact false), externalId (caseExact),
//! and membership through `members[value eq ...]` and `members.value`.

use scimgate_domain::filter::AttrPath;
use scimgate_domain::ids::TenantId;
use scimgate_domain::member::Member;
use scimgate_domain::ports::{GroupStore, ListQuery, MemberStore, StoreError};
use scimgate_store::DbStore;

use crate::backends::for_each_backend;
use crate::fixtures::{
    add_member, add_tenant, filter_query, matching, matching_groups, new_group, scim_user,
    sorted_query,
};

/// Engineering (bjensen, jsmith; externalId "OKTA-1"), Sales (jsmith; "okta-1"), Empty.
async fn org(store: &DbStore, t: &TenantId) -> (Member, Member) {
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
    for (name, external_id, members) in [
        (
            "Engineering",
            Some("OKTA-1"),
            vec![b.id.clone(), j.id.clone()],
        ),
        ("Sales", Some("okta-1"), vec![j.id.clone()]),
        ("Empty", None, vec![]),
    ] {
        store
            .insert_group(&new_group(t, name, external_id), &members)
            .await
            .unwrap();
    }
    (b, j)
}

#[tokio::test]
async fn groups_filter_on_display_name_ignoring_case() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        org(&store, &t).await;
        assert_eq!(
            matching_groups(&store, &t, r#"displayName eq "ENGINEERING""#).await,
            ["Engineering"]
        );
        assert_eq!(
            matching_groups(&store, &t, r#"displayName co "e""#).await,
            ["Empty", "Engineering", "Sales"]
        );
        assert_eq!(
            matching_groups(&store, &t, r#"displayName sw "s""#).await,
            ["Sales"]
        );
        assert_eq!(
            matching_groups(&store, &t, r#"displayName ne "sales""#).await,
            ["Empty", "Engineering"]
        );
    })
    .await;
}

#[tokio::test]
async fn groups_filter_on_external_id_exactly() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        org(&store, &t).await;
        assert_eq!(
            matching_groups(&store, &t, r#"externalId eq "OKTA-1""#).await,
            ["Engineering"]
        );
        assert_eq!(
            matching_groups(&store, &t, r#"externalId eq "okta-1""#).await,
            ["Sales"]
        );
        assert_eq!(
            matching_groups(&store, &t, "externalId pr").await,
            ["Engineering", "Sales"]
        );
    })
    .await;
}

#[tokio::test]
async fn groups_filter_on_their_members() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        let (b, j) = org(&store, &t).await;
        assert_eq!(
            matching_groups(&store, &t, &format!(r#"members[value eq "{}"]"#, b.id)).await,
            ["Engineering"]
        );
        assert_eq!(
            matching_groups(&store, &t, &format!(r#"members.value eq "{}""#, j.id)).await,
            ["Engineering", "Sales"]
        );
        assert_eq!(
            matching_groups(
                &store,
                &t,
                &format!(r#"members[value eq "{}" or value eq "{}"]"#, b.id, j.id)
            )
            .await,
            ["Engineering", "Sales"]
        );
        assert_eq!(
            matching_groups(
                &store,
                &t,
                &format!(
                    r#"members.value eq "{}" and members.value eq "{}""#,
                    b.id, j.id
                )
            )
            .await,
            ["Engineering"]
        );
        assert_eq!(
            matching_groups(
                &store,
                &t,
                &format!(r#"displayName eq "sales" and members[value eq "{}"]"#, b.id)
            )
            .await,
            Vec::<String>::new()
        );
        assert_eq!(
            matching_groups(&store, &t, "members pr").await,
            ["Engineering", "Sales"]
        );
        assert_eq!(
            matching_groups(&store, &t, "not (members pr)").await,
            ["Empty"]
        );
    })
    .await;
}

#[tokio::test]
async fn an_unknown_group_attribute_is_an_invalid_query() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        org(&store, &t).await;
        for filter in [
            r#"userName eq "bjensen""#,
            r#"members[display eq "Barbara Jensen"]"#,
            r#"members.display eq "Barbara Jensen""#,
            r#"emails[type eq "work"]"#,
            r#"members.value co "0""#,
        ] {
            let err = store
                .list_groups(&t, &filter_query(filter))
                .await
                .expect_err(filter);
            assert!(
                matches!(err, StoreError::InvalidQuery(_)),
                "{filter}: {err:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn groups_page_by_display_name_with_a_total() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        org(&store, &t).await;
        let sorted = sorted_query(AttrPath::new("displayName"), true);
        let page = store
            .list_groups(
                &t,
                &ListQuery {
                    start_index: 2,
                    count: 1,
                    ..sorted.clone()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 3);
        let names: Vec<&str> = page.items.iter().map(|g| g.display_name.as_str()).collect();
        assert_eq!(names, ["Engineering"]);

        let only_total = store
            .list_groups(
                &t,
                &ListQuery {
                    count: 0,
                    ..filter_query("members pr")
                },
            )
            .await
            .unwrap();
        assert_eq!((only_total.total, only_total.items.len()), (2, 0));
    })
    .await;
}

#[tokio::test]
async fn users_filter_on_the_groups_they_belong_to() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        org(&store, &t).await;
        let sales = store
            .group_by_display_name(&t, "sales")
            .await
            .unwrap()
            .expect("Sales");
        // RFC 7643 §4.1.2: a User's `groups` are the groups it belongs to; a filter on them
        // must either answer from the memberships or be refused, never silently match nothing.
        for filter in [
            format!(r#"groups.value eq "{}""#, sales.id),
            format!(r#"groups[value eq "{}"]"#, sales.id),
        ] {
            match store.list_members(&t, &filter_query(&filter)).await {
                Err(StoreError::InvalidQuery(_)) => {}
                Err(e) => panic!("{filter}: {e:?}"),
                Ok(_) => assert_eq!(matching(&store, &t, &filter).await, ["jsmith"], "{filter}"),
            }
        }
    })
    .await;
}
