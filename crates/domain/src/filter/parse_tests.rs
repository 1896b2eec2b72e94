//! Tests of the filter parser's accepted inputs: the RFC 7644 §3.4.2.2 grammar, the leniency
//! real clients need, and the filters the conformance suites send.

use super::*;

pub(super) fn parse(input: &str) -> Filter {
    match parse_filter(input) {
        Ok(f) => f,
        Err(e) => panic!("{input:?} did not parse: {e}"),
    }
}

pub(super) fn path(s: &str) -> AttrPath {
    match s.split_once('.') {
        Some((attr, sub)) => AttrPath::with_sub(attr, sub),
        None => AttrPath::new(s),
    }
}

pub(super) fn cmp(attr: &str, op: CompareOp, value: CompValue) -> Filter {
    Filter::Compare {
        path: path(attr),
        op,
        value,
    }
}

pub(super) fn eq_str(attr: &str, value: &str) -> Filter {
    cmp(attr, CompareOp::Eq, str_(value))
}

pub(super) fn str_(s: &str) -> CompValue {
    CompValue::Str(s.to_owned())
}

pub(super) fn num(n: i64) -> CompValue {
    CompValue::Num(n.into())
}

pub(super) fn pr(attr: &str) -> Filter {
    Filter::Present(path(attr))
}

pub(super) fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

pub(super) fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

fn value_path(attr: &str, inner: Filter) -> Filter {
    Filter::ValuePath {
        path: path(attr),
        filter: Box::new(inner),
    }
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn a_username_filter_parses_to_a_comparison() {
    assert_eq!(parse(r#"userName eq "x""#), eq_str("userName", "x"));
}

#[test]
fn every_operator_parses_in_any_case() {
    for op in CompareOp::ALL {
        for word in [op.as_str().to_owned(), op.as_str().to_uppercase(), {
            let mut w = op.as_str().to_owned();
            w[..1].make_ascii_uppercase();
            w
        }] {
            assert_eq!(
                parse(&format!("a {word} 1")),
                cmp("a", op, num(1)),
                "{word}"
            );
        }
    }
}

#[test]
fn pr_parses_as_presence_in_any_case() {
    assert_eq!(parse("title pr"), pr("title"));
    assert_eq!(parse("title PR"), pr("title"));
}

#[test]
fn and_binds_tighter_than_or() {
    let (a, b, c) = (
        cmp("a", CompareOp::Eq, num(1)),
        cmp("b", CompareOp::Eq, num(2)),
        cmp("c", CompareOp::Eq, num(3)),
    );
    assert_eq!(
        parse("a eq 1 or b eq 2 and c eq 3"),
        or(a.clone(), and(b.clone(), c.clone()))
    );
    assert_eq!(parse("a eq 1 and b eq 2 or c eq 3"), or(and(a, b), c));
}

#[test]
fn and_and_or_associate_to_the_left() {
    assert_eq!(
        parse("a pr and b pr and c pr"),
        and(and(pr("a"), pr("b")), pr("c"))
    );
    assert_eq!(
        parse("a pr or b pr or c pr"),
        or(or(pr("a"), pr("b")), pr("c"))
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        parse("(a pr or b pr) and c pr"),
        and(or(pr("a"), pr("b")), pr("c"))
    );
    assert_eq!(
        parse("a pr and (b pr and c pr)"),
        and(pr("a"), and(pr("b"), pr("c")))
    );
    assert_eq!(parse("((a pr))"), pr("a"));
}

#[test]
fn not_negates_a_parenthesised_filter_and_binds_tightest() {
    assert_eq!(parse("not (a pr)"), not(pr("a")));
    assert_eq!(parse("NOT(a pr)"), not(pr("a")));
    assert_eq!(parse("not (a pr) and b pr"), and(not(pr("a")), pr("b")));
    assert_eq!(
        parse("b pr or not (a pr or c pr)"),
        or(pr("b"), not(or(pr("a"), pr("c"))))
    );
}

#[test]
fn logical_keywords_are_case_insensitive() {
    assert_eq!(
        parse("a pr AND b pr Or c pr"),
        or(and(pr("a"), pr("b")), pr("c"))
    );
}

#[test]
fn keywords_are_not_reserved_as_attribute_names() {
    assert_eq!(parse("not eq 1"), cmp("not", CompareOp::Eq, num(1)));
    assert_eq!(parse("and pr and or pr"), and(pr("and"), pr("or")));
    assert_eq!(parse("pr pr"), pr("pr"));
}

#[test]
fn whitespace_around_tokens_is_flexible() {
    assert_eq!(
        parse("  a eq \"x\"   and\t(b pr)  "),
        and(eq_str("a", "x"), pr("b"))
    );
    assert_eq!(parse("a eq \"x\"and(b pr)"), and(eq_str("a", "x"), pr("b")));
}

#[test]
fn a_sub_attribute_path_keeps_both_names() {
    assert_eq!(
        parse(r#"name.givenName eq "Barbara""#),
        eq_str("name.givenName", "Barbara")
    );
}

#[test]
fn a_urn_prefixed_path_splits_at_the_last_colon() {
    let f = parse(&format!("{ENTERPRISE}:employeeNumber eq \"701984\""));
    let path = AttrPath {
        urn: Some(ENTERPRISE.to_owned()),
        attr: "employeeNumber".to_owned(),
        sub: None,
    };
    assert_eq!(
        f,
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: str_("701984")
        }
    );

    let f = parse(&format!("{ENTERPRISE}:manager.value pr"));
    let path = AttrPath {
        urn: Some(ENTERPRISE.to_owned()),
        attr: "manager".to_owned(),
        sub: Some("value".to_owned()),
    };
    assert_eq!(f, Filter::Present(path));
}

#[test]
fn a_bare_extension_urn_names_the_whole_extension() {
    assert_eq!(
        parse(&format!("{ENTERPRISE} pr")),
        Filter::Present(AttrPath::new(ENTERPRISE))
    );
}

#[test]
fn a_value_filter_holds_paths_relative_to_its_attribute() {
    let f = parse(r#"emails[type eq "work" and value co "@example.com"]"#);
    let inner = and(
        eq_str("type", "work"),
        cmp("value", CompareOp::Co, str_("@example.com")),
    );
    assert_eq!(f, value_path("emails", inner));
}

#[test]
fn every_example_filter_of_rfc_7644_parses() {
    for input in [
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        "title pr",
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ] {
        parse(input);
    }
}

#[test]
fn the_filters_conformance_suites_send_parse() {
    assert_eq!(
        parse(r#"DisplayName eq "BobIsAmazing""#),
        eq_str("DisplayName", "BobIsAmazing")
    );
    assert_eq!(parse(r#"externalId eq "abc""#), eq_str("externalId", "abc"));
    assert_eq!(
        parse("userName sw O"),
        cmp("userName", CompareOp::Sw, str_("O"))
    );
    assert_eq!(
        parse("meta.Created gt 2015-10-10T14:38:21.8617979-07:00"),
        cmp(
            "meta.Created",
            CompareOp::Gt,
            str_("2015-10-10T14:38:21.8617979-07:00")
        )
    );
    assert_eq!(
        parse(
            "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)"
        ),
        and(
            eq_str("name.FamilyName", "Employee"),
            or(
                cmp("emails.Value", CompareOp::Co, str_("example.com")),
                cmp("emails.Value", CompareOp::Co, str_("example.org"))
            )
        )
    );
}

#[test]
fn a_bare_word_value_ends_at_whitespace_or_a_closing_bracket() {
    assert_eq!(parse("(a eq x)"), eq_str("a", "x"));
    assert_eq!(
        parse("emails[type eq work]"),
        value_path("emails", eq_str("type", "work"))
    );
    assert_eq!(parse("a eq O'Malley-2"), eq_str("a", "O'Malley-2"));
}

#[test]
fn json_string_escapes_are_decoded() {
    assert_eq!(
        parse(r#"a eq "q\"b\\s\/f\bf\fn\nr\rt\t""#),
        eq_str("a", "q\"b\\s/f\u{8}f\u{c}n\nr\rt\t")
    );
    assert_eq!(parse(r#"a eq "caf\u00e9 \u00E9""#), eq_str("a", "café é"));
    assert_eq!(parse(r#"a eq "\ud83d\ude00""#), eq_str("a", "😀"));
    assert_eq!(
        parse(r#"a eq "日本 😀 ) ] and""#),
        eq_str("a", "日本 😀 ) ] and")
    );
    assert_eq!(parse(r#"a eq """#), eq_str("a", ""));
}

#[test]
fn numbers_and_keywords_become_typed_values() {
    assert_eq!(parse("a eq 42"), cmp("a", CompareOp::Eq, num(42)));
    assert_eq!(parse("a eq -7"), cmp("a", CompareOp::Eq, num(-7)));
    let float = |x: f64| serde_json::Number::from_f64(x).map(CompValue::Num);
    assert_eq!(
        Some(parse("a gt -1.5e3")),
        float(-1500.0).map(|v| cmp("a", CompareOp::Gt, v))
    );
    assert_eq!(
        Some(parse("a lt 0.25")),
        float(0.25).map(|v| cmp("a", CompareOp::Lt, v))
    );
    assert_eq!(
        parse("a eq true"),
        cmp("a", CompareOp::Eq, CompValue::Bool(true))
    );
    assert_eq!(
        parse("a ne FALSE"),
        cmp("a", CompareOp::Ne, CompValue::Bool(false))
    );
    assert_eq!(parse("a eq Null"), cmp("a", CompareOp::Eq, CompValue::Null));
    // Not JSON numbers (leading zero, leading '+'), so strings.
    assert_eq!(parse("a eq 007"), eq_str("a", "007"));
    assert_eq!(parse("a eq +1"), eq_str("a", "+1"));
}

#[test]
fn a_long_chain_within_the_size_limit_parses() {
    let input = vec!["a pr"; 800].join(" and ");
    assert!(input.len() <= MAX_INPUT_BYTES);
    assert!(matches!(parse(&input), Filter::And(..)));
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let input = format!("{}a pr{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert_eq!(parse(&input), pr("a"));
}
