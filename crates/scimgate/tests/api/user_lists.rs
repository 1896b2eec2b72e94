//! `GET /Users` with filters, sorting and paging (RFC 7644 §3.4.2), with the shapes IdPs send
//! (INTEROP 8, 15, 16, 17).

use serde_json::{Value, json};

use crate::harness::*;

/// Five users: alice and carol at example.com (carol's work email is elsewhere), bob at
/// example.org with an externalId, Oscar and olivia for `sw O`.
async fn seed(scim: &Client) {
    let mut bob = user("bob", "Bob", "Jones", "bob@example.org");
    bob["externalId"] = json!("7f6c1b2e-entra-bob");
    let mut carol = user("carol", "Carol", "King", "carol@example.com");
    carol["emails"] = json!([
        {"value": "carol@example.com", "type": "home"},
        {"value": "carol@corp.test", "type": "work"}
    ]);
    carol["active"] = json!(false);
    for body in [
        user("alice", "Alice", "Smith", "alice@example.com"),
        bob,
        carol,
        user("Oscar", "Oscar", "Wilde", "oscar@example.net"),
        user("olivia", "Olivia", "Benson", "olivia@example.net"),
    ] {
        scim.create_user(&body).await;
    }
}

/// The userNames a filter selects, sorted.
async fn names(scim: &Client, filter: &str) -> Vec<String> {
    let res = scim.filter_users(filter).await.expect(200);
    let mut names = res.each("userName");
    assert_eq!(res.total(), names.len() as u64, "{filter}: {}", res.text);
    names.sort();
    names
}

#[tokio::test]
async fn filters_with_eq_co_sw_and_or_and_not_select_the_right_users() {
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        let s = &app.scim;
        assert_eq!(names(s, r#"userName eq "alice""#).await, ["alice"]);
        // INTEROP 15: userName is caseExact false, in filters too.
        assert_eq!(names(s, r#"userName eq "ALICE""#).await, ["alice"]);
        assert_eq!(
            names(s, r#"emails.value co "example.net""#).await,
            ["Oscar", "olivia"]
        );
        assert_eq!(names(s, r#"name.familyName sw "J""#).await, ["bob"]);
        assert_eq!(
            names(s, r#"name.givenName eq "Alice" and active eq true"#).await,
            ["alice"]
        );
        assert_eq!(
            names(s, r#"userName eq "alice" or userName eq "bob""#).await,
            ["alice", "bob"]
        );
        assert_eq!(
            names(s, r#"not (emails.value co "example.") "#).await,
            Vec::<String>::new()
        );
        assert_eq!(
            names(s, r#"not (userName eq "alice") and active eq true"#).await,
            ["Oscar", "bob", "olivia"]
        );
        assert_eq!(names(s, "active eq false").await, ["carol"]);
        assert_eq!(
            names(
                s,
                r#"name.familyName pr and (userName sw "a" or userName sw "c")"#
            )
            .await,
            ["alice", "carol"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_complex_filter_requires_one_email_to_match_every_condition() {
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        // carol has a work email and an @example.com email, but not one that is both.
        let filter = r#"emails[type eq "work" and value co "@example.com"]"#;
        assert_eq!(names(&app.scim, filter).await, ["alice"]);
    })
    .await;
}

#[tokio::test]
async fn entra_finds_a_user_by_external_id() {
    // INTEROP 8.
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        assert_eq!(
            names(&app.scim, r#"externalId eq "7f6c1b2e-entra-bob""#).await,
            ["bob"]
        );
        assert_eq!(
            names(&app.scim, r#"externalId eq "unknown-external-id""#).await,
            Vec::<String>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn an_unquoted_value_in_a_filter_is_read_as_a_string() {
    // INTEROP 8: Microsoft's collection sends `userName sw O`.
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        assert_eq!(names(&app.scim, "userName sw O").await, ["Oscar", "olivia"]);
    })
    .await;
}

#[tokio::test]
async fn a_filter_matching_nothing_is_200_with_zero_results() {
    // INTEROP 16, SEMANTICS 4.
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        let res = app
            .scim
            .filter_users(r#"userName eq "nobody""#)
            .await
            .expect(200);
        assert_eq!(res.body["schemas"], json!([LIST_URN]));
        assert_eq!(res.total(), 0);
        assert_eq!(res.body["Resources"], json!([]));
        assert_eq!(res.body["itemsPerPage"], 0);
    })
    .await;
}

#[tokio::test]
async fn a_filter_that_is_not_a_filter_is_400_invalid_filter() {
    // INTEROP 16.
    for_each_backend(|app| async move {
        for bad in [
            "<not a filter>",
            r#"userName eq"#,
            r#"userName zz "x""#,
            r#"(userName eq "a""#,
        ] {
            app.scim
                .filter_users(bad)
                .await
                .expect_error(400, Some("invalidFilter"));
        }
        // SEMANTICS "Errors": an attribute the schema does not know is invalidFilter too.
        app.scim
            .filter_users(r#"noSuchAttribute eq "x""#)
            .await
            .expect_error(400, Some("invalidFilter"));
    })
    .await;
}

#[tokio::test]
async fn sort_by_and_sort_order_order_the_page() {
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        let asc = app.scim.get("/Users?sortBy=userName").await.expect(200);
        assert_eq!(
            asc.each("userName"),
            ["alice", "bob", "carol", "olivia", "Oscar"],
            "case-insensitive order"
        );
        let desc = app
            .scim
            .get("/Users?sortBy=userName&sortOrder=descending")
            .await
            .expect(200);
        assert_eq!(
            desc.each("userName"),
            ["Oscar", "olivia", "carol", "bob", "alice"]
        );
        let by_family = app
            .scim
            .get("/Users?sortBy=name.familyName&sortOrder=ascending")
            .await
            .expect(200);
        assert_eq!(
            by_family.each("userName"),
            ["olivia", "bob", "carol", "alice", "Oscar"]
        );
        app.scim
            .get("/Users?sortBy=userName&sortOrder=sideways")
            .await
            .expect_error(400, Some("invalidValue"));
    })
    .await;
}

#[tokio::test]
async fn start_index_and_count_page_through_the_users() {
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        let page = app
            .scim
            .get("/Users?sortBy=userName&startIndex=2&count=2")
            .await
            .expect(200);
        assert_eq!(page.total(), 5);
        assert_eq!(page.body["startIndex"], 2);
        assert_eq!(page.body["itemsPerPage"], 2);
        assert_eq!(page.each("userName"), ["bob", "carol"]);
        let last = app
            .scim
            .get("/Users?sortBy=userName&startIndex=5&count=2")
            .await
            .expect(200);
        assert_eq!(last.each("userName"), ["Oscar"]);
        let beyond = app.scim.get("/Users?startIndex=9").await.expect(200);
        assert_eq!((beyond.total(), beyond.resources().len()), (5, 0));
        // RFC 7644 §3.4.2.4: count=0 answers the total only; startIndex below 1 reads as 1.
        let count_only = app.scim.get("/Users?count=0").await.expect(200);
        assert_eq!((count_only.total(), count_only.resources().len()), (5, 0));
        let low = app
            .scim
            .get("/Users?startIndex=0&count=1&sortBy=userName")
            .await
            .expect(200);
        assert_eq!(
            (low.body["startIndex"].clone(), low.each("userName")),
            (json!(1), vec!["alice".to_owned()])
        );
        app.scim
            .get("/Users?count=many")
            .await
            .expect_error(400, Some("invalidValue"));
    })
    .await;
}

#[tokio::test]
async fn a_count_above_max_results_is_served_as_max_results() {
    // The server clamps `count` to `filter.maxResults` (RFC 7644 §3.4.2.4) instead of
    // answering tooMany; nothing in the server produces tooMany.
    for_each_backend_with(
        |s| s.scim.max_page_size = 2,
        |app| async move {
            seed(&app.scim).await;
            let res = app.scim.get("/Users?count=100").await.expect(200);
            assert_eq!((res.total(), res.resources().len()), (5, 2));
        },
    )
    .await;
}

#[tokio::test]
async fn the_first_listed_user_carries_what_okta_checks() {
    // INTEROP 17: Okta reads the first user and expects names, active and emails.
    for_each_backend(|app| async move {
        seed(&app.scim).await;
        let res = app
            .scim
            .get("/Users?startIndex=1&count=1")
            .await
            .expect(200);
        let first: &Value = &res.resources()[0];
        for field in [
            "/name/givenName",
            "/name/familyName",
            "/active",
            "/emails/0/value",
            "/id",
            "/meta/location",
        ] {
            assert!(first.pointer(field).is_some(), "{field} missing in {first}");
        }
    })
    .await;
}
