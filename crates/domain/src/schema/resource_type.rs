//! Resource types (RFC 7643 §6): which schemas make up a User and a Group, and attribute lookup
//! by path across the core schema, the common attributes and the extensions.

use std::sync::LazyLock;

use super::types::{AttributeDef, Schema};
use super::{common, enterprise};
use crate::filter::AttrPath;

/// A schema extension of a resource type (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug)]
pub struct SchemaExtension {
    pub schema: &'static Schema,
    pub required: bool,
}

#[derive(Debug)]
pub struct ResourceType {
    /// Also the resource type's `id` (RFC 7643 §6).
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static Schema,
    pub extensions: Vec<SchemaExtension>,
}

/// The schema an attribute belongs to.
#[derive(Debug, Clone, Copy)]
pub enum SchemaRef {
    /// The resource type's core schema, or a common attribute (RFC 7643 §3.1).
    Core,
    Extension(&'static Schema),
}

/// An attribute path resolved against a resource type.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    pub schema: SchemaRef,
    pub attr: &'a AttributeDef,
    pub sub: Option<&'a AttributeDef>,
}

impl<'a> Resolved<'a> {
    /// The definition the path ends at: the sub-attribute if there is one.
    pub fn target(&self) -> &'a AttributeDef {
        self.sub.unwrap_or(self.attr)
    }
}

static USER_SCHEMA: LazyLock<Schema> = LazyLock::new(super::user::schema);
static ENTERPRISE_SCHEMA: LazyLock<Schema> = LazyLock::new(enterprise::schema);
static ACCESS_SCHEMA: LazyLock<Schema> = LazyLock::new(super::access_ext::schema);
static GROUP_SCHEMA: LazyLock<Schema> = LazyLock::new(super::group::schema);
static COMMON: LazyLock<Vec<AttributeDef>> = LazyLock::new(common::attributes);

static USER: LazyLock<ResourceType> = LazyLock::new(|| ResourceType {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: vec![
        SchemaExtension {
            schema: &ENTERPRISE_SCHEMA,
            required: false,
        },
        SchemaExtension {
            schema: &ACCESS_SCHEMA,
            required: false,
        },
    ],
});

static GROUP: LazyLock<ResourceType> = LazyLock::new(|| ResourceType {
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP_SCHEMA,
    extensions: Vec::new(),
});

pub fn user() -> &'static ResourceType {
    &USER
}

pub fn group() -> &'static ResourceType {
    &GROUP
}

/// Every schema `/Schemas` publishes: User, Enterprise User, our access extension, Group.
pub fn schemas() -> [&'static Schema; 4] {
    [
        &USER_SCHEMA,
        &ENTERPRISE_SCHEMA,
        &ACCESS_SCHEMA,
        &GROUP_SCHEMA,
    ]
}

/// `id`, `externalId` and `meta` (RFC 7643 §3.1).
pub fn common_attributes() -> &'static [AttributeDef] {
    &COMMON
}

/// `key` without its `urn:` prefix when it starts with `urn` followed by `:` (any case).
fn strip_prefix_ci<'k>(key: &'k str, urn: &str) -> Option<&'k str> {
    let head = key.get(..urn.len())?;
    let rest = key.get(urn.len()..)?;
    (head.eq_ignore_ascii_case(urn) && rest.starts_with(':')).then(|| &rest[1..])
}

impl ResourceType {
    /// All the schema URNs of this resource type, core first.
    pub fn schema_urns(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.schema.id).chain(self.extensions.iter().map(|e| e.schema.id))
    }

    pub fn is_core_urn(&self, urn: &str) -> bool {
        self.schema.id.eq_ignore_ascii_case(urn)
    }

    /// The extension whose URN is `urn`, ignoring case.
    pub fn extension(&self, urn: &str) -> Option<&SchemaExtension> {
        self.extensions
            .iter()
            .find(|e| e.schema.id.eq_ignore_ascii_case(urn))
    }

    /// A core or common attribute by its unqualified name (RFC 7644 §3.10: unqualified names
    /// belong to the core schema).
    pub fn core_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        let schema: &'static Schema = self.schema;
        common_attributes()
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .or_else(|| schema.attribute(name))
    }

    /// Splits a URN-qualified name (`urn:...:enterprise:2.0:User:employeeNumber`,
    /// `urn:...:core:2.0:User:userName`) into its schema and the rest (`employeeNumber`).
    /// `None` when `key` is not qualified by one of this type's schemas.
    pub fn split_qualified<'k>(&self, key: &'k str) -> Option<(SchemaRef, &'k str)> {
        // Extensions first: their URNs may share a prefix with the core one.
        self.extensions
            .iter()
            .find_map(|e| {
                strip_prefix_ci(key, e.schema.id).map(|r| (SchemaRef::Extension(e.schema), r))
            })
            .or_else(|| strip_prefix_ci(key, self.schema.id).map(|r| (SchemaRef::Core, r)))
    }

    /// The attribute `name` in `schema`.
    pub fn attribute_in(&self, schema: SchemaRef, name: &str) -> Option<&'static AttributeDef> {
        match schema {
            SchemaRef::Core => self.core_attribute(name),
            SchemaRef::Extension(s) => s.attribute(name),
        }
    }

    /// Resolves `[urn:]attr[.sub]` (RFC 7644 §3.10), ignoring case. A path whose `attr` still
    /// carries a URN prefix (`urn: None, attr: "urn:...:User:employeeNumber"`) is accepted too.
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved<'static>> {
        let (schema, name) = match &path.urn {
            Some(urn) if self.is_core_urn(urn) => (SchemaRef::Core, path.attr.as_str()),
            Some(urn) => (
                SchemaRef::Extension(self.extension(urn)?.schema),
                path.attr.as_str(),
            ),
            None => self
                .split_qualified(&path.attr)
                .unwrap_or((SchemaRef::Core, &path.attr)),
        };
        let attr = self.attribute_in(schema, name)?;
        let sub = match &path.sub {
            Some(s) => Some(attr.sub_attribute(s)?),
            None => None,
        };
        Some(Resolved { schema, attr, sub })
    }

    /// The definition `path` names: the sub-attribute for `attr.sub`, else the attribute.
    pub fn attribute(&self, path: &AttrPath) -> Option<&AttributeDef> {
        self.resolve(path).map(|r| r.target())
    }

    /// The complex attribute whose sub-attributes the paths inside a value filter
    /// (`emails[type eq "work"]`) name; `None` unless `path` is a complex attribute.
    pub fn sub_scope(&self, path: &AttrPath) -> Option<&AttributeDef> {
        self.attribute(path).filter(|a| a.is_complex())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::schema::{AttrType, Mutability, Returned};

    fn path(urn: Option<&str>, attr: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            urn: urn.map(Into::into),
            attr: attr.into(),
            sub: sub.map(Into::into),
        }
    }

    #[test]
    fn attribute_names_resolve_ignoring_case() {
        let a = user().attribute(&path(None, "USERNAME", None)).unwrap();
        assert_eq!(a.name, "userName");
        let s = user()
            .attribute(&path(None, "Name", Some("GIVENNAME")))
            .unwrap();
        assert_eq!(s.name, "givenName");
    }

    #[test]
    fn the_core_urn_prefix_is_allowed_in_any_case() {
        let urn = "URN:ietf:params:scim:schemas:core:2.0:user";
        assert_eq!(
            user()
                .attribute(&path(Some(urn), "userName", None))
                .unwrap()
                .name,
            "userName"
        );
        let qualified = "urn:ietf:params:scim:schemas:core:2.0:User:emails";
        let r = user()
            .resolve(&path(None, qualified, Some("value")))
            .unwrap();
        assert_eq!(r.target().name, "value");
        assert_eq!(r.attr.name, "emails");
    }

    #[test]
    fn extension_attributes_resolve_only_under_their_urn() {
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";
        let r = user()
            .resolve(&path(Some(urn), "manager", Some("value")))
            .unwrap();
        assert!(
            matches!(r.schema, SchemaRef::Extension(s) if s.id == crate::schema::ENTERPRISE_USER_URN)
        );
        assert!(
            user()
                .attribute(&path(None, "employeeNumber", None))
                .is_none()
        );
        let qualified = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
        assert_eq!(
            user().attribute(&path(None, qualified, None)).unwrap().name,
            "employeeNumber"
        );
    }

    #[test]
    fn a_bare_extension_urn_is_not_an_attribute() {
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert!(user().attribute(&path(None, urn, None)).is_none());
        assert!(user().extension(urn).is_some());
    }

    #[test]
    fn common_attributes_belong_to_every_resource_type() {
        for rt in [user(), group()] {
            let id = rt.attribute(&AttrPath::new("id")).unwrap();
            assert!(id.case_exact);
            assert_eq!(id.mutability, Mutability::ReadOnly);
            assert_eq!(id.returned, Returned::Always);
            assert!(
                rt.attribute(&AttrPath::new("externalId"))
                    .unwrap()
                    .case_exact
            );
            let created = rt
                .attribute(&AttrPath::with_sub("meta", "created"))
                .unwrap();
            assert_eq!(created.type_, AttrType::DateTime);
        }
    }

    #[test]
    fn unknown_names_and_unknown_urns_resolve_to_nothing() {
        assert!(user().attribute(&AttrPath::new("shoeSize")).is_none());
        assert!(
            user()
                .attribute(&AttrPath::with_sub("name", "nope"))
                .is_none()
        );
        assert!(
            user()
                .attribute(&path(Some("urn:x:y"), "userName", None))
                .is_none()
        );
        assert!(group().attribute(&AttrPath::new("userName")).is_none());
    }

    #[test]
    fn a_value_filter_scope_is_the_complex_attribute() {
        assert_eq!(
            user().sub_scope(&AttrPath::new("emails")).unwrap().name,
            "emails"
        );
        assert!(user().sub_scope(&AttrPath::new("userName")).is_none());
    }

    #[test]
    fn schemas_are_user_enterprise_access_and_group() {
        let ids: Vec<_> = schemas().iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            vec![
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                crate::access::ACCESS_EXTENSION_URN,
                "urn:ietf:params:scim:schemas:core:2.0:Group"
            ]
        );
        assert_eq!(user().schema_urns().count(), 3);
    }
}
