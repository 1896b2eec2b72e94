//! Value coercion against an attribute definition: type checks (RFC 7643 §2.3), the shapes
//! identity providers send instead of the RFC ones (INTEROP 2, 9, 10) and the
//! null-means-absent rule (RFC 7644 §3.5.1). Shared by input normalisation and PATCH.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::types::{AttrType, AttributeDef, Mutability};
use crate::error::ScimError;

/// What to do with names the schema does not know.
#[derive(Debug, Default)]
pub(crate) struct Unknowns {
    pub strict: bool,
    pub ignored: Vec<String>,
}

impl Unknowns {
    pub(crate) fn new(strict: bool) -> Self {
        Self {
            strict,
            ignored: Vec::new(),
        }
    }

    /// SEMANTICS 22: unknown attributes are ignored, or refused with `invalidSyntax` when
    /// the tenant asks for a strict schema.
    pub(crate) fn unknown(&mut self, name: &str) -> Result<(), ScimError> {
        if self.strict {
            return Err(ScimError::invalid_syntax(format!(
                "unknown attribute '{name}'"
            )));
        }
        self.ignored.push(name.to_owned());
        Ok(())
    }
}

/// The member of `obj` whose key is `name`, ignoring case (RFC 7643 §2.1).
pub(crate) fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Coerces `value` for `def`, `label` naming it in errors. `Ok(None)` means absent: `null`,
/// `[]` and objects left empty are the same as no value (RFC 7644 §3.5.1).
pub(crate) fn coerce(
    def: &AttributeDef,
    value: Value,
    label: &str,
    unknowns: &mut Unknowns,
) -> Result<Option<Value>, ScimError> {
    if def.multi_valued {
        let items = match value {
            Value::Null => return Ok(None),
            Value::Array(items) => items,
            // A multi-valued attribute given as one value: wrap it.
            one => vec![one],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if item.is_array() {
                return Err(ScimError::invalid_value(format!(
                    "attribute '{label}' must not contain nested arrays"
                )));
            }
            if let Some(v) = coerce_element(def, item, label, unknowns)? {
                out.push(v);
            }
        }
        single_primary(&mut out);
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    match value {
        Value::Array(mut items) => match items.len() {
            0 => Ok(None),
            // INTEROP 10: `[{"$ref":null,"value":"x"}]` for a single-valued attribute.
            1 => {
                let item = items.remove(0);
                let item = match item {
                    Value::Object(o) if !def.is_complex() => {
                        get_ci(&o, "value").cloned().unwrap_or(Value::Object(o))
                    }
                    other => other,
                };
                coerce_element(def, item, label, unknowns)
            }
            _ => Err(ScimError::invalid_value(format!(
                "attribute '{label}' is single-valued but was given several values"
            ))),
        },
        other => coerce_element(def, other, label, unknowns),
    }
}

/// One value of `def` (the attribute itself when single-valued, an element when multi-valued).
pub(crate) fn coerce_element(
    def: &AttributeDef,
    value: Value,
    label: &str,
    unknowns: &mut Unknowns,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !def.is_complex() {
        return coerce_simple(def, value, label).map(Some);
    }
    let obj = match value {
        Value::Object(o) => o,
        // INTEROP 9: Entra sends the enterprise `manager` as a bare id; the same holds for any
        // complex attribute whose main sub-attribute is `value` (RFC 7643 §2.4).
        scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_))
            if def.sub_attribute("value").is_some() =>
        {
            Map::from_iter([("value".to_owned(), scalar)])
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "attribute '{label}' must be a complex value (a JSON object)"
            )));
        }
    };
    let mut out = Map::new();
    for (key, v) in obj {
        let Some(sub) = def.sub_attribute(&key) else {
            unknowns.unknown(&format!("{label}.{key}"))?;
            continue;
        };
        // RFC 7643 §7: values of readOnly sub-attributes sent by a client are ignored.
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(v) = coerce(sub, v, &format!("{label}.{}", sub.name), unknowns)? {
            out.insert(sub.name.to_owned(), v);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// Type checks of RFC 7643 §2.3, with Entra's string booleans accepted (INTEROP 2).
pub(crate) fn coerce_simple(
    def: &AttributeDef,
    value: Value,
    label: &str,
) -> Result<Value, ScimError> {
    let wrong =
        |what: &str| ScimError::invalid_value(format!("attribute '{label}' must be {what}"));
    match def.type_ {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(_) => Ok(value),
            _ => Err(wrong("a string")),
        },
        AttrType::Boolean => match value {
            Value::Bool(_) => Ok(value),
            Value::String(s) => parse_bool(&s)
                .map(Value::Bool)
                .ok_or_else(|| wrong("a boolean")),
            _ => Err(wrong("a boolean")),
        },
        AttrType::Integer => match value {
            Value::Number(ref n) if n.is_i64() || n.is_u64() => Ok(value),
            _ => Err(wrong("an integer")),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => Ok(value),
            _ => Err(wrong("a decimal number")),
        },
        // RFC 7643 §2.3.5: an xsd:dateTime with a time zone, which is what RFC 3339 describes.
        AttrType::DateTime => match value {
            Value::String(ref s) if OffsetDateTime::parse(s, &Rfc3339).is_ok() => Ok(value),
            _ => Err(wrong("a dateTime (RFC 3339, e.g. 2024-01-23T04:56:22Z)")),
        },
        AttrType::Complex => Err(wrong("a complex value (a JSON object)")),
    }
}

/// `"True"`, `"true"`, `"False"`, `"false"` (INTEROP 2); any case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// RFC 7643 §2.4: `primary: true` appears at most once; keep the first and clear the rest.
pub(crate) fn single_primary(items: &mut [Value]) {
    let mut seen = false;
    for item in items {
        if let Some(p) = item.as_object_mut().and_then(|o| o.get_mut("primary"))
            && *p == Value::Bool(true)
        {
            if seen {
                *p = Value::Bool(false);
            }
            seen = true;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::build::{attr, date_time};

    #[test]
    fn a_date_time_must_be_rfc_3339() {
        let def = date_time("when", "");
        assert!(coerce_simple(&def, json!("2011-05-13T04:42:34Z"), "when").is_ok());
        assert!(coerce_simple(&def, json!("2011-05-13T04:42:34.5+02:00"), "when").is_ok());
        let e = coerce_simple(&def, json!("13/05/2011"), "when").unwrap_err();
        assert!(e.detail.contains("when"));
    }

    #[test]
    fn integers_and_decimals_are_numbers() {
        let int = attr("n", AttrType::Integer, "");
        assert!(coerce_simple(&int, json!(3), "n").is_ok());
        assert!(coerce_simple(&int, json!(3.5), "n").is_err());
        assert!(coerce_simple(&int, json!("3"), "n").is_err());
        let dec = attr("d", AttrType::Decimal, "");
        assert!(coerce_simple(&dec, json!(3.5), "d").is_ok());
        assert!(coerce_simple(&dec, json!(true), "d").is_err());
    }

    #[test]
    fn boolean_strings_are_read_in_any_case() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("no"), None);
    }
}
