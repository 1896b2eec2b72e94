//! Applying PATCH operations to a resource (RFC 7644 §3.5.2): in order, all or nothing, and
//! ending with the same validation a POST gets.

use serde_json::{Map, Value};

use super::request::{OpKind, PatchOp};
use super::target::{
    Ctx, apply_filtered, apply_plain, apply_sub, container, remove_plain, take_ci,
};
use crate::error::ScimError;
use crate::schema::{ResourceType, SchemaRef, Unknowns, normalize};

/// Applies `ops` to `resource` in order. On error `resource` is left untouched (RFC 7644
/// §3.5.2: "the operations are applied atomically"). Unknown attributes inside a no-path
/// `value` are ignored (as for POST); a `path` naming an unknown attribute is `invalidPath`.
pub fn apply(
    rt: &ResourceType,
    resource: &mut Map<String, Value>,
    ops: &[PatchOp],
) -> Result<(), ScimError> {
    apply_checked(rt, resource, ops, false).map(|_ignored| ())
}

/// [`apply`], refusing unknown attributes with `invalidSyntax` when `strict` (SEMANTICS 22);
/// returns the names of the unknown attributes it ignored otherwise.
pub fn apply_checked(
    rt: &ResourceType,
    resource: &mut Map<String, Value>,
    ops: &[PatchOp],
    strict: bool,
) -> Result<Vec<String>, ScimError> {
    let mut work = resource.clone();
    let mut unknowns = Unknowns::new(strict);
    for (i, op) in ops.iter().enumerate() {
        apply_op(rt, &mut work, op, &mut unknowns).map_err(|mut e| {
            e.detail = format!("operation {i}: {}", e.detail);
            e
        })?;
    }
    *resource = validate(rt, resource, work)?;
    Ok(unknowns.ignored)
}

fn apply_op(
    rt: &ResourceType,
    work: &mut Map<String, Value>,
    op: &PatchOp,
    unknowns: &mut Unknowns,
) -> Result<(), ScimError> {
    let value = op.value.clone().unwrap_or(Value::Null);
    let Some(path) = &op.path else {
        return apply_no_path(rt, work, op.op, value, unknowns);
    };
    let mut ctx = Ctx {
        kind: op.op,
        unknowns,
        label: display(path),
    };
    // A path naming a whole schema: the core one means the resource itself; an extension
    // URN (parsed as `attr: "<urn>"`) means that extension's object.
    if path.attr.is_schema_urn() || rt.schema_urns().any(|u| path.attr.names_schema(u)) {
        let urn = rt.schema_urns().find(|u| path.attr.names_schema(u));
        return match (urn, op.op) {
            (Some(u), OpKind::Remove) if !rt.is_core_urn(u) => {
                take_ci(work, u);
                Ok(())
            }
            (Some(u), OpKind::Add | OpKind::Replace) if rt.is_core_urn(u) => {
                apply_no_path(rt, work, op.op, value, ctx.unknowns)
            }
            (Some(u), OpKind::Add | OpKind::Replace) => {
                let wrapped = Map::from_iter([(u.to_owned(), value)]);
                apply_no_path(rt, work, op.op, Value::Object(wrapped), ctx.unknowns)
            }
            _ => Err(ScimError::invalid_path(format!(
                "'{}' cannot be a PATCH target here",
                path.attr.attr
            ))),
        };
    }
    let Some(res) = rt.resolve(&path.attr) else {
        return Err(ScimError::invalid_path(format!(
            "unknown attribute '{}'",
            display(path)
        )));
    };
    let sub_after = match &path.sub_after_filter {
        Some(s) => Some(res.attr.sub_attribute(s).ok_or_else(|| {
            ScimError::invalid_path(format!("unknown attribute '{}'", display(path)))
        })?),
        None => None,
    };
    // RFC 7643 §7: readOnly attributes cannot be changed by a client.
    if res.attr.is_read_only() || res.sub.or(sub_after).is_some_and(|s| s.is_read_only()) {
        return Err(ScimError::mutability(format!(
            "attribute '{}' is readOnly",
            display(path)
        )));
    }
    let Some(target) = container(work, res.schema, op.op != OpKind::Remove) else {
        // Removing from an extension the resource does not have.
        return match path.filter {
            Some(_) => Err(ScimError::no_target(format!(
                "no value matches '{}'",
                display(path)
            ))),
            None => Ok(()),
        };
    };
    let result = match (&path.filter, res.sub) {
        (Some(filter), _) => apply_filtered(&mut ctx, res.attr, filter, sub_after, target, value),
        (None, Some(sub)) => apply_sub(&mut ctx, res.attr, sub, target, value),
        (None, None) if op.op == OpKind::Remove => {
            remove_plain(&mut ctx, res.attr, target, op.value.clone())
        }
        (None, None) => apply_plain(&mut ctx, res.attr, target, value),
    };
    if let SchemaRef::Extension(s) = res.schema
        && work
            .get(s.id)
            .is_some_and(|e| e.as_object().is_some_and(Map::is_empty))
    {
        work.remove(s.id);
    }
    result
}

/// RFC 7644 §3.5.2.1, §3.5.2.3: without a path, `value` is an object of attributes to add or
/// replace, extension attributes under their URN or URN-qualified.
fn apply_no_path(
    rt: &ResourceType,
    work: &mut Map<String, Value>,
    kind: OpKind,
    value: Value,
    unknowns: &mut Unknowns,
) -> Result<(), ScimError> {
    let Value::Object(attrs) = value else {
        return Err(ScimError::invalid_syntax(
            "without a 'path', 'value' must be an object of attributes",
        ));
    };
    let mut ctx = Ctx {
        kind,
        unknowns,
        label: String::new(),
    };
    for (key, v) in attrs {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(&key) {
            let schema = SchemaRef::Extension(ext.schema);
            match v {
                Value::Object(inner) => {
                    for (name, v) in inner {
                        set_attr(rt, work, &mut ctx, schema, &name, v)?;
                    }
                }
                Value::Null if kind == OpKind::Replace => {
                    take_ci(work, ext.schema.id);
                }
                Value::Null => {}
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "'{}' must be an object of extension attributes",
                        ext.schema.id
                    )));
                }
            }
        } else if let Some((schema, name)) = rt.split_qualified(&key) {
            set_attr(rt, work, &mut ctx, schema, name, v)?;
        } else {
            set_attr(rt, work, &mut ctx, SchemaRef::Core, &key, v)?;
        }
    }
    Ok(())
}

fn set_attr(
    rt: &ResourceType,
    work: &mut Map<String, Value>,
    ctx: &mut Ctx<'_>,
    schema: SchemaRef,
    name: &str,
    value: Value,
) -> Result<(), ScimError> {
    let Some(def) = rt.attribute_in(schema, name) else {
        return ctx.unknowns.unknown(name);
    };
    if def.is_read_only() {
        // INTEROP 5: Okta replaces a group with `{"id": <its own id>, "displayName": ...}`.
        let same_id = def.name == "id" && work.get("id").is_some_and(|id| *id == value);
        if same_id {
            return Ok(());
        }
        return Err(ScimError::mutability(format!(
            "attribute '{}' is readOnly",
            def.name
        )));
    }
    ctx.label = def.name.to_owned();
    match container(work, schema, true) {
        Some(target) => apply_plain(ctx, def, target, value),
        None => Ok(()),
    }
}

/// Runs the result through POST validation (a PATCH cannot produce what a POST would refuse,
/// e.g. a User without `userName`) and keeps what validation leaves out on purpose: read-only
/// attributes (`id`, `meta`, `groups`) and anything the schema does not describe.
fn validate(
    rt: &ResourceType,
    original: &Map<String, Value>,
    mut work: Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    take_ci(&mut work, "schemas");
    work.insert(
        "schemas".to_owned(),
        Value::Array(vec![rt.schema.id.into()]),
    );
    let mut out = normalize(rt, Value::Object(work), false)?.resource;
    for (key, v) in original {
        let kept_aside = !key.eq_ignore_ascii_case("schemas")
            && rt.extension(key).is_none()
            && rt.split_qualified(key).is_none()
            && rt.core_attribute(key).is_none_or(|d| d.is_read_only());
        if kept_aside {
            out.insert(key.clone(), v.clone());
        }
    }
    Ok(out)
}

/// The path as the client wrote it, for error details.
fn display(path: &crate::filter::PatchPath) -> String {
    let mut s = match &path.attr.urn {
        Some(urn) => format!("{urn}:{}", path.attr.attr),
        None => path.attr.attr.clone(),
    };
    if let Some(sub) = &path.attr.sub {
        s = format!("{s}.{sub}");
    }
    if path.filter.is_some() {
        s.push_str("[...]");
    }
    if let Some(sub) = &path.sub_after_filter {
        s = format!("{s}.{sub}");
    }
    s
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "apply_group_tests.rs"]
mod group_tests;
