//! Tests of PATCH path parsing (RFC 7644 §3.5.2) and of the bare-URN helpers.

use super::parse_tests::{and, eq_str, path};
use super::*;
use crate::error::ScimType;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn patch(input: &str) -> PatchPath {
    match parse_patch_path(input) {
        Ok(p) => p,
        Err(e) => panic!("{input:?} did not parse: {e}"),
    }
}

fn plain(attr: AttrPath) -> PatchPath {
    PatchPath {
        attr,
        filter: None,
        sub_after_filter: None,
    }
}

fn urn_path(urn: &str, attr: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        urn: Some(urn.to_owned()),
        attr: attr.to_owned(),
        sub: sub.map(str::to_owned),
    }
}

#[test]
fn a_plain_attribute_path_parses() {
    assert_eq!(patch("members"), plain(path("members")));
    assert_eq!(patch("name.givenName"), plain(path("name.givenName")));
}

#[test]
fn a_value_filter_path_keeps_the_filter_and_no_sub_attribute() {
    assert_eq!(
        patch(r#"emails[type eq "work"]"#),
        PatchPath {
            attr: path("emails"),
            filter: Some(eq_str("type", "work")),
            sub_after_filter: None
        }
    );
    assert_eq!(
        patch(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#),
        PatchPath {
            attr: path("members"),
            filter: Some(eq_str("value", "2819c223-7f76-453a-919d-413861904646")),
            sub_after_filter: None,
        }
    );
}

#[test]
fn a_sub_attribute_after_a_value_filter_goes_to_sub_after_filter() {
    assert_eq!(
        patch(r#"emails[type eq "work"].value"#),
        PatchPath {
            attr: path("emails"),
            filter: Some(eq_str("type", "work")),
            sub_after_filter: Some("value".to_owned())
        }
    );
    let p = patch(r#"addresses[type eq "work" and primary eq true].formatted"#);
    assert_eq!(p.attr, path("addresses"));
    assert_eq!(p.sub_after_filter.as_deref(), Some("formatted"));
    assert!(matches!(p.filter, Some(Filter::And(..))));
}

#[test]
fn urn_prefixed_paths_split_at_the_last_colon() {
    assert_eq!(
        patch(&format!("{ENTERPRISE}:manager")),
        plain(urn_path(ENTERPRISE, "manager", None))
    );
    assert_eq!(
        patch(&format!("{ENTERPRISE}:manager.value")),
        plain(urn_path(ENTERPRISE, "manager", Some("value")))
    );
    let core = "urn:ietf:params:scim:schemas:core:2.0:User";
    assert_eq!(
        patch(&format!("{core}:name.familyName")),
        plain(urn_path(core, "name", Some("familyName")))
    );
    assert_eq!(
        patch(&format!("{core}:emails[type eq work]")).attr,
        urn_path(core, "emails", None)
    );
}

#[test]
fn a_bare_extension_urn_is_an_attr_holding_the_whole_urn() {
    let p = patch(ENTERPRISE);
    assert_eq!(p, plain(AttrPath::new(ENTERPRISE)));
    assert!(p.attr.is_schema_urn());
    assert!(p.attr.names_schema(&ENTERPRISE.to_uppercase()));
    assert!(!patch("members").attr.is_schema_urn());
}

#[test]
fn a_urn_without_a_version_can_still_be_recognised_as_a_schema() {
    let p = patch("urn:acme:scim:Badge");
    assert_eq!(p.attr, urn_path("urn:acme:scim", "Badge", None));
    assert!(p.attr.names_schema("urn:acme:scim:badge"));
    assert!(!p.attr.names_schema("urn:acme:scim:Badge2"));
    assert!(
        !patch(&format!("{ENTERPRISE}:manager.value"))
            .attr
            .names_schema(ENTERPRISE)
    );
}

#[test]
fn surrounding_whitespace_is_ignored() {
    assert_eq!(patch("  members \t"), plain(path("members")));
}

#[test]
fn a_value_filter_path_accepts_logic_and_bare_words() {
    let p = patch("emails[type eq work and value co example.com]");
    let inner = and(
        eq_str("type", "work"),
        Filter::Compare {
            path: path("value"),
            op: CompareOp::Co,
            value: CompValue::Str("example.com".to_owned()),
        },
    );
    assert_eq!(p.filter, Some(inner));
}

fn error(input: &str) -> String {
    match parse_patch_path(input) {
        Ok(p) => panic!("{input:?} parsed as {p:?}"),
        Err(e) => {
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some(ScimType::InvalidPath)),
                "{}",
                e.detail
            );
            e.detail
        }
    }
}

fn assert_error(input: &str, expected: &str) {
    let detail = error(input);
    assert!(
        detail.contains(expected),
        "{input:?}: {detail:?} does not contain {expected:?}"
    );
}

#[test]
fn malformed_paths_are_refused_as_invalid_path() {
    assert_error("", "the path is empty");
    assert_error("   ", "the path is empty");
    assert_error(
        "members value",
        "expected '[' or the end of the path at character 9, found 'value'",
    );
    assert_error(
        r#"emails[type eq "work"]x"#,
        "expected '.' and a sub-attribute name, or the end of the path at character 23",
    );
    assert_error(r#"emails[type eq "work"].1x"#, "expected an attribute name");
    assert_error(r#"emails[type eq "work"]."#, "expected an attribute name");
    assert_error(
        r#"name.givenName[type eq "work"]"#,
        "without a sub-attribute",
    );
    assert_error("emails[type eq]", "expected a value");
    assert_error(r#"emails[type eq "work""#, "expected 'and', 'or' or ']'");
    assert_error(
        r#"emails[type[value eq "x"]]"#,
        "value filters cannot be nested",
    );
    assert_error("name.givenName.x", "expected an attribute name");
    assert_error(
        "emails[type gt true]",
        "cannot compare with true, false or null",
    );
    assert_error(
        &"a".repeat(MAX_INPUT_BYTES + 1),
        "at most 8192 are accepted",
    );
}

#[test]
fn patch_paths_print_back_to_themselves() {
    for input in [
        "members",
        "name.givenName",
        r#"emails[type eq "work"]"#,
        r#"emails[type eq "work"].value"#,
        r#"addresses[type eq "work"].formatted"#,
        r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ] {
        let printed = patch(input).to_string();
        assert_eq!(printed, input);
        assert_eq!(patch(&printed), patch(input));
    }
}
