//! Tests of PATCH body parsing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::error::ScimType;
use crate::filter::AttrPath;

fn parse(body: Value) -> Result<PatchRequest, ScimError> {
    PatchRequest::parse(body)
}

#[test]
fn an_empty_operations_array_is_valid() {
    // INTEROP 13.
    let r = parse(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}),
    )
    .unwrap();
    assert!(r.operations.is_empty());
}

#[test]
fn a_body_without_the_patch_op_schema_is_invalid_syntax() {
    for body in [
        json!({"Operations": []}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": []}),
        json!([]),
    ] {
        assert_eq!(
            parse(body).unwrap_err().scim_type,
            Some(ScimType::InvalidSyntax)
        );
    }
}

#[test]
fn a_body_without_an_operations_array_is_invalid_syntax() {
    let e =
        parse(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    let e = parse(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": {}}),
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
}

#[test]
fn op_names_are_case_insensitive() {
    // INTEROP 3: Entra ID sends `Add`, `Replace`, `Remove`.
    let r = parse(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Add", "path": "title", "value": "x"},
            {"op": "Replace", "path": "title", "value": "y"},
            {"op": "Remove", "path": "title"},
            {"op": "REPLACE", "value": {"active": false}}
        ]
    }))
    .unwrap();
    let kinds: Vec<_> = r.operations.iter().map(|o| o.op).collect();
    assert_eq!(
        kinds,
        vec![
            OpKind::Add,
            OpKind::Replace,
            OpKind::Remove,
            OpKind::Replace
        ]
    );
    assert_eq!(
        r.operations[0].path.as_ref().unwrap().attr,
        AttrPath::new("title")
    );
    assert!(r.operations[3].path.is_none());
}

#[test]
fn an_unknown_op_is_invalid_syntax() {
    let e = parse(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "move", "path": "title", "value": "x"}]}),
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(e.detail.contains("move"));
}

#[test]
fn a_malformed_path_is_invalid_path() {
    let e = parse(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "add", "path": "emails[type eq", "value": "x"}]}),
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn add_and_replace_without_a_value_are_invalid_syntax() {
    for op in ["add", "replace"] {
        let e = parse(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                             "Operations": [{"op": op, "path": "title"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax), "{op}");
    }
}

#[test]
fn remove_without_a_path_is_no_target() {
    let e = parse(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "remove", "value": {"title": "x"}}]}),
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn a_value_filter_path_and_an_explicit_null_value_are_kept() {
    let r = parse(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": null}]}))
    .unwrap();
    let op = &r.operations[0];
    assert_eq!(op.value, Some(Value::Null));
    let path = op.path.as_ref().unwrap();
    assert!(path.filter.is_some());
    assert_eq!(path.sub_after_filter.as_deref(), Some("value"));
}
