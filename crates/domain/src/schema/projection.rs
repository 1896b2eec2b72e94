//! Attribute projection: `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9)
//! combined with each attribute's `returned` characteristic (RFC 7643 §7).

use serde_json::{Map, Value};

use super::resource_type::{ResourceType, SchemaRef};
use super::types::{AttributeDef, Returned};
use crate::error::ScimError;

/// The `attributes` / `excludedAttributes` query parameters of one request, as written.
/// Names are resolved against a resource type (and compared ignoring case) when applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    attributes: Option<Vec<String>>,
    excluded: Vec<String>,
}

/// A parameter entry resolved against a resource type.
#[derive(Debug, Clone, Copy)]
enum Sel {
    /// A bare schema URN: every attribute of that schema.
    Schema(SchemaRef),
    Attr {
        attr: &'static AttributeDef,
        sub: Option<&'static AttributeDef>,
    },
}

/// What to keep of one top-level attribute.
enum Keep {
    No,
    /// The attribute, less its `excluded` sub-attributes; `only`, when set, lists the
    /// sub-attributes asked for by name (`name.givenName`), the only ones kept.
    Some {
        only: Option<Vec<&'static AttributeDef>>,
        excluded: Vec<&'static AttributeDef>,
    },
}

fn same_schema(a: SchemaRef, b: SchemaRef) -> bool {
    match (a, b) {
        (SchemaRef::Core, SchemaRef::Core) => true,
        (SchemaRef::Extension(x), SchemaRef::Extension(y)) => x.id == y.id,
        _ => false,
    }
}

impl Projection {
    /// Parses the two query parameters: comma-separated attribute paths
    /// (`userName`, `name.givenName`, `urn:...:enterprise:2.0:User:manager.value`, or a bare
    /// schema URN). Anything else is `invalidPath`.
    pub fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection, ScimError> {
        let attributes = match attributes.map(parse_list).transpose()? {
            Some(list) if list.is_empty() => None,
            other => other,
        };
        let excluded = excluded.map(parse_list).transpose()?.unwrap_or_default();
        Ok(Projection {
            attributes,
            excluded,
        })
    }

    /// Removes from `resource` what this request should not see. `id` and `schemas` always
    /// stay; `returned: never` attributes always go; `returned: request` ones only come back
    /// when `attributes` names them.
    pub fn apply(&self, rt: &ResourceType, resource: &mut Map<String, Value>) {
        let (only, excluded) = self.resolve(rt);
        let keys: Vec<String> = resource.keys().cloned().collect();
        for key in keys {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(ext) = rt.extension(&key) {
                let schema = SchemaRef::Extension(ext.schema);
                let drop_all = excluded
                    .iter()
                    .any(|s| matches!(s, Sel::Schema(x) if same_schema(*x, schema)));
                let kept = match resource.get_mut(&key) {
                    Some(Value::Object(attrs)) if !drop_all => {
                        project_attrs(rt, schema, attrs, only.as_deref(), &excluded);
                        !attrs.is_empty()
                    }
                    _ => false,
                };
                if !kept {
                    resource.remove(&key);
                }
                continue;
            }
            let Some(def) = rt.core_attribute(&key) else {
                // Not a schema attribute (nothing stores such a key today): default rules.
                if only.is_some() {
                    resource.remove(&key);
                }
                continue;
            };
            let keep = decide(SchemaRef::Core, def, only.as_deref(), &excluded);
            if let Some(v) = resource.get_mut(&key)
                && !project_value(def, v, keep)
            {
                resource.remove(&key);
            }
        }
    }

    /// Whether `path_attr` (a top-level attribute, URN-qualified or not) would be returned,
    /// so a caller can skip loading it (e.g. `wants(group(), "members")` is false under
    /// `excludedAttributes=members`). Unknown names answer `true`.
    pub fn wants(&self, rt: &ResourceType, path_attr: &str) -> bool {
        let (schema, name) = rt
            .split_qualified(path_attr)
            .unwrap_or((SchemaRef::Core, path_attr));
        let Some(def) = rt.attribute_in(schema, name) else {
            return true;
        };
        let (only, excluded) = self.resolve(rt);
        !matches!(decide(schema, def, only.as_deref(), &excluded), Keep::No)
    }

    fn resolve(&self, rt: &ResourceType) -> (Option<Vec<Sel>>, Vec<Sel>) {
        let all = |list: &[String]| {
            list.iter()
                .filter_map(|s| resolve(rt, s))
                .collect::<Vec<_>>()
        };
        (self.attributes.as_deref().map(all), all(&self.excluded))
    }
}

/// Unknown names select nothing (RFC 7644 §3.9 does not make them an error).
fn resolve(rt: &ResourceType, s: &str) -> Option<Sel> {
    if rt.is_core_urn(s) {
        return Some(Sel::Schema(SchemaRef::Core));
    }
    if let Some(ext) = rt.extension(s) {
        return Some(Sel::Schema(SchemaRef::Extension(ext.schema)));
    }
    let (schema, path) = rt.split_qualified(s).unwrap_or((SchemaRef::Core, s));
    let (attr, sub) = match path.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (path, None),
    };
    let attr = rt.attribute_in(schema, attr)?;
    let sub = match sub {
        Some(s) => Some(attr.sub_attribute(s)?),
        None => None,
    };
    Some(Sel::Attr { attr, sub })
}

fn decide(
    schema: SchemaRef,
    def: &'static AttributeDef,
    only: Option<&[Sel]>,
    excluded: &[Sel],
) -> Keep {
    let this = |s: &Sel| matches!(s, Sel::Attr { attr, .. } if std::ptr::eq(*attr, def));
    let subs_of = |list: &[Sel]| -> Vec<&'static AttributeDef> {
        list.iter()
            .filter_map(|s| match s {
                Sel::Attr {
                    attr,
                    sub: Some(sub),
                    ..
                } if std::ptr::eq(*attr, def) => Some(*sub),
                _ => None,
            })
            .collect()
    };
    match def.returned {
        Returned::Always => {
            return Keep::Some {
                only: None,
                excluded: Vec::new(),
            };
        }
        Returned::Never => return Keep::No,
        Returned::Default | Returned::Request => {}
    }
    let only = match only {
        None if def.returned == Returned::Request => return Keep::No,
        None => None,
        Some(list) => {
            let named = list
                .iter()
                .any(|s| this(s) && matches!(s, Sel::Attr { sub: None, .. }));
            // A bare schema URN selects that schema's default attributes, not the
            // `returned: request` ones, which must be named (RFC 7643 §7).
            let by_schema = def.returned == Returned::Default
                && list
                    .iter()
                    .any(|s| matches!(s, Sel::Schema(x) if same_schema(*x, schema)));
            let subs = subs_of(list);
            if named || by_schema {
                None
            } else if !subs.is_empty() {
                Some(subs)
            } else {
                return Keep::No;
            }
        }
    };
    let whole_excluded = excluded.iter().any(|s| {
        (this(s) && matches!(s, Sel::Attr { sub: None, .. }))
            || matches!(s, Sel::Schema(x) if same_schema(*x, schema))
    });
    if whole_excluded {
        return Keep::No;
    }
    Keep::Some {
        only,
        excluded: subs_of(excluded),
    }
}

/// Projects the attributes of one schema held in `attrs` (an extension object).
fn project_attrs(
    rt: &ResourceType,
    schema: SchemaRef,
    attrs: &mut Map<String, Value>,
    only: Option<&[Sel]>,
    excluded: &[Sel],
) {
    attrs.retain(|key, v| match rt.attribute_in(schema, key) {
        Some(def) => project_value(def, v, decide(schema, def, only, excluded)),
        None => only.is_none(),
    });
}

/// Applies `keep` to the value of `def`; false when nothing is left.
fn project_value(def: &AttributeDef, value: &mut Value, keep: Keep) -> bool {
    let Keep::Some { only, excluded } = keep else {
        return false;
    };
    if !def.is_complex() {
        return true;
    }
    let project = |o: &mut Map<String, Value>| {
        o.retain(|k, _| {
            let Some(sub) = def.sub_attribute(k) else {
                return only.is_none();
            };
            let asked = only
                .as_ref()
                .map(|l| l.iter().any(|s| std::ptr::eq(*s, sub)));
            match sub.returned {
                Returned::Always => true,
                Returned::Never => false,
                Returned::Request => asked == Some(true),
                Returned::Default => {
                    asked.unwrap_or(true) && !excluded.iter().any(|s| std::ptr::eq(*s, sub))
                }
            }
        });
        !o.is_empty()
    };
    match value {
        Value::Object(o) => project(o),
        Value::Array(items) => {
            items.retain_mut(|item| match item {
                Value::Object(o) => project(o),
                _ => true,
            });
            !items.is_empty()
        }
        _ => true,
    }
}

/// Splits a parameter on commas outside brackets and quotes.
fn parse_list(param: &str) -> Result<Vec<String>, ScimError> {
    let mut items = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0usize, false, false, 0usize);
    for (i, c) in param.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.checked_sub(1).ok_or_else(|| bad(param))?,
            ',' if !quoted && depth == 0 => {
                items.push(&param[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted || depth != 0 {
        return Err(bad(param));
    }
    items.push(&param[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_item)
        .collect()
}

fn bad(item: &str) -> ScimError {
    ScimError::invalid_path(format!("'{item}' is not an attribute path"))
}

fn parse_item(item: &str) -> Result<String, ScimError> {
    // Microsoft's test collection sends `attributes=emails[type eq "work"]`, which RFC 7644
    // §3.9 does not allow (attribute names only). We accept it and project the attribute
    // before the `[` (with a sub-attribute after the `]`, `emails[...].value` → `emails.value`);
    // the filter itself is not applied to the returned values.
    let name = match item.split_once('[') {
        Some((head, tail)) => {
            let (_, after) = tail.rsplit_once(']').ok_or_else(|| bad(item))?;
            format!("{head}{after}")
        }
        None => item.to_owned(),
    };
    if valid_path(&name) {
        Ok(name)
    } else {
        Err(bad(item))
    }
}

/// RFC 7644 §3.10: `[URN ":"] ATTRNAME ["." ATTRNAME]`, ATTRNAME = ALPHA *(nameChar), plus
/// `$ref`; a bare schema URN too.
fn valid_path(s: &str) -> bool {
    let is_urn = s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let (urn, path) = match s.rsplit_once(':') {
        Some((urn, path)) if is_urn => (urn, path),
        Some(_) => return false,
        None => ("", s),
    };
    let urn_ok = urn
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ":.-_".contains(c));
    let name_ok = |n: &str| {
        n == "$ref"
            || n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let mut parts = path.split('.');
    let attr_ok = parts.next().is_some_and(name_ok);
    let sub_ok = parts.next().is_none_or(name_ok);
    urn_ok && attr_ok && sub_ok && parts.next().is_none()
}

#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;
