//! Members (SCIM Users) as the store keeps them: the SCIM attributes plus lifecycle state,
//! provenance and the derived keys that lookups and filters use.

use serde_json::{Map, Value};

use crate::ids::{MemberId, TenantId};
use crate::tenant::UniqueIdentifier;
use crate::time::Timestamp;

/// Access state (SEMANTICS 6). Only `Active` has access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    Active,
    Deactivated,
    NotActivated,
}

impl MemberState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deactivated => "deactivated",
            Self::NotActivated => "not_activated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "deactivated" => Some(Self::Deactivated),
            "not_activated" => Some(Self::NotActivated),
            _ => None,
        }
    }
}

/// Who created the member (SEMANTICS 2, 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    Scim,
    Admin,
    /// Existed before SCIM was enabled for the tenant.
    PreScim,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scim => "scim",
            Self::Admin => "admin",
            Self::PreScim => "pre_scim",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scim" => Some(Self::Scim),
            "admin" => Some(Self::Admin),
            "pre_scim" => Some(Self::PreScim),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: MemberId,
    pub tenant_id: TenantId,
    /// The SCIM attributes (schemas, userName, name, emails, extensions...) without id and meta.
    pub resource: Map<String, Value>,
    pub state: MemberState,
    pub provenance: Provenance,
    /// SCIM manages this member (created or adopted through SCIM).
    pub scim_managed: bool,
    /// False once SCIM deleted it with the `deactivate` behaviour: SCIM answers 404 for it
    /// (RFC 7644 §3.6) while the account stays for the host application.
    pub scim_visible: bool,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub version: i64,
    /// When the host application first reported a sign-in (SEMANTICS 6, 24).
    pub first_sign_in: Option<Timestamp>,
}

/// One indexed attribute value, for filters that run in the database. Paths are lower-case,
/// dotted, URN-prefixed for extensions (`emails.value`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department`); `idx` is the element
/// index inside a multi-valued attribute, so a complex filter can require one element to match
/// several conditions. An element of a multi-valued complex attribute also gets a marker row
/// (path = the attribute, value = None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedValue {
    pub path: String,
    pub idx: i32,
    pub value: Option<String>,
}

/// The keys derived from a member's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberKeys {
    pub user_name: String,
    pub user_name_lc: String,
    pub email_lc: Option<String>,
    /// The tenant's unique identifier, lower-cased (email or userName, SEMANTICS 1).
    pub identifier_lc: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    pub values: Vec<IndexedValue>,
}

fn str_at<'a>(resource: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    resource.get(key).and_then(Value::as_str)
}

/// The member's email (SEMANTICS 1): the primary email, else the first `work` email, else the
/// first email, else the userName when it is an address. Trimmed and lower-cased.
pub fn member_email(resource: &Map<String, Value>) -> Option<String> {
    let emails: Vec<&Map<String, Value>> = resource
        .get("emails")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    fn value_of<'a>(e: &&'a Map<String, Value>) -> Option<&'a str> {
        e.get("value").and_then(Value::as_str)
    }
    let pick = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .and_then(value_of)
        .or_else(|| {
            emails
                .iter()
                .find(|e| {
                    e.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("work"))
                })
                .and_then(value_of)
        })
        .or_else(|| emails.iter().find_map(value_of))
        .or_else(|| str_at(resource, "userName").filter(|u| u.contains('@')));
    pick.map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
}

/// Derives the lookup keys and the filter index from a normalised User resource.
pub fn member_keys(resource: &Map<String, Value>, identifier: UniqueIdentifier) -> MemberKeys {
    let user_name = str_at(resource, "userName").unwrap_or_default().to_owned();
    let user_name_lc = user_name.to_lowercase();
    let email_lc = member_email(resource);
    let identifier_lc = match identifier {
        UniqueIdentifier::Email => email_lc.clone().unwrap_or_else(|| user_name_lc.clone()),
        UniqueIdentifier::UserName => user_name_lc.clone(),
    };
    MemberKeys {
        user_name,
        user_name_lc,
        email_lc,
        identifier_lc,
        external_id: str_at(resource, "externalId").map(str::to_owned),
        display_name: str_at(resource, "displayName").map(str::to_owned),
        active: resource
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        values: index_values(resource),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn push_value(out: &mut Vec<IndexedValue>, path: &str, idx: i32, v: &Value) {
    match v {
        Value::Object(sub) => {
            for (k, sv) in sub {
                if let Some(text) = scalar_text(sv) {
                    out.push(IndexedValue {
                        path: format!("{path}.{}", k.to_lowercase()),
                        idx,
                        value: Some(text),
                    });
                }
            }
        }
        other => {
            if let Some(text) = scalar_text(other) {
                out.push(IndexedValue {
                    path: path.to_owned(),
                    idx,
                    value: Some(text),
                });
            }
        }
    }
}

fn index_attribute(out: &mut Vec<IndexedValue>, path: &str, v: &Value) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let idx = i32::try_from(i).unwrap_or(i32::MAX);
                if item.is_object() {
                    out.push(IndexedValue {
                        path: path.to_owned(),
                        idx,
                        value: None,
                    });
                }
                push_value(out, path, idx, item);
            }
        }
        other => push_value(out, path, 0, other),
    }
}

/// Flattens every attribute except `schemas` into indexed values.
pub fn index_values(resource: &Map<String, Value>) -> Vec<IndexedValue> {
    let mut out = Vec::new();
    for (key, v) in resource {
        if key == "schemas" {
            continue;
        }
        let lc = key.to_lowercase();
        if lc.starts_with("urn:") {
            if let Value::Object(ext) = v {
                for (ek, ev) in ext {
                    index_attribute(&mut out, &format!("{lc}:{}", ek.to_lowercase()), ev);
                }
            }
        } else {
            index_attribute(&mut out, &lc, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_email_is_the_primary_then_work_then_first_then_username() {
        let r = obj(
            json!({"userName":"u","emails":[{"value":"a@x"},{"value":"W@X","type":"work"},{"value":"p@x","primary":true}]}),
        );
        assert_eq!(member_email(&r).as_deref(), Some("p@x"));
        let r =
            obj(json!({"userName":"u","emails":[{"value":"a@x"},{"value":" W@X ","type":"work"}]}));
        assert_eq!(member_email(&r).as_deref(), Some("w@x"));
        let r = obj(json!({"userName":"u","emails":[{"value":"a@x"}]}));
        assert_eq!(member_email(&r).as_deref(), Some("a@x"));
        let r = obj(json!({"userName":"Bob@Example.com"}));
        assert_eq!(member_email(&r).as_deref(), Some("bob@example.com"));
        assert_eq!(member_email(&obj(json!({"userName":"bob"}))), None);
    }

    #[test]
    fn the_identifier_follows_the_tenant_setting() {
        let r = obj(json!({"userName":"Bob","emails":[{"value":"Bob@X.com"}]}));
        assert_eq!(
            member_keys(&r, UniqueIdentifier::Email).identifier_lc,
            "bob@x.com"
        );
        assert_eq!(
            member_keys(&r, UniqueIdentifier::UserName).identifier_lc,
            "bob"
        );
    }

    #[test]
    fn multi_valued_elements_are_indexed_with_their_position() {
        let r = obj(json!({
            "userName":"u",
            "emails":[{"value":"a@x","type":"work"},{"value":"b@y","type":"home"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","manager":{"value":"m1"}}
        }));
        let v = index_values(&r);
        assert!(v.contains(&IndexedValue {
            path: "emails".into(),
            idx: 1,
            value: None
        }));
        assert!(v.contains(&IndexedValue {
            path: "emails.type".into(),
            idx: 1,
            value: Some("home".into())
        }));
        assert!(v.contains(&IndexedValue {
            path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value".into(),
            idx: 0,
            value: Some("m1".into())
        }));
        assert!(v.contains(&IndexedValue {
            path: "username".into(),
            idx: 0,
            value: Some("u".into())
        }));
    }
}
