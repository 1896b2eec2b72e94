//! The filter parser: RFC 7644 §3.4.2.2, Figure 1 (`FILTER`, `valuePath`, `valFilter`,
//! `attrExp`, `logExp`) with the precedence `not` > `and` > `or`.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use super::cursor::{Cursor, ParseError, Parsed, is_delimiter};
use super::literal::comp_value;
use super::path::attr_path;
use crate::error::ScimError;

/// Parses a `filter` query parameter (RFC 7644 §3.4.2.2).
///
/// Keywords and operators are case-insensitive; attribute names keep the case the client
/// wrote (compare them with [`AttrPath::is`]). An unquoted word after an operator that is not
/// `true`, `false`, `null` or a JSON number is read as a string (`userName sw O`), as
/// Microsoft's clients send. Inputs over 8 KiB or nested deeper than 64 groups are refused.
/// A path whose URN ends in a version segment and has no attribute after it (e.g.
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`) names the whole extension;
/// see [`super::parse_patch_path`] for how it is represented.
///
/// Every malformed input gives [`ScimError::invalid_filter`] with a detail naming what was
/// expected and the 1-based character position.
pub fn parse_filter(input: &str) -> Result<Filter, ScimError> {
    filter(input).map_err(|e| ScimError::invalid_filter(e.detail))
}

fn filter(input: &str) -> Parsed<Filter> {
    let mut c = Cursor::new(input)?;
    c.skip_ws();
    if c.at_end() {
        return Err(ParseError {
            detail: "the filter is empty".to_owned(),
        });
    }
    let f = or_expr(&mut c, Scope::Filter)?;
    c.skip_ws();
    if !c.at_end() {
        return Err(c.expected("'and', 'or' or the end of the filter"));
    }
    Ok(f)
}

/// Where an expression sits: `valFilter` (inside `attr[...]`) cannot hold a `valuePath`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Filter,
    Value,
}

/// `or` binds loosest and associates to the left: `a or b or c` is `(a or b) or c`.
fn or_expr(c: &mut Cursor<'_>, scope: Scope) -> Parsed<Filter> {
    let mut left = and_expr(c, scope)?;
    loop {
        let save = c.pos();
        c.skip_ws();
        if !c.eat_keyword("or") {
            c.reset(save);
            return Ok(left);
        }
        let right = and_expr(c, scope)?;
        left = Filter::Or(Box::new(left), Box::new(right));
    }
}

/// RFC 7644 §3.4.2.2 Table 4: `and` binds tighter than `or`, left-associative.
fn and_expr(c: &mut Cursor<'_>, scope: Scope) -> Parsed<Filter> {
    let mut left = unary(c, scope)?;
    loop {
        let save = c.pos();
        c.skip_ws();
        if !c.eat_keyword("and") {
            c.reset(save);
            return Ok(left);
        }
        let right = unary(c, scope)?;
        left = Filter::And(Box::new(left), Box::new(right));
    }
}

/// `"(" FILTER ")"`, `"not" "(" FILTER ")"`, an `attrExp` or a `valuePath`.
fn unary(c: &mut Cursor<'_>, scope: Scope) -> Parsed<Filter> {
    c.skip_ws();
    if c.peek() == Some('(') {
        return group(c, scope);
    }
    let start = c.pos();
    if c.eat_keyword("not") {
        c.skip_ws();
        if c.peek() == Some('(') {
            return group(c, scope).map(|f| Filter::Not(Box::new(f)));
        }
        // Attribute names are not reserved: `not eq 1` and `not pr` name an attribute "not".
        let next = c.peek_word();
        let is_operator = CompareOp::from_word(next).is_some() || next.eq_ignore_ascii_case("pr");
        if !(is_operator || c.peek() == Some('[')) {
            return Err(c.expected("'(' after 'not'"));
        }
        c.reset(start);
    }
    if c.at_end() || c.peek().is_some_and(is_delimiter) {
        return Err(c.expected("an attribute path, '(' or 'not ('"));
    }
    attr_expr(c, scope)
}

/// A parenthesised filter; each group is one nesting level.
fn group(c: &mut Cursor<'_>, scope: Scope) -> Parsed<Filter> {
    c.enter()?;
    c.bump();
    let f = or_expr(c, scope)?;
    c.skip_ws();
    if c.peek() != Some(')') {
        return Err(c.expected("'and', 'or' or ')'"));
    }
    c.bump();
    c.leave();
    Ok(f)
}

/// `attrPath SP "pr"`, `attrPath SP compareOp SP compValue` or `attrPath "[" valFilter "]"`.
fn attr_expr(c: &mut Cursor<'_>, scope: Scope) -> Parsed<Filter> {
    let path = attr_path(c)?;
    if c.peek() == Some('[') {
        if scope == Scope::Value {
            // RFC 7644 Figure 1: `valFilter` is attrExp / logExp / not, never a valuePath.
            return Err(c.error_at(c.pos(), "value filters cannot be nested"));
        }
        let inner = bracketed(c, &path)?;
        return Ok(Filter::ValuePath {
            path,
            filter: Box::new(inner),
        });
    }
    c.skip_ws();
    let op_at = c.pos();
    let word = c.take_while(|ch| !is_delimiter(ch));
    if word.eq_ignore_ascii_case("pr") {
        return present(c, path);
    }
    let Some(op) = CompareOp::from_word(word) else {
        let what = format!("an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after '{path}'");
        return Err(c.error_at(op_at, &format!("expected {what}")));
    };
    c.skip_ws();
    let value_at = c.pos();
    let value = comp_value(c)?;
    if op.is_ordering() && matches!(value, CompValue::Bool(_) | CompValue::Null) {
        // RFC 7644 §3.4.2.2: gt/ge/lt/le on Boolean values SHALL fail with invalidFilter;
        // null has no order either.
        let message = format!("'{}' cannot compare with true, false or null", op.as_str());
        return Err(c.error_at(value_at, &message));
    }
    Ok(Filter::Compare { path, op, value })
}

/// `attrPath SP "pr"`: checks that no value follows.
fn present(c: &mut Cursor<'_>, path: AttrPath) -> Parsed<Filter> {
    let save = c.pos();
    c.skip_ws();
    let next = c.peek_word();
    let ends = c.at_end()
        || matches!(c.peek(), Some(')' | ']'))
        || next.eq_ignore_ascii_case("and")
        || next.eq_ignore_ascii_case("or");
    if !ends {
        return Err(c.error_at(
            c.pos(),
            "'pr' takes no value: expected 'and', 'or' or the end of the expression",
        ));
    }
    c.reset(save);
    Ok(Filter::Present(path))
}

/// `"[" valFilter "]"` after `path`; the cursor is on the `[`. Shared with PATCH paths.
pub(super) fn bracketed(c: &mut Cursor<'_>, path: &AttrPath) -> Parsed<Filter> {
    if path.sub.is_some() {
        return Err(c.error_at(
            c.pos(),
            "a value filter must follow an attribute without a sub-attribute",
        ));
    }
    c.enter()?;
    c.bump();
    let inner = or_expr(c, Scope::Value)?;
    c.skip_ws();
    if c.peek() != Some(']') {
        return Err(c.expected("'and', 'or' or ']'"));
    }
    c.bump();
    c.leave();
    Ok(inner)
}
