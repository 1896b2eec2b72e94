//! What one PATCH operation does to its target (RFC 7644 §3.5.2.1–§3.5.2.3): a plain
//! attribute, a sub-attribute, or the values of a multi-valued attribute a value filter selects.

use serde_json::{Map, Value};

use super::multi::{is_primary, prefer_primary, same_value, upsert};
use super::request::OpKind;
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter, matches};
use crate::schema::{
    AttributeDef, ComplexScope, SchemaRef, Unknowns, coerce, coerce_element, coerce_simple,
};

/// The operation being applied and where its errors point.
pub(super) struct Ctx<'u> {
    pub kind: OpKind,
    pub unknowns: &'u mut Unknowns,
    /// The path (or attribute) as the client wrote it.
    pub label: String,
}

impl Ctx<'_> {
    fn coerce(&mut self, def: &AttributeDef, value: Value) -> Result<Option<Value>, ScimError> {
        coerce(def, value, &self.label, self.unknowns)
    }

    fn no_target(&self) -> ScimError {
        ScimError::no_target(format!("no value matches '{}'", self.label))
    }
}

/// Removes the member called `name` (any case) from `map`.
pub(super) fn take_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = map.keys().find(|k| k.eq_ignore_ascii_case(name))?.clone();
    map.remove(&key)
}

/// The object holding `schema`'s attributes: the resource itself, or the object under an
/// extension URN (created when `create`; re-keyed to the schema's spelling).
pub(super) fn container(
    work: &mut Map<String, Value>,
    schema: SchemaRef,
    create: bool,
) -> Option<&mut Map<String, Value>> {
    let SchemaRef::Extension(s) = schema else {
        return Some(work);
    };
    let existing = take_ci(work, s.id).filter(Value::is_object);
    if existing.is_none() && !create {
        return None;
    }
    let slot = work
        .entry(s.id)
        .or_insert(existing.unwrap_or_else(|| Value::Object(Map::new())));
    slot.as_object_mut()
}

/// add / replace of a whole attribute (no filter, no sub-attribute).
pub(super) fn apply_plain(
    ctx: &mut Ctx<'_>,
    def: &AttributeDef,
    target: &mut Map<String, Value>,
    value: Value,
) -> Result<(), ScimError> {
    let single_complex = def.is_complex() && !def.multi_valued && value.is_object();
    let cleared = cleared_subs(ctx, def, &value);
    let new = ctx.coerce(def, value)?;
    let old = take_ci(target, def.name);
    let merged = match (ctx.kind, new, old) {
        // RFC 7644 §3.5.1: null is "unassigned"; adding it changes nothing.
        (OpKind::Add, None, old) => old,
        // RFC 7644 §3.5.2.1, §3.5.2.3: sub-attributes of a complex attribute are merged, those
        // not given are left unchanged (and those replaced with null are cleared).
        (_, new @ (None | Some(Value::Object(_))), Some(Value::Object(mut obj)))
            if single_complex =>
        {
            if let Some(Value::Object(fields)) = new {
                obj.extend(fields);
            }
            for name in cleared {
                obj.remove(name);
            }
            (!obj.is_empty()).then_some(Value::Object(obj))
        }
        // Replacing with null clears the attribute.
        (_, None, _) => None,
        // RFC 7644 §3.5.2.1: add to a multi-valued attribute appends (a value already there
        // is updated, not duplicated).
        (OpKind::Add, Some(Value::Array(new)), Some(Value::Array(mut items))) => {
            // Only values that arrive saying `primary: true` take the primary flag.
            let mut claims = Vec::new();
            for n in new {
                let claims_primary = is_primary(&n);
                let i = upsert(def, &mut items, n);
                if claims_primary {
                    claims.push(i);
                }
            }
            prefer_primary(&mut items, &claims);
            Some(Value::Array(items))
        }
        // RFC 7644 §3.5.2.3: replacing a multi-valued attribute replaces all its values.
        (_, Some(new), _) => Some(new),
    };
    if let Some(v) = merged {
        target.insert(def.name.to_owned(), v);
    }
    Ok(())
}

/// remove of a whole attribute. With a `value` array on a multi-valued attribute, only the
/// values whose `value` matches go (INTEROP 1: Entra ID removes members this way; never the
/// whole list). Removing an absent attribute is a no-op.
pub(super) fn remove_plain(
    ctx: &mut Ctx<'_>,
    def: &AttributeDef,
    target: &mut Map<String, Value>,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let Some(doomed) = value.filter(|v| def.multi_valued && !v.is_null()) else {
        take_ci(target, def.name);
        return Ok(());
    };
    let doomed = match ctx.coerce(def, doomed)? {
        Some(Value::Array(d)) => d,
        _ => return Ok(()),
    };
    if let Some(Value::Array(mut items)) = take_ci(target, def.name) {
        items.retain(|item| !doomed.iter().any(|d| same_value(def, item, d)));
        if !items.is_empty() {
            target.insert(def.name.to_owned(), Value::Array(items));
        }
    }
    Ok(())
}

/// `attr.sub` without a filter: `name.givenName`, `urn:...:User:manager.value`; on a
/// multi-valued attribute (`emails.type`) every value is changed.
pub(super) fn apply_sub(
    ctx: &mut Ctx<'_>,
    attr: &AttributeDef,
    sub: &AttributeDef,
    target: &mut Map<String, Value>,
    value: Value,
) -> Result<(), ScimError> {
    let new = match ctx.kind {
        OpKind::Remove => None,
        _ => ctx.coerce(sub, value)?,
    };
    if ctx.kind == OpKind::Add && new.is_none() {
        return Ok(());
    }
    let mut elements = match take_ci(target, attr.name) {
        Some(Value::Array(items)) if attr.multi_valued => items,
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => Vec::new(),
    };
    if elements.is_empty() && new.is_some() {
        elements.push(Value::Object(Map::new()));
    }
    for element in &mut elements {
        set_sub(element, sub, new.clone());
    }
    let touched: Vec<usize> = (0..elements.len()).collect();
    prefer_primary(&mut elements, &touched);
    elements.retain(|e| e.as_object().is_none_or(|o| !o.is_empty()));
    put_elements(target, attr, elements);
    Ok(())
}

/// `attr[filter]` and `attr[filter].sub` (RFC 7644 §3.5.2, `valuePath`).
pub(super) fn apply_filtered(
    ctx: &mut Ctx<'_>,
    attr: &'static AttributeDef,
    filter: &Filter,
    sub: Option<&AttributeDef>,
    target: &mut Map<String, Value>,
    value: Value,
) -> Result<(), ScimError> {
    if !attr.is_complex() || !attr.multi_valued {
        return Err(ScimError::invalid_path(format!(
            "'{}': a value filter applies to multi-valued complex attributes only",
            ctx.label
        )));
    }
    let scope = ComplexScope(Some(attr));
    let mut items = match take_ci(target, attr.name) {
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    let mut hits: Vec<usize> = (0..items.len())
        .filter(|&i| matches(filter, &items[i], &scope))
        .collect();
    let outcome = change_hits(ctx, attr, filter, sub, &mut items, &mut hits, value);
    if outcome.is_ok() {
        prefer_primary(&mut items, &hits);
    }
    items.retain(|e| e.as_object().is_none_or(|o| !o.is_empty()));
    put_elements(target, attr, items);
    outcome
}

fn change_hits(
    ctx: &mut Ctx<'_>,
    attr: &AttributeDef,
    filter: &Filter,
    sub: Option<&AttributeDef>,
    items: &mut Vec<Value>,
    hits: &mut Vec<usize>,
    value: Value,
) -> Result<(), ScimError> {
    if ctx.kind == OpKind::Remove {
        // RFC 7644 §3.5.2.2: a filter that matches nothing is noTarget.
        if hits.is_empty() {
            return Err(ctx.no_target());
        }
        for &i in hits.iter().rev() {
            match sub {
                Some(sub) => set_sub(&mut items[i], sub, None),
                None => {
                    items.remove(i);
                }
            }
        }
        hits.clear();
        return Ok(());
    }
    let cleared = match sub {
        Some(_) => Vec::new(),
        None => cleared_subs(ctx, attr, &value),
    };
    let new = match sub {
        Some(sub) => ctx.coerce(sub, value)?,
        None => coerce_element(attr, value, &ctx.label, ctx.unknowns)?,
    };
    if hits.is_empty() {
        if new.is_none() {
            return Ok(());
        }
        // INTEROP 4: Entra ID adds `emails[type eq "work"].value` before that email exists.
        // Create one value from the filter's `eq` terms; a later op in the same request then
        // finds it, so several such ops build one value.
        let Some(element) = element_from_filter(ctx, attr, filter)? else {
            return Err(ctx.no_target());
        };
        items.push(Value::Object(element));
        hits.push(items.len() - 1);
    }
    for &i in hits.iter() {
        match sub {
            Some(sub) => set_sub(&mut items[i], sub, new.clone()),
            // replace with null: the matching values become unassigned.
            None if new.is_none() && cleared.is_empty() => items[i] = Value::Object(Map::new()),
            None => {
                if let Value::Object(obj) = &mut items[i] {
                    if let Some(Value::Object(fields)) = &new {
                        obj.extend(fields.clone());
                    }
                    for name in &cleared {
                        obj.remove(*name);
                    }
                }
            }
        }
    }
    Ok(())
}

/// A new value built from a conjunction of `sub eq literal` terms; `None` for other filters.
fn element_from_filter(
    ctx: &Ctx<'_>,
    attr: &AttributeDef,
    filter: &Filter,
) -> Result<Option<Map<String, Value>>, ScimError> {
    fn eq_terms<'f>(f: &'f Filter, out: &mut Vec<(&'f str, &'f CompValue)>) -> bool {
        match f {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.urn.is_none() && path.sub.is_none() => {
                out.push((&path.attr, value));
                true
            }
            Filter::And(l, r) => eq_terms(l, out) && eq_terms(r, out),
            _ => false,
        }
    }
    let mut terms = Vec::new();
    if !eq_terms(filter, &mut terms) {
        return Ok(None);
    }
    let mut element = Map::new();
    for (name, literal) in terms {
        let Some(sub) = attr.sub_attribute(name) else {
            return Ok(None);
        };
        let json = match literal {
            CompValue::Str(s) => Value::String(s.clone()),
            CompValue::Num(n) => Value::Number(n.clone()),
            CompValue::Bool(b) => Value::Bool(*b),
            CompValue::Null => continue,
        };
        element.insert(sub.name.to_owned(), coerce_simple(sub, json, &ctx.label)?);
    }
    Ok(Some(element))
}

/// The sub-attributes a replace sets to `null` in an object value (RFC 7644 §3.5.1: null
/// is "unassigned"); empty for add.
fn cleared_subs(ctx: &Ctx<'_>, def: &AttributeDef, value: &Value) -> Vec<&'static str> {
    let Value::Object(fields) = value else {
        return Vec::new();
    };
    if ctx.kind != OpKind::Replace || !def.is_complex() {
        return Vec::new();
    }
    fields
        .iter()
        .filter(|(_, v)| v.is_null())
        .filter_map(|(k, _)| def.sub_attribute(k).map(|s| s.name))
        .collect()
}

fn set_sub(element: &mut Value, sub: &AttributeDef, value: Option<Value>) {
    if !element.is_object() {
        *element = Value::Object(Map::new());
    }
    if let Value::Object(obj) = element {
        take_ci(obj, sub.name);
        if let Some(v) = value {
            obj.insert(sub.name.to_owned(), v);
        }
    }
}

fn put_elements(target: &mut Map<String, Value>, attr: &AttributeDef, mut items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    let v = if attr.multi_valued {
        Value::Array(items)
    } else {
        items.swap_remove(0)
    };
    target.insert(attr.name.to_owned(), v);
}
