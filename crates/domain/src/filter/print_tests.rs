//! Tests of the canonical printer: lowercase operators, JSON strings, minimal parentheses,
//! and printing that parses back to the same AST.

use super::parse_tests::{and, or, parse, pr};

fn canonical(input: &str) -> String {
    let filter = parse(input);
    let printed = filter.to_string();
    assert_eq!(
        parse(&printed),
        filter,
        "{printed:?} parsed differently from {input:?}"
    );
    printed
}

#[test]
fn operators_and_keywords_print_in_lowercase() {
    assert_eq!(canonical(r#"userName EQ "x""#), r#"userName eq "x""#);
    assert_eq!(canonical("a PR AND NOT (b Pr)"), "a pr and not (b pr)");
    assert_eq!(
        canonical("a eq TRUE or b ne Null"),
        "a eq true or b ne null"
    );
}

#[test]
fn bare_words_print_as_quoted_strings() {
    assert_eq!(canonical("userName sw O"), r#"userName sw "O""#);
    assert_eq!(
        canonical("meta.Created gt 2015-10-10T14:38:21.8617979-07:00"),
        r#"meta.Created gt "2015-10-10T14:38:21.8617979-07:00""#
    );
}

#[test]
fn strings_print_as_json_with_escapes() {
    assert_eq!(
        canonical(r#"a eq "q\"b\\s\/n\nt\t\u0001é😀""#),
        "a eq \"q\\\"b\\\\s/n\\nt\\t\\u0001é😀\""
    );
    assert_eq!(
        canonical(r#"a eq "\b\f\r\u007f""#),
        r#"a eq "\b\f\r\u007f""#
    );
}

#[test]
fn numbers_print_in_json_form() {
    assert_eq!(canonical("a eq 42"), "a eq 42");
    assert_eq!(canonical("a eq -7"), "a eq -7");
    assert_eq!(canonical("a gt 1.5E3"), "a gt 1500.0");
    assert_eq!(canonical("a lt 1e-7"), "a lt 1e-7");
    assert_eq!(
        canonical("a lt 18446744073709551616"),
        "a lt 1.8446744073709552e+19"
    );
}

#[test]
fn parentheses_appear_only_where_precedence_needs_them() {
    assert_eq!(
        canonical("a eq 1 or b eq 2 and c eq 3"),
        "a eq 1 or b eq 2 and c eq 3"
    );
    assert_eq!(
        canonical("(a pr or b pr) and c pr"),
        "(a pr or b pr) and c pr"
    );
    assert_eq!(
        canonical("a pr and (b pr or c pr)"),
        "a pr and (b pr or c pr)"
    );
    assert_eq!(
        canonical("((a pr and b pr)) and c pr"),
        "a pr and b pr and c pr"
    );
    assert_eq!(
        canonical("a pr and (b pr and c pr)"),
        "a pr and (b pr and c pr)"
    );
    assert_eq!(
        canonical("a pr or (b pr or c pr)"),
        "a pr or (b pr or c pr)"
    );
    assert_eq!(canonical("(a pr)"), "a pr");
}

#[test]
fn right_nested_trees_print_with_the_parentheses_they_need() {
    let right_and = and(pr("a"), and(pr("b"), pr("c")));
    assert_eq!(right_and.to_string(), "a pr and (b pr and c pr)");
    assert_eq!(parse(&right_and.to_string()), right_and);
    let right_or = or(pr("a"), or(pr("b"), pr("c")));
    assert_eq!(parse(&right_or.to_string()), right_or);
}

#[test]
fn value_paths_and_urns_print_as_written() {
    for input in [
        r#"emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[not (type eq "work")] or ims[type eq "xmpp"]"#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr",
        r#"members.$ref eq "https://example.com/Users/1""#,
    ] {
        assert_eq!(canonical(input), input);
    }
}

#[test]
fn the_conformance_suite_filters_print_and_parse_back() {
    assert_eq!(canonical(r#"userName eq "x""#), r#"userName eq "x""#);
    assert_eq!(
        canonical(r#"DisplayName eq "BobIsAmazing""#),
        r#"DisplayName eq "BobIsAmazing""#
    );
    assert_eq!(
        canonical(r#"externalId eq "abc""#),
        r#"externalId eq "abc""#
    );
    assert_eq!(
        canonical(
            "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)"
        ),
        r#"name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")"#
    );
}
