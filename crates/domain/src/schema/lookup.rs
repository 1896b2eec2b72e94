//! The filter evaluator's view of the schema (`crate::filter::AttrLookup`): attribute types
//! and `caseExact` for a resource type, and for the sub-attributes inside a value filter.

use super::resource_type::ResourceType;
use super::types::{AttrType, AttributeDef};
use crate::filter::{AttrLookup, AttrPath};

/// The sub-attributes of one complex attribute: the scope of the paths inside
/// `emails[type eq "work"]` (RFC 7644 §3.4.2.2, `valFilter`).
#[derive(Debug, Clone, Copy)]
pub struct ComplexScope(pub Option<&'static AttributeDef>);

impl AttrLookup for ResourceType {
    fn semantics(&self, path: &AttrPath) -> Option<(AttrType, bool)> {
        self.attribute(path).map(|a| (a.type_, a.case_exact))
    }

    fn scope(&self, path: &AttrPath) -> Box<dyn AttrLookup + '_> {
        Box::new(ComplexScope(
            self.resolve(path)
                .map(|r| r.target())
                .filter(|a| a.is_complex()),
        ))
    }
}

impl AttrLookup for ComplexScope {
    fn semantics(&self, path: &AttrPath) -> Option<(AttrType, bool)> {
        if path.urn.is_some() || path.sub.is_some() {
            return None;
        }
        let sub = self.0?.sub_attribute(&path.attr)?;
        Some((sub.type_, sub.case_exact))
    }

    /// Sub-attributes are never complex (RFC 7643 §2.3.8), so nothing nests further.
    fn scope(&self, _path: &AttrPath) -> Box<dyn AttrLookup + '_> {
        Box::new(ComplexScope(None))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::filter::{matches, parse_filter};
    use crate::schema::{group, user};

    fn user_matches(filter: &str, resource: serde_json::Value) -> bool {
        matches(&parse_filter(filter).unwrap(), &resource, user())
    }

    #[test]
    fn a_resource_type_reports_type_and_case_exactness() {
        assert_eq!(
            user().semantics(&AttrPath::new("userName")),
            Some((AttrType::String, false))
        );
        assert_eq!(
            user().semantics(&AttrPath::new("id")),
            Some((AttrType::String, true))
        );
        assert_eq!(
            user().semantics(&AttrPath::new("active")),
            Some((AttrType::Boolean, false))
        );
        assert_eq!(user().semantics(&AttrPath::new("nope")), None);
    }

    #[test]
    fn a_value_filter_scope_knows_the_sub_attributes() {
        let scope = user().scope(&AttrPath::new("emails"));
        assert_eq!(
            scope.semantics(&AttrPath::new("TYPE")),
            Some((AttrType::String, false))
        );
        assert_eq!(
            scope.semantics(&AttrPath::new("primary")),
            Some((AttrType::Boolean, false))
        );
        assert_eq!(
            user()
                .scope(&AttrPath::new("userName"))
                .semantics(&AttrPath::new("type")),
            None
        );
        let members = group().scope(&AttrPath::new("members"));
        assert_eq!(
            members.semantics(&AttrPath::new("value")),
            Some((AttrType::String, false))
        );
    }

    #[test]
    fn user_name_filters_ignore_case_and_ids_do_not() {
        // INTEROP 15.
        let r = json!({"id": "AbC", "userName": "BJensen@Example.com",
                       "emails": [{"value": "b@x", "type": "work"}]});
        assert!(user_matches(
            r#"userName eq "bjensen@example.com""#,
            r.clone()
        ));
        assert!(!user_matches(r#"id eq "abc""#, r.clone()));
        assert!(user_matches(r#"emails[type eq "WORK"]"#, r));
    }
}
