//! The PATCH request body (RFC 7644 §3.5.2): `schemas`, `Operations`, and each operation's
//! `op`, `path` and `value`, parsed once at the boundary.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{PatchPath, parse_patch_path};

pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

/// One PATCH operation. `value` is `Some(Value::Null)` when the client sent `"value": null`,
/// which means "unassigned" (RFC 7644 §3.5.1).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOp>,
}

fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn take_ci(obj: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = obj.keys().find(|k| k.eq_ignore_ascii_case(name))?.clone();
    obj.remove(&key)
}

impl OpKind {
    /// RFC 7644 §3.5.2 spells them `add`, `remove`, `replace`; Entra ID sends `Add`,
    /// `Replace`, `Remove` (INTEROP 3), so any case is accepted.
    pub fn parse(s: &str) -> Option<Self> {
        [
            ("add", Self::Add),
            ("remove", Self::Remove),
            ("replace", Self::Replace),
        ]
        .into_iter()
        .find(|(name, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, kind)| kind)
    }
}

impl PatchRequest {
    /// Parses a PATCH body. An empty `Operations` array is valid and changes nothing
    /// (INTEROP 13).
    pub fn parse(body: Value) -> Result<Self, ScimError> {
        let Value::Object(mut body) = body else {
            return Err(ScimError::invalid_syntax(
                "the PATCH body must be a JSON object",
            ));
        };
        let listed = match get_ci(&body, "schemas") {
            Some(Value::Array(urns)) => urns.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP_URN))
            }),
            Some(Value::String(u)) => u.eq_ignore_ascii_case(PATCH_OP_URN),
            _ => false,
        };
        if !listed {
            return Err(ScimError::invalid_syntax(format!(
                "'schemas' must list '{PATCH_OP_URN}'"
            )));
        }
        let Some(Value::Array(ops)) = take_ci(&mut body, "Operations") else {
            return Err(ScimError::invalid_syntax(
                "'Operations' must be an array of operations",
            ));
        };
        let operations = ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| parse_op(i, op))
            .collect::<Result<_, _>>()?;
        Ok(Self { operations })
    }
}

fn parse_op(i: usize, op: Value) -> Result<PatchOp, ScimError> {
    let Value::Object(mut op) = op else {
        return Err(ScimError::invalid_syntax(format!(
            "operation {i} must be a JSON object"
        )));
    };
    let kind = match take_ci(&mut op, "op") {
        Some(Value::String(s)) => OpKind::parse(&s).ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "operation {i}: unknown op '{s}' (expected add, remove or replace)"
            ))
        })?,
        _ => {
            return Err(ScimError::invalid_syntax(format!(
                "operation {i} has no 'op'"
            )));
        }
    };
    let path = match take_ci(&mut op, "path") {
        None | Some(Value::Null) => None,
        // An empty path is read as no path: some clients send `"path": ""` with a value
        // object.
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(parse_patch_path(&s)?),
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "operation {i}: 'path' must be a string"
            )));
        }
    };
    let value = take_ci(&mut op, "value");
    match kind {
        // RFC 7644 §3.5.2.1, §3.5.2.3: add and replace carry a value.
        OpKind::Add | OpKind::Replace if value.is_none() => {
            Err(ScimError::invalid_syntax(format!(
                "operation {i}: '{}' needs a 'value'",
                if kind == OpKind::Add {
                    "add"
                } else {
                    "replace"
                }
            )))
        }
        // RFC 7644 §3.5.2.2: remove without a path fails with noTarget.
        OpKind::Remove if path.is_none() => Err(ScimError::no_target(format!(
            "operation {i}: 'remove' needs a 'path'"
        ))),
        _ => Ok(PatchOp {
            op: kind,
            path,
            value,
        }),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
