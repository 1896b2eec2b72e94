//! Tests of pulling member changes out of Group PATCH requests, each shape as IdPs send it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::error::ScimType;
use crate::patch::{PatchRequest, apply};
use crate::schema::group;

fn ops(operations: Value) -> Vec<PatchOp> {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    PatchRequest::parse(body).unwrap().operations
}

fn split(operations: Value) -> Result<(Vec<MemberChange>, Vec<PatchOp>), ScimError> {
    split_member_changes(ops(operations))
}

fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn adding_members_by_path_is_an_add() {
    let (changes, rest) =
        split(json!([{"op":"add","path":"members","value":[{"value":"id1"},{"value":"id2"}]}]))
            .unwrap();
    assert_eq!(changes, vec![MemberChange::Add(ids(&["id1", "id2"]))]);
    assert!(rest.is_empty());
}

#[test]
fn entra_removes_members_with_a_value_array() {
    // INTEROP 1: exactly those members, never the whole list.
    let (changes, _) =
        split(json!([{"op":"Remove","path":"members","value":[{"value":"id"}]}])).unwrap();
    assert_eq!(changes, vec![MemberChange::Remove(ids(&["id"]))]);
}

#[test]
fn removing_members_by_value_filter_is_a_remove() {
    let (changes, _) = split(json!([{"op":"remove","path":"members[value eq \"id\"]"}])).unwrap();
    assert_eq!(changes, vec![MemberChange::Remove(ids(&["id"]))]);
    let (changes, _) =
        split(json!([{"op":"remove","path":"members[value eq \"a\" or value eq \"b\" or value eq \"c\"]"}])).unwrap();
    assert_eq!(changes, vec![MemberChange::Remove(ids(&["a", "b", "c"]))]);
}

#[test]
fn any_other_member_filter_is_invalid_filter() {
    for path in [
        "members[display eq \"Babs\"]",
        "members[value ne \"id\"]",
        "members[value eq \"a\" and type eq \"User\"]",
        "members[value sw \"a\"]",
    ] {
        let e = split(json!([{"op":"remove","path": path}])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{path}");
        assert!(e.detail.contains("value eq"), "{}", e.detail);
    }
}

#[test]
fn removing_members_without_a_value_removes_them_all() {
    let (changes, _) = split(json!([{"op":"remove","path":"members"}])).unwrap();
    assert_eq!(changes, vec![MemberChange::RemoveAll]);
}

#[test]
fn okta_push_of_an_empty_group_replaces_all_members_with_none() {
    // INTEROP 6, both shapes.
    let (changes, rest) = split(json!([{"op":"replace","path":"members","value":[]}])).unwrap();
    assert_eq!(changes, vec![MemberChange::ReplaceAll(vec![])]);
    assert!(rest.is_empty());
    let (changes, rest) = split(json!([{"op":"replace","value":{"members":[]}}])).unwrap();
    assert_eq!(changes, vec![MemberChange::ReplaceAll(vec![])]);
    assert!(rest.is_empty());
}

#[test]
fn a_pathless_add_of_members_is_an_add() {
    let (changes, rest) =
        split(json!([{"op":"add","value":{"members":[{"value":"id1","display":"Babs"}]}}]))
            .unwrap();
    assert_eq!(changes, vec![MemberChange::Add(ids(&["id1"]))]);
    assert!(rest.is_empty());
}

#[test]
fn okta_group_replace_splits_into_members_and_the_rest() {
    // INTEROP 5 and 6: Okta's full group push.
    let (changes, rest) = split(json!([{"op":"replace","value":{
        "id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"x","members":[{"value":"u1"},{"value":"u2"}]}}]))
    .unwrap();
    assert_eq!(changes, vec![MemberChange::ReplaceAll(ids(&["u1", "u2"]))]);
    assert_eq!(rest.len(), 1);
    assert_eq!(
        rest[0].value,
        Some(json!({"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"x"}))
    );
    let mut g = match json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                              "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "old"})
    {
        Value::Object(o) => o,
        _ => unreachable!(),
    };
    apply(group(), &mut g, &rest).unwrap();
    assert_eq!(g["displayName"], "x");
    assert!(!g.contains_key("members"));
}

#[test]
fn member_elements_without_a_value_are_invalid_value() {
    for operations in [
        json!([{"op":"add","path":"members","value":[{"display":"Babs"}]}]),
        json!([{"op":"Remove","path":"members","value":[{"value":""}]}]),
        json!([{"op":"add","value":{"members":[{"value":"u1"},{"$ref":"https://h/Users/u2"}]}}]),
        json!([{"op":"replace","path":"members","value":["u1"]}]),
    ] {
        let e = split(operations.clone()).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{operations}");
    }
}

#[test]
fn other_operations_pass_through_in_order() {
    let (changes, rest) = split(json!([
        {"op":"replace","path":"displayName","value":"A"},
        {"op":"add","path":"members","value":[{"value":"u1"}]},
        {"op":"Remove","path":"members","value":[{"value":"u2"}]},
        {"op":"replace","path":"externalId","value":"e"}
    ]))
    .unwrap();
    assert_eq!(
        changes,
        vec![
            MemberChange::Add(ids(&["u1"])),
            MemberChange::Remove(ids(&["u2"]))
        ]
    );
    let paths: Vec<_> = rest
        .iter()
        .map(|o| o.path.as_ref().unwrap().attr.attr.clone())
        .collect();
    assert_eq!(paths, vec!["displayName", "externalId"]);
}

#[test]
fn member_sub_attributes_cannot_be_patched() {
    let e = split(json!([{"op":"replace","path":"members.value","value":"x"}])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    let e =
        split(json!([{"op":"replace","path":"members[value eq \"u1\"]","value":{"display":"x"}}]))
            .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::Mutability));
}

#[test]
fn a_urn_qualified_members_path_is_recognised() {
    let (changes, _) = split(json!([{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:Group:members","value":[{"value":"u1"}]}])).unwrap();
    assert_eq!(changes, vec![MemberChange::Add(ids(&["u1"]))]);
    let (changes, _) = split(json!([{"op":"add","value":{"urn:ietf:params:scim:schemas:core:2.0:Group:members":[{"value":"u1"}]}}])).unwrap();
    assert_eq!(changes, vec![MemberChange::Add(ids(&["u1"]))]);
}
