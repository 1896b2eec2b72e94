//! Discovery documents: `/Schemas/{id}` (RFC 7643 §7, §8.7.1) and `/ResourceTypes/{id}`
//! (RFC 7643 §6), built from the same definitions input validation uses.

use serde_json::{Map, Value, json};

use super::resource_type::ResourceType;
use super::types::{AttrType, AttributeDef, Schema};

pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

fn attribute_json(a: &AttributeDef) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), a.name.into());
    o.insert("type".into(), a.type_.as_str().into());
    o.insert("multiValued".into(), a.multi_valued.into());
    o.insert("description".into(), a.description.into());
    o.insert("required".into(), a.required.into());
    o.insert("caseExact".into(), a.case_exact.into());
    o.insert("mutability".into(), a.mutability.as_str().into());
    o.insert("returned".into(), a.returned.as_str().into());
    o.insert("uniqueness".into(), a.uniqueness.as_str().into());
    if !a.canonical_values.is_empty() {
        o.insert("canonicalValues".into(), a.canonical_values.into());
    }
    // RFC 7643 §7: referenceTypes applies to attributes of type "reference" only.
    if a.type_ == AttrType::Reference {
        o.insert("referenceTypes".into(), a.reference_types.into());
    }
    // RFC 7643 §7: subAttributes applies to attributes of type "complex" only.
    if a.type_ == AttrType::Complex {
        o.insert(
            "subAttributes".into(),
            a.sub_attributes.iter().map(attribute_json).collect(),
        );
    }
    Value::Object(o)
}

/// The schema resource of RFC 7643 §7, located at `{base_url}/Schemas/{id}`.
pub fn schema_json(schema: &Schema, base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    json!({
        "schemas": [SCHEMA_URN],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{}", schema.id),
        },
    })
}

/// The resource type resource of RFC 7643 §6, located at `{base_url}/ResourceTypes/{name}`.
pub fn resource_type_json(rt: &ResourceType, base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|e| json!({ "schema": e.schema.id, "required": e.required }))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", rt.name),
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::schema::{group, schemas, user};

    fn attr<'a>(doc: &'a Value, name: &str) -> &'a Value {
        doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no attribute {name}"))
    }

    fn sub<'a>(a: &'a Value, name: &str) -> &'a Value {
        a["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
    }

    #[test]
    fn the_user_schema_document_has_the_rfc_envelope() {
        let doc = schema_json(user().schema, "https://h/scim/v2/");
        assert_eq!(doc["schemas"], json!([SCHEMA_URN]));
        assert_eq!(doc["id"], "urn:ietf:params:scim:schemas:core:2.0:User");
        assert_eq!(doc["name"], "User");
        assert_eq!(doc["meta"]["resourceType"], "Schema");
        assert_eq!(
            doc["meta"]["location"],
            "https://h/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
        );
    }

    #[test]
    fn user_name_is_required_case_insensitive_and_unique_per_server() {
        let doc = schema_json(user().schema, "");
        let a = attr(&doc, "userName");
        assert_eq!(a["type"], "string");
        assert_eq!(a["required"], true);
        assert_eq!(a["caseExact"], false);
        assert_eq!(a["uniqueness"], "server");
        assert_eq!(a["mutability"], "readWrite");
        assert_eq!(a["returned"], "default");
        assert_eq!(a["multiValued"], false);
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let doc = schema_json(user().schema, "");
        let a = attr(&doc, "password");
        assert_eq!(a["mutability"], "writeOnly");
        assert_eq!(a["returned"], "never");
    }

    #[test]
    fn emails_list_their_sub_attributes_and_canonical_types() {
        let doc = schema_json(user().schema, "");
        let emails = attr(&doc, "emails");
        assert_eq!(emails["type"], "complex");
        assert_eq!(emails["multiValued"], true);
        let names: Vec<_> = emails["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].clone())
            .collect();
        assert_eq!(names, vec!["value", "display", "type", "primary"]);
        assert_eq!(
            sub(emails, "type")["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert_eq!(sub(emails, "primary")["type"], "boolean");
        assert!(emails.get("canonicalValues").is_none());
    }

    #[test]
    fn references_list_their_reference_types_and_binary_is_named_binary() {
        let doc = schema_json(user().schema, "");
        assert_eq!(
            attr(&doc, "profileUrl")["referenceTypes"],
            json!(["external"])
        );
        let groups = attr(&doc, "groups");
        assert_eq!(groups["mutability"], "readOnly");
        assert_eq!(
            sub(groups, "$ref")["referenceTypes"],
            json!(["User", "Group"])
        );
        assert_eq!(
            sub(attr(&doc, "x509Certificates"), "value")["type"],
            "binary"
        );
        assert!(attr(&doc, "userName").get("referenceTypes").is_none());
    }

    #[test]
    fn the_user_schema_does_not_list_common_attributes() {
        let doc = schema_json(user().schema, "");
        let names: Vec<_> = doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].clone())
            .collect();
        assert!(!names.contains(&json!("id")));
        assert_eq!(names.len(), 21);
    }

    #[test]
    fn the_enterprise_manager_has_a_read_only_display_name() {
        let doc = schema_json(schemas()[1], "");
        assert_eq!(
            doc["id"],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        );
        let manager = attr(&doc, "manager");
        assert_eq!(sub(manager, "displayName")["mutability"], "readOnly");
        assert_eq!(sub(manager, "$ref")["referenceTypes"], json!(["User"]));
        assert_eq!(attr(&doc, "employeeNumber")["type"], "string");
    }

    #[test]
    fn group_members_are_immutable_references_to_users_and_groups() {
        let doc = schema_json(group().schema, "");
        assert_eq!(attr(&doc, "displayName")["required"], true);
        let members = attr(&doc, "members");
        assert_eq!(members["multiValued"], true);
        assert_eq!(sub(members, "value")["mutability"], "immutable");
        assert_eq!(
            sub(members, "type")["canonicalValues"],
            json!(["User", "Group"])
        );
    }

    #[test]
    fn the_user_resource_type_names_the_enterprise_and_access_extensions() {
        let doc = resource_type_json(user(), "https://h/scim/v2");
        assert_eq!(
            doc,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "User Account",
                "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
                "schemaExtensions": [{
                    "schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                    "required": false
                }, {
                    "schema": crate::access::ACCESS_EXTENSION_URN,
                    "required": false
                }],
                "meta": {
                    "resourceType": "ResourceType",
                    "location": "https://h/scim/v2/ResourceTypes/User"
                }
            })
        );
    }

    #[test]
    fn the_group_resource_type_has_no_extensions() {
        let doc = resource_type_json(group(), "");
        assert_eq!(doc["endpoint"], "/Groups");
        assert_eq!(doc["schemaExtensions"], json!([]));
        assert_eq!(doc["meta"]["location"], "/ResourceTypes/Group");
    }
}
