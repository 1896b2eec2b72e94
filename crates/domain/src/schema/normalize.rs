//! Input normalisation for POST and PUT bodies (RFC 7644 §3.3, §3.5.1): one canonical map per
//! resource, whatever spelling, casing or IdP-specific shape the client used.

use serde_json::{Map, Value};

use super::resource_type::{ResourceType, SchemaRef};
use super::types::{AttrType, Mutability, Schema};
use super::value::{Unknowns, coerce, get_ci};
use crate::error::ScimError;

/// A body reduced to what the schema defines and a client may set.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// Attributes under the schema's spelling; extension attributes under their URN key;
    /// `schemas` lists the core URN and each extension present.
    pub resource: Map<String, Value>,
    /// Unknown attribute names that were dropped (empty when `strict`).
    pub ignored: Vec<String>,
}

/// Validates and canonicalises a resource body for `rt`.
///
/// Read-only attributes (`id`, `meta`, `groups`) are dropped silently (RFC 7643 §7), as is
/// `password` (write-only; this service stores none). Unknown attributes are dropped and listed
/// in `ignored`, or refused with `invalidSyntax` when `strict`.
pub fn normalize(rt: &ResourceType, input: Value, strict: bool) -> Result<Normalized, ScimError> {
    let Value::Object(body) = input else {
        return Err(ScimError::invalid_syntax(
            "the request body must be a JSON object",
        ));
    };
    check_schemas(rt, &body)?;

    let mut unknowns = Unknowns::new(strict);
    let mut out = Attrs {
        core: Map::new(),
        extensions: rt
            .extensions
            .iter()
            .map(|e| (e.schema, Map::new()))
            .collect(),
    };
    let mut put = |schema: SchemaRef, name: &str, value: Value, unknowns: &mut Unknowns| {
        put_attribute(rt, schema, name, value, &mut out, unknowns)
    };

    for (key, value) in body {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(&key) {
            // RFC 7643 §3.3: extension attributes live in an object under the extension URN.
            match value {
                Value::Null => {}
                Value::Object(attrs) => {
                    for (name, v) in attrs {
                        put(SchemaRef::Extension(ext.schema), &name, v, &mut unknowns)?;
                    }
                }
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "'{}' must be an object of extension attributes",
                        ext.schema.id
                    )));
                }
            }
        } else if let Some((schema, name)) = rt.split_qualified(&key) {
            // RFC 7644 §3.10: a fully qualified name, `urn:...:User:employeeNumber`.
            put(schema, name, value, &mut unknowns)?;
        } else if rt.core_attribute(&key).is_some() {
            put(SchemaRef::Core, &key, value, &mut unknowns)?;
        } else {
            unknowns.unknown(&key)?;
        }
    }

    let Attrs {
        mut core,
        extensions,
    } = out;
    check_required(rt, SchemaRef::Core, &core)?;
    let mut schemas = vec![Value::from(rt.schema.id)];
    for (ext, (schema, attrs)) in rt.extensions.iter().zip(extensions) {
        if attrs.is_empty() {
            if ext.required {
                return Err(ScimError::invalid_value(format!(
                    "the extension '{}' is required",
                    schema.id
                )));
            }
            continue;
        }
        check_required(rt, SchemaRef::Extension(schema), &attrs)?;
        schemas.push(schema.id.into());
        core.insert(schema.id.to_owned(), Value::Object(attrs));
    }
    core.insert("schemas".to_owned(), Value::Array(schemas));
    Ok(Normalized {
        resource: core,
        ignored: unknowns.ignored,
    })
}

/// The attributes kept so far, per schema.
struct Attrs {
    core: Map<String, Value>,
    extensions: Vec<(&'static Schema, Map<String, Value>)>,
}

impl Attrs {
    fn of(&mut self, schema: SchemaRef) -> Option<&mut Map<String, Value>> {
        match schema {
            SchemaRef::Core => Some(&mut self.core),
            SchemaRef::Extension(s) => self
                .extensions
                .iter_mut()
                .find(|(e, _)| e.id == s.id)
                .map(|(_, m)| m),
        }
    }
}

/// Coerces one attribute and stores it under the schema's spelling.
fn put_attribute(
    rt: &ResourceType,
    schema: SchemaRef,
    name: &str,
    value: Value,
    out: &mut Attrs,
    unknowns: &mut Unknowns,
) -> Result<(), ScimError> {
    let (Some(def), Some(target)) = (rt.attribute_in(schema, name), out.of(schema)) else {
        return unknowns.unknown(&match schema {
            SchemaRef::Core => name.to_owned(),
            SchemaRef::Extension(s) => format!("{}:{name}", s.id),
        });
    };
    // RFC 7643 §7: readOnly values sent by a client are ignored; the write-only `password`
    // is not stored at all.
    if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
        return Ok(());
    }
    if def.name == "members" && rt.name == "Group" {
        member_ids(&value)?;
    }
    match coerce(def, value, def.name, unknowns)? {
        Some(v) => target.insert(def.name.to_owned(), v),
        None => target.remove(def.name),
    };
    Ok(())
}

/// RFC 7643 §3: `schemas` is required and must name the resource type's core schema.
fn check_schemas(rt: &ResourceType, body: &Map<String, Value>) -> Result<(), ScimError> {
    let listed = match get_ci(body, "schemas") {
        Some(Value::Array(items)) => items
            .iter()
            .any(|u| u.as_str().is_some_and(|u| rt.is_core_urn(u))),
        Some(Value::String(u)) => rt.is_core_urn(u),
        _ => false,
    };
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "'schemas' must list '{}'",
            rt.schema.id
        )))
    }
}

/// RFC 7643 §2.2 `required`; RFC 7643 §4.1.1: `userName` must be non-empty.
fn check_required(
    rt: &ResourceType,
    schema: SchemaRef,
    attrs: &Map<String, Value>,
) -> Result<(), ScimError> {
    let defs = match schema {
        SchemaRef::Core => &rt.schema.attributes,
        SchemaRef::Extension(s) => &s.attributes,
    };
    for def in defs.iter().filter(|d| d.required) {
        match attrs.get(def.name) {
            None => {
                return Err(ScimError::invalid_value(format!(
                    "attribute '{}' is required",
                    def.name
                )));
            }
            Some(Value::String(s)) if def.type_ == AttrType::String && s.trim().is_empty() => {
                return Err(ScimError::invalid_value(format!(
                    "attribute '{}' must not be empty",
                    def.name
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The member ids of a Group `members` value: an array of `{"value": id, ...}` objects (or one
/// such object). A member without a `value` is refused with `invalidValue` (RFC 7643 §4.2:
/// `value` is the member's `id`).
pub(crate) fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.as_slice(),
        one => std::slice::from_ref(one),
    };
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item {
            Value::Object(o) => get_ci(o, "value").and_then(Value::as_str),
            _ => None,
        };
        match id.map(str::trim) {
            Some(id) if !id.is_empty() => ids.push(id.to_owned()),
            _ => {
                return Err(ScimError::invalid_value(
                    "every element of 'members' must have a non-empty 'value' (the member's id)",
                ));
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
