//! The in-memory filter evaluator (RFC 7644 §3.4.2.2 semantics), used for value-filter PATCH
//! paths and tests; searches over stored resources are translated to SQL by the store.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::schema::AttrType;

/// What the evaluator needs to know about the schema: attribute types and `caseExact`.
pub trait AttrLookup {
    /// Type and caseExact of `path` in this scope; None when the schema does not know it.
    fn semantics(&self, path: &AttrPath) -> Option<(AttrType, bool)>;
    /// The scope of the sub-attributes of `path` (for `emails[...]`).
    fn scope(&self, path: &AttrPath) -> Box<dyn AttrLookup + '_>;
}

/// True when `resource` matches `filter` (RFC 7644 §3.4.2.2).
///
/// - Attribute names (and extension URNs, which key the extension object) match JSON keys
///   ignoring case. A URN path looks inside the object keyed by its URN; a core-schema URN
///   (`urn:ietf:params:scim:schemas:core:...`) not present as a key looks at the top level.
/// - A multi-valued attribute matches when any value matches. A comparison on a complex
///   attribute without a sub-attribute (`emails co "x"`) compares its `value` sub-attribute.
/// - Strings compare ignoring case unless caseExact; numbers numerically; dateTime values as
///   instants (RFC 3339, any fractional precision; no offset is read as UTC); booleans with
///   `eq`/`ne` only. Attributes the lookup does not know are caseInsensitive strings.
/// - An absent or null attribute compares as `null`: `eq null` and `ne "x"` match it, every
///   other comparison does not. `pr` needs a value that is not null, `""`, `[]` or `{}`.
pub fn matches(filter: &Filter, resource: &Value, lookup: &dyn AttrLookup) -> bool {
    match filter {
        Filter::And(l, r) => matches(l, resource, lookup) && matches(r, resource, lookup),
        Filter::Or(l, r) => matches(l, resource, lookup) || matches(r, resource, lookup),
        Filter::Not(inner) => !matches(inner, resource, lookup),
        Filter::Present(path) => resolve(resource, path).into_iter().any(is_present),
        Filter::ValuePath { path, filter } => {
            let scope = lookup.scope(path);
            resolve(resource, path)
                .into_iter()
                .any(|element| element.is_object() && matches(filter, element, scope.as_ref()))
        }
        Filter::Compare { path, op, value } => compare_path(resource, path, *op, value, lookup),
    }
}

fn compare_path(
    resource: &Value,
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
    lookup: &dyn AttrLookup,
) -> bool {
    let found = resolve(resource, path);
    if found.is_empty() {
        return compare(&Value::Null, op, value, (AttrType::String, false));
    }
    let direct = lookup.semantics(path).unwrap_or((AttrType::String, false));
    let value_path = AttrPath {
        sub: Some("value".to_owned()),
        ..path.clone()
    };
    found.into_iter().any(|actual| match actual {
        // RFC 7644 §3.4.2.2: a filter on a complex attribute compares its "value".
        Value::Object(map) if path.sub.is_none() => {
            let semantics = lookup
                .semantics(&value_path)
                .unwrap_or((AttrType::String, false));
            compare(
                get(map, "value").unwrap_or(&Value::Null),
                op,
                value,
                semantics,
            )
        }
        actual => compare(actual, op, value, direct),
    })
}

/// The values `path` names in `resource`, multi-valued attributes flattened.
fn resolve<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(root) = resource.as_object() else {
        return Vec::new();
    };
    let base = match &path.urn {
        None => Some(root),
        Some(urn) => match get(root, urn) {
            Some(extension) => extension.as_object(),
            None if is_core_urn(urn) => Some(root),
            None => None,
        },
    };
    let mut values = Vec::new();
    if let Some(v) = base.and_then(|b| get(b, &path.attr)) {
        flatten(v, &mut values);
    }
    let Some(sub) = &path.sub else {
        return values;
    };
    let mut subs = Vec::new();
    for v in values {
        if let Some(s) = v.as_object().and_then(|o| get(o, sub)) {
            flatten(s, &mut subs);
        }
    }
    subs
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => out.extend(items),
        v => out.push(v),
    }
}

/// A JSON key, ignoring ASCII case (RFC 7643 §2.1: attribute names are case-insensitive).
fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn is_core_urn(urn: &str) -> bool {
    const CORE: &str = "urn:ietf:params:scim:schemas:core:";
    urn.get(..CORE.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(CORE))
}

/// RFC 7644 §3.4.2.2 `pr`: a non-empty value, or a complex value with a non-empty node.
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(map) => map.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(
    actual: &Value,
    op: CompareOp,
    expected: &CompValue,
    (ty, case_exact): (AttrType, bool),
) -> bool {
    match (actual, expected) {
        (Value::Null, CompValue::Null) => op == CompareOp::Eq,
        (Value::Null, _) | (_, CompValue::Null) => op == CompareOp::Ne,
        (Value::Bool(a), CompValue::Bool(b)) => equality(op, a == b),
        (Value::Bool(a), CompValue::Str(s))
            if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
        {
            equality(op, *a == s.eq_ignore_ascii_case("true"))
        }
        (Value::Number(a), CompValue::Num(b)) => ordered(op, compare_numbers(a, b)),
        (Value::Number(a), CompValue::Str(s)) => {
            match s.parse::<f64>().ok().and_then(Number::from_f64) {
                Some(b) => ordered(op, compare_numbers(a, &b)),
                None => op == CompareOp::Ne,
            }
        }
        (Value::String(a), expected) => compare_strings(a, op, expected, ty, case_exact),
        // A type mismatch (e.g. a boolean against a number) is never equal.
        _ => op == CompareOp::Ne,
    }
}

fn compare_strings(
    actual: &str,
    op: CompareOp,
    expected: &CompValue,
    ty: AttrType,
    case_exact: bool,
) -> bool {
    let expected = match expected {
        CompValue::Str(s) => s.clone(),
        CompValue::Num(n) => n.to_string(),
        CompValue::Bool(b) => b.to_string(),
        CompValue::Null => return op == CompareOp::Ne,
    };
    // RFC 7644 §3.4.2.2: gt/ge/lt/le on Boolean or Binary attributes fail.
    if op.is_ordering() && matches!(ty, AttrType::Boolean | AttrType::Binary) {
        return false;
    }
    if ty == AttrType::DateTime
        && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
        && let (Some(a), Some(b)) = (parse_instant(actual), parse_instant(&expected))
    {
        return ordered(op, Some(a.cmp(&b)));
    }
    let fold = |s: &str| {
        if case_exact {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let (a, b) = (fold(actual), fold(&expected));
    match op {
        CompareOp::Co => a.contains(&b),
        CompareOp::Sw => a.starts_with(&b),
        CompareOp::Ew => a.ends_with(&b),
        op => ordered(op, Some(a.cmp(&b))),
    }
}

/// RFC 7643 §2.3.5: dateTime is xsd:dateTime; RFC 3339 with any number of fractional digits,
/// and without an offset read as UTC.
pub(super) fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .or_else(|| OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339).ok())
}

fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn equality(op: CompareOp, equal: bool) -> bool {
    match op {
        CompareOp::Eq => equal,
        CompareOp::Ne => !equal,
        _ => false,
    }
}

/// Applies an ordering operator; `co`/`sw`/`ew` do not apply to ordered (non-string) values.
fn ordered(op: CompareOp, ord: Option<Ordering>) -> bool {
    let Some(ord) = ord else {
        return op == CompareOp::Ne;
    };
    match op {
        CompareOp::Eq => ord.is_eq(),
        CompareOp::Ne => ord.is_ne(),
        CompareOp::Gt => ord.is_gt(),
        CompareOp::Ge => ord.is_ge(),
        CompareOp::Lt => ord.is_lt(),
        CompareOp::Le => ord.is_le(),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
