//! Filter literals: `%`, `_` and `\` are plain characters in `co`/`sw`/`ew` (never LIKE
//! wildcards), and RFC 3339 date-times compare as instants on `meta.created` and
//! `meta.lastModified`.

use scimgate_domain::ids::TenantId;
use scimgate_domain::ports::MemberStore;
use scimgate_domain::time::Timestamp;
use scimgate_store::DbStore;
use serde_json::json;

use crate::backends::for_each_backend;
use crate::fixtures::{USER_URN, add_tenant, matching, new_member, scim_user};

#[tokio::test]
async fn like_metacharacters_in_user_name_filters_are_literal() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        for (user_name, email) in [
            ("a_b", "ab1@example.com"),
            ("axb", "ab2@example.com"),
            ("100%off", "off1@example.com"),
            ("100xoff", "off2@example.com"),
            (r"CORP\jdoe", "jdoe1@example.com"),
            ("CORPxjdoe", "jdoe2@example.com"),
        ] {
            crate::fixtures::add_member(&store, &t, scim_user(user_name, "A", "B", email)).await;
        }
        assert_eq!(matching(&store, &t, r#"userName co "_""#).await, ["a_b"]);
        assert_eq!(
            matching(&store, &t, r#"userName co "%""#).await,
            ["100%off"]
        );
        assert_eq!(
            matching(&store, &t, r#"userName sw "100%""#).await,
            ["100%off"]
        );
        assert_eq!(matching(&store, &t, r#"userName ew "_b""#).await, ["a_b"]);
        assert_eq!(matching(&store, &t, r#"userName sw "A_""#).await, ["a_b"]);
        assert_eq!(
            matching(&store, &t, r#"userName co "p\\j""#).await,
            [r"CORP\jdoe"]
        );
        assert_eq!(
            matching(&store, &t, r#"userName ew "\\JDOE""#).await,
            [r"CORP\jdoe"]
        );
    })
    .await;
}

#[tokio::test]
async fn like_metacharacters_in_indexed_and_case_exact_attributes_are_literal() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        for (user_name, email, external_id) in [
            ("u1", "under_score@example.com", "SKU-50%-A"),
            ("u2", "underXscore@example.com", "SKU-500-A"),
            ("u3", "pct%sign@example.com", "sku-50%-a"),
        ] {
            let mut resource = scim_user(user_name, "A", "B", email);
            resource["externalId"] = json!(external_id);
            crate::fixtures::add_member(&store, &t, resource).await;
        }
        assert_eq!(
            matching(&store, &t, r#"emails.value sw "UNDER_""#).await,
            ["u1"]
        );
        assert_eq!(
            matching(&store, &t, r#"emails[value co "r_s"]"#).await,
            ["u1"]
        );
        assert_eq!(matching(&store, &t, r#"emails co "%""#).await, ["u3"]);
        // externalId is caseExact: LIKE must be case-sensitive on both backends.
        assert_eq!(
            matching(&store, &t, r#"externalId co "50%""#).await,
            ["u1", "u3"]
        );
        assert_eq!(
            matching(&store, &t, r#"externalId co "SKU-50%""#).await,
            ["u1"]
        );
        assert_eq!(matching(&store, &t, r#"externalId ew "%-a""#).await, ["u3"]);
    })
    .await;
}

const T2023: &str = "2023-05-01T12:00:00.000Z";
const T2024: &str = "2024-01-15T08:30:00.250Z";
const T2025: &str = "2025-03-01T00:00:00.000Z";

fn at(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).expect("an RFC 3339 date-time")
}

/// Three members created in 2023, 2024 and 2025, each modified some months later.
async fn dated_members(store: &DbStore, t: &TenantId) {
    for (user_name, created, modified) in [
        ("m2023", T2023, "2024-02-01T00:00:00.000Z"),
        ("m2024", T2024, "2024-06-01T00:00:00.000Z"),
        ("m2025", T2025, "2025-03-02T00:00:00.000Z"),
    ] {
        let (mut member, keys) =
            new_member(t, json!({"schemas": [USER_URN], "userName": user_name}));
        member.created = at(created);
        member.last_modified = at(modified);
        store.insert_member(&member, &keys, None).await.unwrap();
    }
}

#[tokio::test]
async fn meta_created_compares_as_an_instant_with_any_offset() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        dated_members(&store, &t).await;
        assert_eq!(
            matching(&store, &t, r#"meta.created gt "2024-01-01T00:00:00Z""#).await,
            ["m2024", "m2025"]
        );
        assert_eq!(
            matching(&store, &t, &format!(r#"meta.created ge "{T2024}""#)).await,
            ["m2024", "m2025"]
        );
        assert_eq!(
            matching(&store, &t, &format!(r#"meta.created gt "{T2024}""#)).await,
            ["m2025"]
        );
        // 10:30:00.25 at +02:00 is 08:30:00.250Z.
        assert_eq!(
            matching(
                &store,
                &t,
                r#"meta.created lt "2024-01-15T10:30:00.25+02:00""#
            )
            .await,
            ["m2023"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"meta.created le "2024-01-15T10:30:00.25+02:00""#
            )
            .await,
            ["m2023", "m2024"]
        );
        assert_eq!(
            matching(&store, &t, r#"meta.created eq "2024-01-15T08:30:00.25Z""#).await,
            ["m2024"]
        );
    })
    .await;
}

#[tokio::test]
async fn meta_last_modified_supports_ranges() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        dated_members(&store, &t).await;
        assert_eq!(
            matching(
                &store,
                &t,
                r#"meta.lastModified ge "2024-06-01T00:00:00Z" and meta.lastModified lt "2025-01-01T00:00:00Z""#
            )
            .await,
            ["m2024"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"meta.lastModified gt "2024-06-01T02:00:00+02:00""#
            )
            .await,
            ["m2025"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"meta.lastModified le "2024-02-01T00:00:00.000Z""#
            )
            .await,
            ["m2023"]
        );
        assert_eq!(
            matching(&store, &t, r#"meta.lastModified gt "2025-12-31T23:59:59Z""#).await,
            Vec::<String>::new()
        );
    })
    .await;
}
