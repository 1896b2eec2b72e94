//! Tests of the in-memory evaluator against a small schema table (RFC 7644 §3.4.2.2).

use serde_json::{Value, json};

use super::parse_tests::parse;
use super::*;
use crate::schema::AttrType;

/// `(path, type, caseExact)`, paths lowercase and relative to the resource.
const TABLE: &[(&str, AttrType, bool)] = &[
    ("username", AttrType::String, false),
    ("externalid", AttrType::String, true),
    ("active", AttrType::Boolean, false),
    ("emails", AttrType::Complex, false),
    ("emails.value", AttrType::String, false),
    ("emails.type", AttrType::String, false),
    ("emails.primary", AttrType::Boolean, false),
    ("meta.created", AttrType::DateTime, false),
    ("age", AttrType::Integer, false),
    ("score", AttrType::Decimal, false),
    ("photo", AttrType::Binary, true),
    ("employeenumber", AttrType::String, false),
    ("manager.value", AttrType::String, true),
];

/// A test-only schema: looks `prefix.attr[.sub]` up in [`TABLE`], ignoring URNs.
struct TableLookup {
    prefix: Option<String>,
}

impl AttrLookup for TableLookup {
    fn semantics(&self, path: &AttrPath) -> Option<(AttrType, bool)> {
        let mut key: Vec<&str> = self.prefix.iter().map(String::as_str).collect();
        key.push(&path.attr);
        key.extend(path.sub.as_deref());
        let key = key.join(".").to_lowercase();
        TABLE
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|&(_, ty, exact)| (ty, exact))
    }

    fn scope(&self, path: &AttrPath) -> Box<dyn AttrLookup + '_> {
        Box::new(TableLookup {
            prefix: Some(path.attr.to_lowercase()),
        })
    }
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "BJensen",
        "externalId": "AbC",
        "active": true,
        "title": "",
        "nickName": null,
        "age": 42,
        "score": 3.5,
        "photo": "aGVsbG8=",
        "name": { "familyName": "Jensen", "givenName": "Barbara" },
        "emails": [
            { "value": "bjensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
        ],
        "meta": { "created": "2011-08-01T18:29:49.793Z" },
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "manager": { "value": "26118915-6090-4610-87e4-49d8ca9f808D" }
        }
    })
}

fn check(filter: &str) -> bool {
    matches(&parse(filter), &user(), &TableLookup { prefix: None })
}

fn assert_all(expected: bool, filters: &[&str]) {
    for filter in filters {
        assert_eq!(check(filter), expected, "{filter}");
    }
}

#[test]
fn a_filter_on_username_ignores_case() {
    assert_all(
        true,
        &[r#"userName eq "bjensen""#, r#"userName eq "BJENSEN""#],
    );
}

#[test]
fn attribute_names_match_json_keys_ignoring_case() {
    assert_all(
        true,
        &[
            r#"USERNAME eq "bjensen""#,
            "Name.FamilyName eq jensen",
            "EMAILS.VALUE co EXAMPLE",
        ],
    );
}

#[test]
fn a_case_exact_attribute_compares_exactly() {
    assert_all(true, &[r#"externalId eq "AbC""#, r#"externalId ne "abc""#]);
    assert_all(false, &[r#"externalId eq "abc""#, r#"externalId sw "a""#]);
}

#[test]
fn every_string_operator_compares_as_the_rfc_describes() {
    assert_all(
        true,
        &[
            "userName co ens",
            "userName sw bj",
            "userName ew SEN",
            "userName ne x",
            "userName gt bi",
            "userName ge bjensen",
            "userName lt bk",
            "userName le BJENSEN",
        ],
    );
    assert_all(
        false,
        &[
            "userName co x",
            "userName sw jensen",
            "userName ew bj",
            "userName ne bjensen",
            "userName gt bk",
            "userName lt bjensen",
        ],
    );
}

#[test]
fn a_multi_valued_attribute_matches_when_any_value_matches() {
    assert_all(
        true,
        &[
            r#"emails.value co "jensen.org""#,
            r#"emails.type eq "work""#,
            r#"emails.type ne "work""#,
        ],
    );
    assert_all(false, &[r#"emails.type eq "other""#]);
}

#[test]
fn a_complex_attribute_without_a_sub_attribute_compares_its_value() {
    assert_all(true, &[r#"emails co "example.com""#, r#"emails ew ".ORG""#]);
    assert_all(false, &[r#"emails co "nowhere""#]);
}

#[test]
fn a_value_filter_needs_one_value_to_match_every_condition() {
    assert_all(
        true,
        &[
            r#"emails[type eq "work" and value co "@example.com"]"#,
            "emails[primary eq true]",
            "emails[not (primary pr)]",
        ],
    );
    assert_all(
        false,
        &[
            r#"emails[type eq "home" and value co "@example.com"]"#,
            "emails[type eq other]",
            "userName[value pr]",
        ],
    );
    // A single-valued complex attribute is its own one element.
    assert_all(true, &["name[givenName pr]"]);
    assert_all(false, &["name[givenName eq x]"]);
}

#[test]
fn present_needs_a_non_empty_value() {
    assert_all(
        true,
        &[
            "userName pr",
            "name pr",
            "emails pr",
            "emails.primary pr",
            "active pr",
            "age pr",
        ],
    );
    assert_all(
        false,
        &[
            "title pr",
            "nickName pr",
            "missing pr",
            "name.middleName pr",
        ],
    );
}

#[test]
fn an_absent_or_null_attribute_compares_as_null() {
    assert_all(
        true,
        &[
            "nickName eq null",
            "missing eq null",
            "userName ne null",
            r#"missing ne "x""#,
            "not (missing eq x)",
        ],
    );
    assert_all(
        false,
        &[
            r#"missing eq "x""#,
            "userName eq null",
            "missing co x",
            "missing gt 1",
        ],
    );
}

#[test]
fn date_times_compare_as_instants_across_offsets_and_precisions() {
    assert_all(
        true,
        &[
            r#"meta.created eq "2011-08-01T11:29:49.793-07:00""#,
            r#"meta.created eq "2011-08-01T18:29:49.7930000Z""#,
            r#"meta.created gt "2011-08-01T11:29:49-07:00""#,
            "meta.Created lt 2015-10-10T14:38:21.8617979-07:00",
            "meta.created ge 2011-08-01T18:29:49.793",
            "meta.created sw 2011-08",
        ],
    );
    assert_all(
        false,
        &[
            "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
            r#"meta.created eq "2011-08-01T18:29:49Z""#,
        ],
    );
}

#[test]
fn numbers_compare_numerically() {
    assert_all(
        true,
        &[
            "age eq 42",
            "age eq 42.0",
            "age gt 41",
            "age le 42",
            "score lt 4",
            "score gt 3.25",
            r#"age eq "42""#,
            "age ne 7",
        ],
    );
    assert_all(false, &["age gt 42", "age co 4", "score eq 3"]);
}

#[test]
fn booleans_support_only_eq_and_ne() {
    assert_all(
        true,
        &["active eq true", "active ne false", r#"active eq "TRUE""#],
    );
    assert_all(false, &["active eq false", "active co true"]);
}

#[test]
fn binary_attributes_refuse_ordering() {
    assert_all(true, &[r#"photo eq "aGVsbG8=""#]);
    assert_all(false, &[r#"photo gt "a""#, r#"photo le "zzz""#]);
}

#[test]
fn urn_paths_look_inside_the_extension_ignoring_case() {
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_all(
        true,
        &[
            &format!("{enterprise}:employeeNumber eq \"701984\""),
            &format!(
                "{}:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808D\"",
                enterprise.to_uppercase()
            ),
            &format!("{enterprise} pr"),
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#,
        ],
    );
    assert_all(
        false,
        &[
            &format!("{enterprise}:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\""),
            &format!("{enterprise}:userName pr"),
            "urn:example:other:1.0:Ext:employeeNumber pr",
        ],
    );
}

#[test]
fn unknown_attributes_compare_as_case_insensitive_strings() {
    assert_all(
        true,
        &[
            r#"schemas eq "URN:ietf:params:scim:schemas:core:2.0:User""#,
            "name.givenName sw BAR",
        ],
    );
}

#[test]
fn logic_combines_as_expected() {
    assert_all(
        true,
        &[
            "userName pr and active eq true",
            "missing pr or age eq 42",
            "not (missing pr)",
        ],
    );
    assert_all(
        false,
        &[
            "userName pr and missing pr",
            "missing pr or age eq 1",
            "not (userName pr)",
        ],
    );
}

#[test]
fn the_microsoft_filter_matches_on_sub_attributes_in_any_case() {
    let filter = "name.FamilyName eq Jensen and (emails.Value co example.com or emails.Value co example.org)";
    assert!(check(filter));
    assert!(!check(
        "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)"
    ));
}

#[test]
fn a_value_filter_matches_an_element_of_a_patch_target() {
    let members =
        json!({ "members": [{ "value": "2819c223", "display": "Babs" }, { "value": "902c246b" }] });
    let path = match parse_patch_path(r#"members[value eq "2819C223"]"#) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let (Some(filter), Some(items)) = (path.filter, members["members"].as_array()) else {
        panic!("no filter or members");
    };
    let lookup = TableLookup {
        prefix: Some("members".to_owned()),
    };
    let hits: Vec<bool> = items.iter().map(|m| matches(&filter, m, &lookup)).collect();
    assert_eq!(hits, [true, false]);
}

#[test]
fn a_non_object_resource_matches_only_null_checks() {
    let lookup = TableLookup { prefix: None };
    assert!(!matches(&parse("a pr"), &json!("text"), &lookup));
    assert!(matches(&parse("a eq null"), &json!(7), &lookup));
}

#[test]
fn the_deepest_chain_the_size_limit_allows_prints_and_evaluates() {
    // "a pr or " is the shortest way to add a level; and/or chains are not nesting-capped.
    let input = vec!["a pr"; MAX_INPUT_BYTES / 8].join(" or ");
    assert!(input.len() <= MAX_INPUT_BYTES);
    let filter = parse(&input);
    assert_eq!(parse(&filter.to_string()), filter);
    assert!(!matches(&filter, &user(), &TableLookup { prefix: None }));
}
