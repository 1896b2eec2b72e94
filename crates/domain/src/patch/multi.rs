//! Values of multi-valued attributes (RFC 7643 §2.4): when two values are the same one, and
//! which value is `primary`.

use serde_json::Value;

use crate::schema::AttributeDef;

/// Adds `new` to `items`, updating the value with the same `value` if there is one; returns
/// its index.
pub(super) fn upsert(def: &AttributeDef, items: &mut Vec<Value>, new: Value) -> usize {
    match items.iter().position(|item| same_value(def, item, &new)) {
        Some(i) => {
            if let (Value::Object(old), Value::Object(fields)) = (&mut items[i], new) {
                old.extend(fields);
            }
            i
        }
        None => {
            items.push(new);
            items.len() - 1
        }
    }
}

/// Two values of `def` are the same when their `value` sub-attributes are equal (ignoring
/// case unless caseExact); values without one compare whole.
pub(super) fn same_value(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    let value_of = |v: &Value| v.as_object().and_then(|o| o.get("value")).cloned();
    match (value_of(a), value_of(b)) {
        (Some(Value::String(x)), Some(Value::String(y))) => {
            let exact = def.sub_attribute("value").is_some_and(|s| s.case_exact);
            if exact {
                x == y
            } else {
                x.to_lowercase() == y.to_lowercase()
            }
        }
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

pub(super) fn is_primary(v: &Value) -> bool {
    v.get("primary") == Some(&Value::Bool(true))
}

/// RFC 7643 §2.4: `primary: true` appears at most once. The first of `claims` (indices of
/// values just changed) that is primary keeps the flag; every other value loses it.
pub(super) fn prefer_primary(items: &mut [Value], claims: &[usize]) {
    let Some(&winner) = claims
        .iter()
        .find(|&&i| items.get(i).is_some_and(is_primary))
    else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != winner
            && is_primary(item)
            && let Some(o) = item.as_object_mut()
        {
            o.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}
