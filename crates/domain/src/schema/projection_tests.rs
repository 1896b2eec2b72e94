//! Tests of attribute projection, including the query strings Microsoft's collection sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};

use super::*;
use crate::error::ScimType;
use crate::schema::{group, user};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn bjensen() -> Map<String, Value> {
    let v = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "id": "2819c223",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "password": "should never show",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        ENT: {"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "m1"}},
        "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34Z"}
    });
    match v {
        Value::Object(o) => o,
        _ => unreachable!(),
    }
}

fn project(attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let mut r = bjensen();
    Projection::parse(attributes, excluded)
        .unwrap()
        .apply(user(), &mut r);
    Value::Object(r)
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn the_default_projection_drops_only_never_returned_attributes() {
    let out = project(None, None);
    let mut want = bjensen();
    want.remove("password");
    assert_eq!(out, Value::Object(want));
}

#[test]
fn attributes_keeps_the_listed_ones_plus_id_and_schemas() {
    // Microsoft's collection: `attributes=userName,emails`.
    let out = project(Some("userName,emails"), None);
    assert_eq!(keys(&out), vec!["emails", "id", "schemas", "userName"]);
    assert_eq!(out["emails"], bjensen()["emails"]);
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
}

#[test]
fn attribute_names_are_matched_ignoring_case() {
    let out = project(Some("USERNAME,Name.GivenName"), None);
    assert_eq!(keys(&out), vec!["id", "name", "schemas", "userName"]);
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
}

#[test]
fn excluded_attributes_removes_the_listed_ones_but_never_id() {
    let out = project(None, Some("emails,id,name.familyName"));
    assert!(out.get("emails").is_none());
    assert_eq!(out["id"], "2819c223");
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    assert!(out.get("userName").is_some());
}

#[test]
fn an_excluded_sub_attribute_goes_from_every_element() {
    let out = project(None, Some("emails.type,emails.primary"));
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
}

#[test]
fn meta_is_a_default_attribute() {
    assert!(project(None, None).get("meta").is_some());
    assert!(project(Some("userName"), None).get("meta").is_none());
    assert!(project(None, Some("meta")).get("meta").is_none());
    assert_eq!(
        project(Some("meta.lastModified"), None)["meta"],
        json!({"lastModified": "2011-05-13T04:42:34Z"})
    );
}

#[test]
fn selecting_an_extension_attribute_keeps_only_it_in_the_extension_object() {
    let out = project(
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
        None,
    );
    assert_eq!(keys(&out), vec!["id", "schemas", ENT]);
    assert_eq!(out[ENT], json!({"employeeNumber": "701984"}));
    let out = project(
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        None,
    );
    assert_eq!(out[ENT], json!({"manager": {"value": "m1"}}));
}

#[test]
fn a_bare_extension_urn_selects_or_excludes_the_whole_extension() {
    let out = project(
        Some("userName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
        None,
    );
    assert_eq!(out[ENT], bjensen()[ENT]);
    let out = project(
        None,
        Some("URN:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
    );
    assert!(out.get(ENT).is_none());
}

#[test]
fn an_extension_object_left_empty_is_pruned() {
    let out = project(
        None,
        Some(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,\
             urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,\
             urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ),
    );
    assert!(out.get(ENT).is_none());
    assert!(project(Some("userName"), None).get(ENT).is_none());
}

#[test]
fn a_value_filter_in_attributes_projects_the_attribute_before_the_bracket() {
    // Microsoft's collection sends these; RFC 7644 §3.9 does not allow them.
    let out = project(Some(r#"emails[type eq "work"]"#), None);
    assert_eq!(keys(&out), vec!["emails", "id", "schemas"]);
    let out = project(Some(r#"emails[value eq "emailName357"]"#), None);
    assert_eq!(out["emails"], bjensen()["emails"]);
    let out = project(Some(r#"userName,emails[type eq "work"].value"#), None);
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
}

#[test]
fn unknown_attribute_names_select_nothing() {
    let out = project(Some("shoeSize"), None);
    assert_eq!(keys(&out), vec!["id", "schemas"]);
    assert_eq!(project(None, Some("shoeSize")), project(None, None));
}

#[test]
fn unparsable_attribute_lists_are_invalid_path() {
    for bad in [
        "user name",
        r#"emails[type eq "work""#,
        "name.given.x",
        "a=b",
        "emails]",
        "9lives",
        "x:y",
    ] {
        let e = Projection::parse(Some(bad), None).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{bad}");
        let e = Projection::parse(None, Some(bad)).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{bad}");
    }
    assert!(Projection::parse(Some(" userName , emails "), None).is_ok());
    assert_eq!(
        Projection::parse(Some(""), Some("")).unwrap(),
        Projection::default()
    );
}

#[test]
fn excluded_members_are_not_wanted() {
    // Microsoft's collection: `excludedAttributes=members` (INTEROP 12).
    let p = Projection::parse(None, Some("members")).unwrap();
    assert!(!p.wants(group(), "members"));
    assert!(p.wants(group(), "displayName"));
    assert!(p.wants(group(), "id"));
    let mut g = match json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g",
                              "displayName": "G", "members": [{"value": "u1"}]})
    {
        Value::Object(o) => o,
        _ => unreachable!(),
    };
    p.apply(group(), &mut g);
    assert!(!g.contains_key("members"));
}

#[test]
fn wants_follows_the_attributes_list() {
    assert!(Projection::default().wants(group(), "members"));
    assert!(
        !Projection::parse(Some("displayName"), None)
            .unwrap()
            .wants(group(), "members")
    );
    assert!(
        Projection::parse(Some("members.value"), None)
            .unwrap()
            .wants(group(), "members")
    );
    assert!(!Projection::default().wants(user(), "password"));
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
    assert!(
        !Projection::parse(Some("userName"), None)
            .unwrap()
            .wants(user(), ent)
    );
    assert!(
        Projection::parse(Some(ent), None)
            .unwrap()
            .wants(user(), ent)
    );
}
