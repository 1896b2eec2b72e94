//! Attribute paths (RFC 7644 §3.10, Figure 1 `attrPath`) and PATCH operation paths
//! (RFC 7644 §3.5.2 `PATH`).

use super::ast::{AttrPath, PatchPath};
use super::cursor::{Cursor, ParseError, Parsed, is_delimiter};
use super::parse::bracketed;
use crate::error::ScimError;

/// Parses a PATCH operation `path` (RFC 7644 §3.5.2: `PATH = attrPath / valuePath [subAttr]`):
/// `members`, `name.givenName`, `emails[type eq "work"]`, `emails[type eq "work"].value`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// `attr.sub` is set only for `attr.sub` without a filter; `x[...].sub` sets
/// `sub_after_filter`. Paths inside the filter are relative to `attr` (`type`, `value`).
///
/// A bare schema URN with no attribute after it — recognised because its last segment is a
/// version such as `2.0` and no attribute name follows, e.g.
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` — names the whole extension
/// and is returned as `AttrPath { urn: None, attr: <the full URN>, sub: None }`; callers
/// recognise it by an `attr` starting with `urn:` (see [`AttrPath::is_schema_urn`]). A URN
/// without a version segment (`urn:acme:User`) cannot be told apart syntactically from
/// `<urn>:<attr>` and parses as `urn: Some("urn:acme"), attr: "User"`; callers that know
/// their schema ids should use [`AttrPath::names_schema`].
///
/// Malformed paths give [`ScimError::invalid_path`], with the position in the detail.
pub fn parse_patch_path(input: &str) -> Result<PatchPath, ScimError> {
    patch_path(input).map_err(|e| ScimError::invalid_path(e.detail))
}

fn patch_path(input: &str) -> Parsed<PatchPath> {
    let mut c = Cursor::new(input)?;
    c.skip_ws();
    if c.at_end() {
        return Err(ParseError {
            detail: "the path is empty".to_owned(),
        });
    }
    let attr = attr_path(&mut c)?;
    let mut filter = None;
    let mut sub_after_filter = None;
    if c.peek() == Some('[') {
        filter = Some(bracketed(&mut c, &attr)?);
        if c.peek() == Some('.') {
            c.bump();
            let at = c.pos();
            let name = c.take_while(|ch| !is_delimiter(ch));
            check_name(&c, name, at)?;
            sub_after_filter = Some(name.to_owned());
        }
    }
    c.skip_ws();
    if !c.at_end() {
        return Err(c.expected(if filter.is_some() {
            "'.' and a sub-attribute name, or the end of the path"
        } else {
            "'[' or the end of the path"
        }));
    }
    Ok(PatchPath {
        attr,
        filter,
        sub_after_filter,
    })
}

/// Reads `[URI ":"] ATTRNAME *1subAttr` up to the next delimiter.
///
/// The URN is everything up to the last `:` of the word (URNs contain `.` as in `2.0`, so
/// the split cannot be made at the first `.`); see [`parse_patch_path`] for bare URNs.
pub(super) fn attr_path(c: &mut Cursor<'_>) -> Parsed<AttrPath> {
    let start = c.pos();
    let token = c.take_while(|ch| !is_delimiter(ch));
    if token.is_empty() {
        return Err(c.expected("an attribute name"));
    }
    let has_urn = token
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if !has_urn {
        if let Some(colon) = token.find(':') {
            let message = "':' is allowed only in paths that start with a schema URN (urn:...)";
            return Err(c.error_at(start + colon, message));
        }
        let (attr, sub) = names(c, token, start)?;
        return Ok(AttrPath {
            urn: None,
            attr,
            sub,
        });
    }
    let colon = token.rfind(':').unwrap_or(3);
    let (urn, rest) = (
        token.get(..colon).unwrap_or(""),
        token.get(colon + 1..).unwrap_or(""),
    );
    if !urn.contains(':') || urn.split(':').any(str::is_empty) {
        return Err(c.error_at(
            start,
            "expected a schema URN such as urn:ietf:params:scim:schemas:core:2.0:User",
        ));
    }
    if ends_in_version(urn) && is_name(rest) {
        return Ok(AttrPath {
            urn: None,
            attr: token.to_owned(),
            sub: None,
        });
    }
    let (attr, sub) = names(c, rest, start + colon + 1)?;
    Ok(AttrPath {
        urn: Some(urn.to_owned()),
        attr,
        sub,
    })
}

/// `ATTRNAME *1subAttr`, the part after any URN.
fn names(c: &Cursor<'_>, s: &str, at: usize) -> Parsed<(String, Option<String>)> {
    let Some((attr, sub)) = s.split_once('.') else {
        check_name(c, s, at)?;
        return Ok((s.to_owned(), None));
    };
    check_name(c, attr, at)?;
    check_name(c, sub, at + attr.len() + 1)?;
    Ok((attr.to_owned(), Some(sub.to_owned())))
}

fn check_name(c: &Cursor<'_>, name: &str, at: usize) -> Parsed<()> {
    if is_name(name) {
        Ok(())
    } else {
        Err(c.error_at(
            at,
            "expected an attribute name (a letter, then letters, digits, '-' or '_')",
        ))
    }
}

/// RFC 7643 §2.1: `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`;
/// RFC 7643 §2.3.7 adds `$ref` for references.
pub(super) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.eq_ignore_ascii_case("$ref")
        || (chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

/// True when the last `:` segment of `urn` is a version like `2.0`, as in every schema URN
/// RFC 7643 defines (`urn:ietf:params:scim:schemas:core:2.0`).
fn ends_in_version(urn: &str) -> bool {
    let last = urn.rsplit(':').next().unwrap_or("");
    last.starts_with(|c: char| c.is_ascii_digit())
        && last.chars().all(|c| c.is_ascii_digit() || c == '.')
}

impl AttrPath {
    /// True for the bare-URN form [`parse_patch_path`] returns for a path naming a whole
    /// schema extension (`attr` holds the URN, `urn` and `sub` are empty).
    pub fn is_schema_urn(&self) -> bool {
        self.urn.is_none()
            && self.sub.is_none()
            && self
                .attr
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    }

    /// True when this path, without a sub-attribute, spells exactly `schema_id` (ignoring
    /// case) in either form: the bare-URN form, or `urn: Some(prefix), attr: last segment`
    /// as a URN without a version segment parses.
    pub fn names_schema(&self, schema_id: &str) -> bool {
        if self.sub.is_some() {
            return false;
        }
        match &self.urn {
            None => self.attr.eq_ignore_ascii_case(schema_id),
            Some(urn) => {
                schema_id.len() == urn.len() + 1 + self.attr.len()
                    && schema_id
                        .get(..urn.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(urn))
                    && schema_id.get(urn.len()..urn.len() + 1) == Some(":")
                    && schema_id
                        .get(urn.len() + 1..)
                        .is_some_and(|a| a.eq_ignore_ascii_case(&self.attr))
            }
        }
    }
}
