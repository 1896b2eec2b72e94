//! Tests of PATCH application; every INTEROP shape is sent as the IdP sends it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;
use crate::error::ScimType;
use crate::patch::PatchRequest;
use crate::schema::user;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(o) => o,
        _ => unreachable!(),
    }
}

fn bjensen() -> Map<String, Value> {
    obj(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "meta": {"resourceType": "User", "version": "W/\"1\""}
    }))
}

/// Parses `operations` as a PATCH body and applies them to `resource`.
fn patch(
    rt: &ResourceType,
    resource: &mut Map<String, Value>,
    operations: Value,
) -> Result<(), ScimError> {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    apply(rt, resource, &PatchRequest::parse(body)?.operations)
}

fn patched(operations: Value) -> Value {
    let mut r = bjensen();
    patch(user(), &mut r, operations).unwrap();
    Value::Object(r)
}

fn refused(operations: Value) -> ScimError {
    let mut r = bjensen();
    let e = patch(user(), &mut r, operations).unwrap_err();
    assert_eq!(r, bjensen(), "a refused PATCH changed the resource");
    e
}

#[test]
fn an_empty_operations_array_changes_nothing() {
    // INTEROP 13.
    assert_eq!(patched(json!([])), Value::Object(bjensen()));
}

#[test]
fn okta_deactivates_and_reactivates_with_a_pathless_replace() {
    // INTEROP 5 and 7.
    let mut r = bjensen();
    patch(
        user(),
        &mut r,
        json!([{"op":"replace","value":{"active":false}}]),
    )
    .unwrap();
    assert_eq!(r["active"], false);
    patch(
        user(),
        &mut r,
        json!([{"op":"replace","value":{"active":true}}]),
    )
    .unwrap();
    assert_eq!(r["active"], true);
}

#[test]
fn a_filter_path_sets_the_sub_attribute_on_every_match() {
    let out = patched(
        json!([{"op":"Add","path":"emails[type eq \"work\"].value","value":"babs@example.com"}]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "babs@example.com", "type": "work", "primary": true}])
    );
    let out = patched(
        json!([{"op":"replace","path":"emails[type eq \"home\"].value","value":"b@home.org"}]),
    );
    assert_eq!(out["emails"].as_array().unwrap().len(), 2);
    assert_eq!(
        out["emails"][1],
        json!({"type": "home", "value": "b@home.org"})
    );
}

#[test]
fn a_replace_whose_filter_matches_nothing_and_cannot_build_a_value_is_no_target() {
    let e =
        refused(json!([{"op":"replace","path":"emails[value co \"nobody\"].type","value":"home"}]));
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn replace_without_a_filter_replaces_the_whole_list() {
    let out = patched(
        json!([{"op":"replace","path":"emails","value":[{"value":"new@example.com","type":"home"}]}]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "new@example.com", "type": "home"}])
    );
}

#[test]
fn replace_with_a_filter_merges_into_the_matching_values() {
    let out = patched(
        json!([{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@example.com","display":"Work"}}]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "w@example.com", "type": "work", "primary": true, "display": "Work"}])
    );
}

#[test]
fn add_appends_to_a_multi_valued_attribute_without_duplicates() {
    let out = patched(json!([{"op":"add","path":"emails","value":[
        {"value":"BJENSEN@example.com","type":"work"},
        {"value":"babs@jensen.org","type":"home","primary":true}
    ]}]));
    assert_eq!(
        out["emails"],
        json!([
            {"value": "BJENSEN@example.com", "type": "work", "primary": false},
            {"value": "babs@jensen.org", "type": "home", "primary": true}
        ])
    );
    let out = patched(json!([{"op":"add","path":"emails","value":{"value":"x@y.org"}}]));
    assert_eq!(out["emails"].as_array().unwrap().len(), 2);
}

#[test]
fn remove_takes_out_a_plain_attribute_and_is_idempotent() {
    let out =
        patched(json!([{"op":"remove","path":"name.familyName"},{"op":"remove","path":"title"}]));
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    let out = patched(json!([{"op":"remove","path":"emails"},{"op":"remove","path":"emails"}]));
    assert!(out.get("emails").is_none());
}

#[test]
fn remove_with_a_value_array_takes_out_only_those_values() {
    // INTEROP 1, for any multi-valued attribute.
    let mut r = bjensen();
    patch(
        user(),
        &mut r,
        json!([{"op":"add","path":"emails","value":[{"value":"b@home.org","type":"home"}]}]),
    )
    .unwrap();
    patch(
        user(),
        &mut r,
        json!([{"op":"Remove","path":"emails","value":[{"value":"b@home.org"}]}]),
    )
    .unwrap();
    assert_eq!(r["emails"], bjensen()["emails"]);
}

#[test]
fn remove_with_a_filter_takes_out_the_matches_or_fails_with_no_target() {
    let out = patched(json!([{"op":"remove","path":"emails[type eq \"work\"]"}]));
    assert!(out.get("emails").is_none());
    let out = patched(json!([{"op":"remove","path":"emails[type eq \"work\"].primary"}]));
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com", "type": "work"}])
    );
    let e = refused(json!([{"op":"remove","path":"emails[type eq \"home\"]"}]));
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn read_only_attributes_cannot_be_patched() {
    for ops in [
        json!([{"op":"replace","path":"id","value":"x"}]),
        json!([{"op":"add","path":"groups","value":[{"value":"g1"}]}]),
        json!([{"op":"remove","path":"meta"}]),
        json!([{"op":"replace","value":{"meta":{"version":"W/\"9\""}}}]),
        json!([{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}]),
    ] {
        assert_eq!(
            refused(ops.clone()).scim_type,
            Some(ScimType::Mutability),
            "{ops}"
        );
    }
}

#[test]
fn read_only_attributes_survive_a_patch() {
    let out = patched(json!([{"op":"replace","path":"displayName","value":"Babs"}]));
    assert_eq!(out["id"], "2819c223");
    assert_eq!(out["meta"], bjensen()["meta"]);
    assert_eq!(out["displayName"], "Babs");
}

#[test]
fn an_extension_attribute_adds_its_urn_to_schemas_and_removing_it_takes_it_away() {
    let mut r = bjensen();
    let ops = json!([{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"701984"}]);
    patch(user(), &mut r, ops).unwrap();
    assert_eq!(r[ENT], json!({"employeeNumber": "701984"}));
    assert_eq!(
        r["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
    let ops = json!([{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}]);
    patch(user(), &mut r, ops).unwrap();
    assert!(r.get(ENT).is_none());
    assert_eq!(
        r["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

#[test]
fn a_pathless_add_takes_extension_objects_and_qualified_names() {
    let out = patched(json!([{"op":"add","value":{
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": "4130",
        "name": {"middleName": "Jane"},
        "nickName": "Babs"
    }}]));
    assert_eq!(
        out[ENT],
        json!({"department": "Tour Operations", "costCenter": "4130"})
    );
    assert_eq!(
        out["name"],
        json!({"givenName": "Barbara", "familyName": "Jensen", "middleName": "Jane"})
    );
    assert_eq!(out["nickName"], "Babs");
}

#[test]
fn a_bare_extension_urn_path_targets_the_extension_object() {
    let mut r = bjensen();
    let ops = json!([{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"division":"Theme Park"}}]);
    patch(user(), &mut r, ops).unwrap();
    assert_eq!(r[ENT], json!({"division": "Theme Park"}));
    patch(user(), &mut r, json!([{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}])).unwrap();
    assert!(r.get(ENT).is_none());
}

#[test]
fn a_patch_cannot_remove_a_required_attribute() {
    let e = refused(json!([{"op":"remove","path":"userName"}]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    let e = refused(json!([{"op":"replace","path":"userName","value":""}]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn operations_apply_all_or_nothing() {
    let e = refused(json!([
        {"op":"replace","path":"displayName","value":"Babs"},
        {"op":"remove","path":"emails[type eq \"fax\"]"}
    ]));
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
    assert!(e.detail.starts_with("operation 1"), "{}", e.detail);
}

#[test]
fn an_unknown_path_is_invalid_path_and_unknown_pathless_names_are_ignored() {
    let e = refused(json!([{"op":"replace","path":"shoeSize","value":42}]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    let e = refused(json!([{"op":"replace","path":"emails[type eq \"work\"].nope","value":1}]));
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    let mut r = bjensen();
    let ops = PatchRequest::parse(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op":"replace","value":{"shoeSize":42,"title":"Tour Guide"}}]}),
    )
    .unwrap()
    .operations;
    assert_eq!(
        apply_checked(user(), &mut r, &ops, false).unwrap(),
        vec!["shoeSize"]
    );
    assert_eq!(r["title"], "Tour Guide");
    let e = apply_checked(user(), &mut bjensen(), &ops, true).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
}

#[test]
fn making_a_value_primary_through_a_filter_clears_the_old_primary() {
    let out = patched(json!([
        {"op":"add","path":"emails","value":[{"value":"b@home.org","type":"home"}]},
        {"op":"replace","path":"emails[type eq \"home\"].primary","value":"True"}
    ]));
    assert_eq!(out["emails"][0]["primary"], false);
    assert_eq!(out["emails"][1]["primary"], true);
}

#[test]
fn replacing_a_sub_attribute_with_null_clears_only_that_one() {
    let out =
        patched(json!([{"op":"replace","value":{"name":{"familyName":null,"middleName":"Jane"}}}]));
    assert_eq!(
        out["name"],
        json!({"givenName": "Barbara", "middleName": "Jane"})
    );
    let out = patched(json!([{"op":"replace","path":"name","value":{"familyName":null}}]));
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    let out = patched(
        json!([{"op":"replace","path":"emails[type eq \"work\"]","value":{"primary":null}}]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com", "type": "work"}])
    );
    let out = patched(json!([{"op":"replace","path":"name","value":null}]));
    assert!(out.get("name").is_none());
}

#[path = "apply_entra_tests.rs"]
mod entra;
