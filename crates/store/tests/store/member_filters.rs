//! SCIM filters on Users (RFC 7644 §3.4.2.2) running in the database: caseExact rules,
//! operators, logic, value filters, sub-attributes and the enterprise extension.

use scimgate_domain::ids::TenantId;
use scimgate_domain::ports::{MemberStore, StoreError};
use scimgate_store::DbStore;
use serde_json::json;

use crate::backends::for_each_backend;
use crate::fixtures::{ENTERPRISE_URN, USER_URN, add_member, add_tenant, filter_query, matching};

/// Four members: bjensen (two emails, enterprise data, a title), jsmith (inactive, a work
/// email at contoso.com and a home email at example.com), MLee, and prince (no family name).
async fn directory(store: &DbStore, tenant: &TenantId) {
    add_member(
        store,
        tenant,
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "userName": "bjensen",
            "externalId": "EXT-7",
            "name": {"formatted": "Ms. Barbara J Jensen III", "givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs Jensen",
            "title": "Tour Guide",
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "active": true,
            ENTERPRISE_URN: {"department": "Engineering", "manager": {"value": "mgr-100", "displayName": "John Smith"}}
        }),
    )
    .await;
    add_member(
        store,
        tenant,
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "userName": "jsmith",
            "externalId": "ext-7",
            "name": {"givenName": "John", "familyName": "Smith"},
            "emails": [
                {"value": "john.smith@contoso.com", "type": "work"},
                {"value": "JSmith@Example.com", "type": "home"}
            ],
            "active": false,
            ENTERPRISE_URN: {"department": "Sales"}
        }),
    )
    .await;
    add_member(
        store,
        tenant,
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "userName": "MLee",
            "name": {"givenName": "Mei", "familyName": "Lee"},
            "emails": [{"value": "mlee@example.com", "type": "work", "primary": true}],
            "active": true,
            ENTERPRISE_URN: {"department": "engineering", "manager": {"value": "mgr-200"}}
        }),
    )
    .await;
    add_member(
        store,
        tenant,
        json!({
            "schemas": [USER_URN],
            "userName": "prince",
            "name": {"givenName": "Prince"},
            "emails": [{"value": "prince@paisley.example", "type": "other"}],
            "active": true
        }),
    )
    .await;
}

#[tokio::test]
async fn a_filter_on_user_name_ignores_case() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        assert_eq!(
            matching(&store, &t, r#"userName eq "BJENSEN""#).await,
            ["bjensen"]
        );
        assert_eq!(
            matching(&store, &t, r#"userName eq "mlee""#).await,
            ["MLee"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "MLEE""#
            )
            .await,
            ["MLee"]
        );
    })
    .await;
}

#[tokio::test]
async fn external_id_is_case_exact() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        assert_eq!(
            matching(&store, &t, r#"externalId eq "EXT-7""#).await,
            ["bjensen"]
        );
        assert_eq!(
            matching(&store, &t, r#"externalId eq "ext-7""#).await,
            ["jsmith"]
        );
        assert_eq!(
            matching(&store, &t, r#"externalId eq "Ext-7""#).await,
            Vec::<String>::new()
        );
        assert_eq!(
            matching(&store, &t, r#"externalId sw "EXT""#).await,
            ["bjensen"]
        );
    })
    .await;
}

#[tokio::test]
async fn ne_excludes_only_the_equal_values_and_keeps_members_without_the_attribute() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        assert_eq!(
            matching(&store, &t, r#"userName ne "BJensen""#).await,
            ["MLee", "jsmith", "prince"]
        );
        assert_eq!(
            matching(&store, &t, r#"name.familyName ne "jensen""#).await,
            ["MLee", "jsmith", "prince"]
        );
        assert_eq!(
            matching(&store, &t, r#"externalId ne "EXT-7""#).await,
            ["MLee", "jsmith", "prince"]
        );
    })
    .await;
}

#[tokio::test]
async fn pr_matches_members_that_have_a_value() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        assert_eq!(matching(&store, &t, "title pr").await, ["bjensen"]);
        assert_eq!(
            matching(&store, &t, "externalId pr").await,
            ["bjensen", "jsmith"]
        );
        assert_eq!(
            matching(&store, &t, "name.familyName pr").await,
            ["MLee", "bjensen", "jsmith"]
        );
        assert_eq!(
            matching(&store, &t, "emails pr").await,
            ["MLee", "bjensen", "jsmith", "prince"]
        );
        assert_eq!(
            matching(&store, &t, &format!("{ENTERPRISE_URN}:manager pr")).await,
            ["MLee", "bjensen"]
        );
        assert_eq!(matching(&store, &t, "displayName pr").await, ["bjensen"]);
    })
    .await;
}

#[tokio::test]
async fn and_binds_tighter_than_or_and_parentheses_regroup() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        // jsmith or (Lee and active)
        assert_eq!(
            matching(
                &store,
                &t,
                r#"userName eq "jsmith" or name.familyName eq "Lee" and active eq true"#
            )
            .await,
            ["MLee", "jsmith"]
        );
        // (jsmith or Lee) and active
        assert_eq!(
            matching(
                &store,
                &t,
                r#"(userName eq "jsmith" or name.familyName eq "Lee") and active eq true"#
            )
            .await,
            ["MLee"]
        );
        assert_eq!(
            matching(&store, &t, r#"not (active eq false) and not (title pr)"#).await,
            ["MLee", "prince"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"not (userName eq "bjensen" or userName eq "prince")"#
            )
            .await,
            ["MLee", "jsmith"]
        );
    })
    .await;
}

#[tokio::test]
async fn one_email_must_satisfy_the_whole_value_filter() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        // jsmith has a work email (at contoso.com) and an example.com email (at home): no
        // single email is both, so jsmith does not match.
        assert_eq!(
            matching(
                &store,
                &t,
                r#"emails[type eq "work" and value co "@example.com"]"#
            )
            .await,
            ["MLee", "bjensen"]
        );
        assert_eq!(
            matching(&store, &t, r#"emails[type eq "home"]"#).await,
            ["bjensen", "jsmith"]
        );
        assert_eq!(
            matching(&store, &t, r#"emails[not (type eq "work")]"#).await,
            ["bjensen", "jsmith", "prince"]
        );
        // Two value filters may be satisfied by different elements.
        assert_eq!(
            matching(
                &store,
                &t,
                r#"emails[type eq "work"] and emails[value ew "@jensen.org"]"#
            )
            .await,
            ["bjensen"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"emails[type eq "work" and value co "@example.com"] or userName eq "prince""#
            )
            .await,
            ["MLee", "bjensen", "prince"]
        );
    })
    .await;
}

#[tokio::test]
async fn sub_attributes_of_emails_and_name_are_filtered_ignoring_case() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        assert_eq!(
            matching(&store, &t, r#"emails.value eq "jsmith@EXAMPLE.com""#).await,
            ["jsmith"]
        );
        assert_eq!(
            matching(&store, &t, r#"emails.value co "@example.com""#).await,
            ["MLee", "bjensen", "jsmith"]
        );
        assert_eq!(
            matching(&store, &t, r#"emails co "contoso""#).await,
            ["jsmith"]
        );
        assert_eq!(
            matching(&store, &t, r#"emails.type eq "other""#).await,
            ["prince"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"emails[primary eq true and value ew "@example.com"]"#
            )
            .await,
            ["MLee", "bjensen"]
        );
        assert_eq!(
            matching(&store, &t, r#"name.familyName eq "JENSEN""#).await,
            ["bjensen"]
        );
        assert_eq!(
            matching(&store, &t, r#"name.givenName sw "m""#).await,
            ["MLee"]
        );
        assert_eq!(
            matching(&store, &t, r#"name.formatted co "j jensen""#).await,
            ["bjensen"]
        );
    })
    .await;
}

#[tokio::test]
async fn enterprise_extension_attributes_are_filtered_by_their_urn_path() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        assert_eq!(
            matching(
                &store,
                &t,
                &format!(r#"{ENTERPRISE_URN}:department eq "Engineering""#)
            )
            .await,
            ["MLee", "bjensen"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                &format!(r#"{ENTERPRISE_URN}:manager.value eq "mgr-100""#)
            )
            .await,
            ["bjensen"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:DEPARTMENT eq "sales""#
            )
            .await,
            ["jsmith"]
        );
        assert_eq!(
            matching(
                &store,
                &t,
                &format!(r#"not ({ENTERPRISE_URN}:department pr)"#)
            )
            .await,
            ["prince"]
        );
    })
    .await;
}

#[tokio::test]
async fn active_eq_false_finds_the_deactivated_members() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        assert_eq!(matching(&store, &t, "active eq false").await, ["jsmith"]);
        assert_eq!(
            matching(&store, &t, "active eq true").await,
            ["MLee", "bjensen", "prince"]
        );
        // Entra ID sends booleans as strings.
        assert_eq!(
            matching(&store, &t, r#"active eq "False""#).await,
            ["jsmith"]
        );
        assert_eq!(matching(&store, &t, "active ne true").await, ["jsmith"]);
    })
    .await;
}

#[tokio::test]
async fn an_unknown_attribute_or_a_bad_comparison_is_an_invalid_query() {
    for_each_backend(|store| async move {
        let t = add_tenant(&store, "acme").await;
        directory(&store, &t).await;
        for filter in [
            r#"shoeSize eq "44""#,
            r#"name.nickName eq "Babs""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize eq "44""#,
            r#"userName eq "bjensen" and favouriteColour pr"#,
            r#"emails[shoeSize eq "44"]"#,
            r#"userName[value eq "bjensen"]"#,
            r#"meta.created gt "yesterday""#,
            r#"active co "tru""#,
            r#"meta.created co "2024""#,
            r#"name eq "Jensen""#,
        ] {
            let err = store
                .list_members(&t, &filter_query(filter))
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
