//! Tests of PATCH application to Groups (member lists loaded in full, as `apply` sees them
//! when the caller did not split member changes out).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;
use crate::error::ScimType;
use crate::patch::PatchRequest;
use crate::schema::group;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(o) => o,
        _ => unreachable!(),
    }
}

fn patch(
    rt: &ResourceType,
    resource: &mut Map<String, Value>,
    operations: Value,
) -> Result<(), ScimError> {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    apply(rt, resource, &PatchRequest::parse(body)?.operations)
}

fn a_group() -> Map<String, Value> {
    obj(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
        "displayName": "Test SCIMv2",
        "members": [{"value": "u1"}, {"value": "u2"}]
    }))
}

#[test]
fn okta_replaces_a_group_with_its_own_id_in_the_value() {
    // INTEROP 5.
    let mut g = a_group();
    let ops = json!([{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Renamed"}}]);
    patch(group(), &mut g, ops).unwrap();
    assert_eq!(g["displayName"], "Renamed");
    assert_eq!(g["id"], "abf4dd94-a4c0-4f67-89c9-76b03340cb9b");
    let e = patch(
        group(),
        &mut g,
        json!([{"op":"replace","value":{"id":"other","displayName":"x"}}]),
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::Mutability));
}

#[test]
fn entra_removes_group_members_by_value_array_without_touching_the_rest() {
    // INTEROP 1, applied to a loaded member list.
    let mut g = a_group();
    patch(
        group(),
        &mut g,
        json!([{"op":"Remove","path":"members","value":[{"value":"u1"}]}]),
    )
    .unwrap();
    assert_eq!(g["members"], json!([{"value": "u2"}]));
}

#[test]
fn okta_push_of_an_empty_group_empties_it() {
    // INTEROP 6.
    let mut g = a_group();
    patch(
        group(),
        &mut g,
        json!([{"op":"replace","path":"members","value":[]}]),
    )
    .unwrap();
    assert!(g.get("members").is_none());
    let mut g = a_group();
    patch(
        group(),
        &mut g,
        json!([{"op":"replace","value":{"members":[]}}]),
    )
    .unwrap();
    assert!(g.get("members").is_none());
}

#[test]
fn adding_members_skips_those_already_there() {
    let mut g = a_group();
    patch(
        group(),
        &mut g,
        json!([{"op":"add","path":"members","value":[{"value":"u2"},{"value":"u3"}]}]),
    )
    .unwrap();
    assert_eq!(
        g["members"],
        json!([{"value": "u1"}, {"value": "u2"}, {"value": "u3"}])
    );
}
