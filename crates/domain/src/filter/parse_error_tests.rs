//! Tests of the filter parser's refusals: every malformed input is invalidFilter with a
//! detail naming what was expected and the character position.

use super::*;
use crate::error::ScimType;

fn error(input: &str) -> String {
    match parse_filter(input) {
        Ok(f) => panic!("{input:?} parsed as {f:?}"),
        Err(e) => {
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some(ScimType::InvalidFilter)),
                "{}",
                e.detail
            );
            e.detail
        }
    }
}

fn assert_error(input: &str, expected: &str) {
    let detail = error(input);
    let shown: String = input.chars().take(80).collect();
    assert!(
        detail.contains(expected),
        "{shown:?}: {detail:?} does not contain {expected:?}"
    );
}

#[test]
fn a_lone_word_is_refused_with_the_expected_operator_and_position() {
    assert_eq!(
        error("SomeUserName"),
        "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'SomeUserName' \
         at character 13, found end of input"
    );
    assert_error("TESTUSERNAME", "expected an operator");
}

#[test]
fn an_empty_filter_is_refused() {
    assert_error("", "empty");
    assert_error("  \t", "empty");
}

#[test]
fn an_unknown_operator_is_refused() {
    assert_error(
        "a xx 1",
        "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'a' at character 3, found 'xx'",
    );
    assert_error("a eq1", "found 'eq1'");
    assert_error(r#"a"x""#, "expected an operator");
}

#[test]
fn a_missing_value_is_refused() {
    assert_error(
        "a eq",
        "expected a value (a \"string\", a number, true, false or null) at character 5, found end of input",
    );
    assert_error("(a eq )", "expected a value");
    assert_error("emails[type eq]", "expected a value");
}

#[test]
fn pr_takes_no_value() {
    assert_error(r#"a pr "x""#, "'pr' takes no value");
    assert_error("a pr x", "at character 6");
}

#[test]
fn ordering_operators_refuse_booleans_and_null() {
    for input in ["a gt true", "a ge false", "a lt FALSE", "a le null"] {
        assert_error(input, "cannot compare with true, false or null");
    }
}

#[test]
fn unbalanced_parentheses_are_refused() {
    assert_error(
        "(a pr",
        "expected 'and', 'or' or ')' at character 6, found end of input",
    );
    assert_error(
        "a pr)",
        "expected 'and', 'or' or the end of the filter at character 5, found ')'",
    );
    assert_error("((a pr)", "expected 'and', 'or' or ')'");
    assert_error("()", "expected an attribute path");
}

#[test]
fn not_needs_parentheses() {
    assert_error("not a pr", "expected '(' after 'not'");
    assert_error("not", "expected '(' after 'not'");
}

#[test]
fn dangling_and_trailing_words_are_refused() {
    assert_error("a pr and", "expected an attribute path");
    assert_error("a pr b pr", "at character 6, found 'b'");
    assert_error(
        r#"a eq "x" b pr"#,
        "expected 'and', 'or' or the end of the filter at character 10, found 'b'",
    );
    assert_error("a pr andb pr", "found 'andb'");
}

#[test]
fn value_filters_are_refused_when_nested_empty_unclosed_or_after_a_sub_attribute() {
    assert_error("a[b[c eq 1]]", "value filters cannot be nested");
    assert_error("emails[]", "expected an attribute path");
    assert_error(r#"emails[type eq "w""#, "expected 'and', 'or' or ']'");
    assert_error(
        "name.x[a pr]",
        "must follow an attribute without a sub-attribute",
    );
    assert_error(r#"emails[type eq "w"].value eq "x""#, "found '.value'");
}

#[test]
fn malformed_strings_are_refused() {
    assert_error(r#"a eq "abc"#, "unterminated string at character 6");
    assert_error(r#"a eq "\x""#, "expected an escape");
    assert_error(r#"a eq "\u12""#, "expected four hex digits");
    assert_error(r#"a eq "\ud800""#, "low half");
    assert_error(r#"a eq "\ud800\u0041""#, "low half");
    assert_error(r#"a eq "\udc00""#, "unpaired low surrogate");
}

#[test]
fn malformed_attribute_paths_are_refused() {
    assert_error("1abc eq 1", "expected an attribute name");
    assert_error("a.b.c eq 1", "expected an attribute name");
    assert_error("a. eq 1", "expected an attribute name");
    assert_error(
        "a:b eq 1",
        "':' is allowed only in paths that start with a schema URN (urn:...) at character 2",
    );
    assert_error("urn:x eq 1", "expected a schema URN");
    assert_error("urn::x:y eq 1", "expected a schema URN");
    assert_error("urn:x:y: eq 1", "expected an attribute name");
    assert_error("ém eq 1", "at character 1, found 'ém'");
}

#[test]
fn a_number_out_of_range_is_refused() {
    assert_error("a eq 1e999", "number out of range");
}

#[test]
fn input_over_the_size_limit_is_refused() {
    let input = format!("a eq \"{}\"", "x".repeat(MAX_INPUT_BYTES));
    assert_error(&input, "at most 8192 are accepted");
}

#[test]
fn nesting_past_the_limit_is_refused_without_overflowing_the_stack() {
    let deep = |n: usize| format!("{}a pr{}", "(".repeat(n), ")".repeat(n));
    assert_error(&deep(MAX_NESTING + 1), "at most 64 nested groups");
    assert_error(&"not (".repeat(1000), "at most 64 nested groups");
    assert_error(&"(".repeat(MAX_INPUT_BYTES), "at most 64 nested groups");
}

#[test]
fn error_positions_count_characters_not_bytes() {
    assert_error(r#"a eq "é" x"#, "at character 10");
}
