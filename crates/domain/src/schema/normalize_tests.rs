//! Tests of input normalisation, each IdP shape as the IdP sends it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;
use crate::error::ScimType;
use crate::schema::{group, user};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn ok(rt: &ResourceType, body: Value) -> Value {
    Value::Object(normalize(rt, body, false).unwrap().resource)
}

fn err(rt: &ResourceType, body: Value, strict: bool) -> ScimError {
    normalize(rt, body, strict).unwrap_err()
}

#[test]
fn a_body_without_schemas_is_invalid_syntax() {
    let e = err(user(), json!({"userName": "bjensen"}), false);
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(e.status, 400);
}

#[test]
fn a_body_naming_another_schema_is_invalid_syntax() {
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "x"}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    let e = err(user(), json!(["not", "an", "object"]), false);
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
}

#[test]
fn schema_urns_compare_ignoring_case() {
    let out = ok(
        user(),
        json!({"schemas": ["URN:IETF:params:scim:schemas:core:2.0:user"], "userName": "b"}),
    );
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

#[test]
fn attribute_names_are_rewritten_to_the_schema_spelling() {
    let out = ok(
        user(),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "USERNAME": "bjensen",
            "Name": {"GivenName": "Barbara", "familyname": "Jensen"},
            "Emails": [{"Value": "b@example.com", "TYPE": "work", "Primary": true}],
            "ExternalID": "701984"
        }),
    );
    assert_eq!(
        out,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
            "externalId": "701984"
        })
    );
}

#[test]
fn extension_attributes_are_kept_under_the_extension_urn() {
    let out = ok(
        user(),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "userName": "bjensen",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Tour Operations",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            }
        }),
    );
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
    assert_eq!(out[ENT]["department"], "Tour Operations");
    assert_eq!(
        out[ENT]["manager"],
        json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d"})
    );
}

#[test]
fn urn_qualified_top_level_keys_are_stored_under_the_extension_urn() {
    let out = ok(
        user(),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bjensen",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Babs"
        }),
    );
    assert_eq!(out[ENT], json!({"employeeNumber": "701984"}));
    assert_eq!(out["displayName"], "Babs");
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
    assert!(
        out.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
            .is_none()
    );
}

#[test]
fn schemas_lists_an_extension_only_when_it_has_attributes() {
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT], "userName": "b", ENT: {"department": null}}),
    );
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert!(out.get(ENT).is_none());
}

#[test]
fn read_only_attributes_and_the_password_are_dropped_silently() {
    let n = normalize(
        user(),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "abc",
            "meta": {"resourceType": "User"},
            "groups": [{"value": "g1"}],
            "userName": "bjensen",
            "password": "t1meMa$heen",
            ENT: {"manager": {"value": "m1", "displayName": "Boss"}}
        }),
        true,
    )
    .unwrap();
    let out = Value::Object(n.resource);
    assert!(n.ignored.is_empty());
    for gone in ["id", "meta", "groups", "password"] {
        assert!(out.get(gone).is_none(), "{gone} kept");
    }
    assert_eq!(out[ENT]["manager"], json!({"value": "m1"}));
}

#[test]
fn booleans_sent_as_strings_are_coerced() {
    // INTEROP 2: Entra ID sends "True", "true", "False", "false".
    for (sent, want) in [
        ("True", true),
        ("true", true),
        ("False", false),
        ("false", false),
    ] {
        let out = ok(
            user(),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b", "active": sent}),
        );
        assert_eq!(out["active"], want);
    }
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "emails": [{"value": "b@x", "primary": "True"}]}),
    );
    assert_eq!(out["emails"][0]["primary"], true);
}

#[test]
fn a_value_that_is_not_a_boolean_names_the_attribute() {
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b", "active": "yes"}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("active"), "{}", e.detail);
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 42}),
        false,
    );
    assert!(e.detail.contains("userName"), "{}", e.detail);
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b", "name": "Bob"}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("name"), "{}", e.detail);
}

#[test]
fn a_single_valued_attribute_sent_as_a_value_array_takes_the_value() {
    // INTEROP 10: older Microsoft clients.
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "displayName": [{"$ref":null,"value":"x"}]}),
    );
    assert_eq!(out["displayName"], "x");
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b", "title": ["a", "b"]}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn a_manager_sent_as_a_bare_string_becomes_a_value_object() {
    // INTEROP 9: Entra ID.
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "26118915-6090-4610-87e4-49d8ca9f808d"}}),
    );
    assert_eq!(
        out[ENT]["manager"],
        json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d"})
    );
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "m2"}),
    );
    assert_eq!(out[ENT]["manager"], json!({"value": "m2"}));
}

#[test]
fn a_multi_valued_attribute_sent_as_one_object_is_wrapped() {
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "emails": {"value": "b@example.com", "type": "work"}}),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "b@example.com", "type": "work"}])
    );
}

#[test]
fn a_missing_or_empty_user_name_is_invalid_value() {
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "B"}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("userName"));
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "  "}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": null}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn a_group_without_a_display_name_is_invalid_value() {
    let e = err(
        group(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("displayName"));
}

#[test]
fn only_the_first_primary_value_stays_primary() {
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
    );
    assert_eq!(out["emails"][0]["primary"], true);
    assert_eq!(out["emails"][1]["primary"], false);
}

#[test]
fn nulls_and_empty_arrays_are_the_same_as_absent() {
    let out = ok(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "displayName": null, "emails": [], "name": {"givenName": null},
               "phoneNumbers": [null, {"value": null}], "addresses": [{"type": "work", "country": null}]}),
    );
    assert_eq!(
        out,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "addresses": [{"type": "work"}]})
    );
}

#[test]
fn unknown_attributes_are_dropped_and_listed() {
    let n = normalize(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
               "shoeSize": 42, "name": {"nickname": "x"}, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge": "7"}),
        false,
    )
    .unwrap();
    let mut ignored = n.ignored.clone();
    ignored.sort();
    assert_eq!(
        ignored,
        vec![
            "name.nickname",
            "shoeSize",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge"
        ]
    );
    assert!(!n.resource.contains_key("shoeSize"));
    assert!(!n.resource.contains_key("name"));
}

#[test]
fn a_strict_schema_refuses_unknown_attributes_by_name() {
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b", "shoeSize": 42}),
        true,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(e.detail.contains("shoeSize"));
}

#[test]
fn group_members_keep_value_type_display_and_ref() {
    let out = ok(
        group(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides",
               "members": [{"value": "u1", "type": "User", "display": "Babs", "$ref": "https://h/Users/u1", "extra": 1}]}),
    );
    assert_eq!(
        out["members"],
        json!([{"value": "u1", "type": "User", "display": "Babs", "$ref": "https://h/Users/u1"}])
    );
}

#[test]
fn a_group_member_without_a_value_is_invalid_value() {
    let e = err(
        group(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G",
               "members": [{"value": "u1"}, {"display": "nobody"}]}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn an_extension_that_is_not_an_object_is_invalid_value() {
    let e = err(
        user(),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b", ENT: "x"}),
        false,
    );
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn the_access_extension_keeps_roles_custom_roles_and_role_attributes() {
    let urn = crate::access::ACCESS_EXTENSION_URN;
    let body = json!({
        "schemas": [crate::schema::USER_URN, urn],
        "userName": "ld@example.com",
        urn: {
            "role": "admin",
            "customRole": ["flag-editor", "billing"],
            "roleAttributes": [{"key": "projects", "values": ["web", "api"]}]
        }
    });
    let n = normalize(user(), body, true).unwrap();
    let ext = &n.resource[urn];
    assert_eq!(ext["role"], "admin");
    assert_eq!(ext["customRole"], json!(["flag-editor", "billing"]));
    assert_eq!(ext["roleAttributes"][0]["values"], json!(["web", "api"]));
    let wrong = json!({
        "schemas": [crate::schema::USER_URN, urn],
        "userName": "x",
        urn: {"customRole": "not-a-list"}
    });
    // A single string where a list is expected is wrapped or refused, never dropped silently.
    match normalize(user(), wrong, true) {
        Ok(n) => assert_eq!(n.resource[urn]["customRole"], json!(["not-a-list"])),
        Err(e) => assert_eq!(e.scim_type, Some(ScimType::InvalidValue)),
    }
}
