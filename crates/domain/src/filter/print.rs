//! The canonical printer: `Display` for filters, attribute paths and PATCH paths, such that
//! parsing the printed text gives the same AST back.

use std::fmt::{self, Display, Formatter, Write as _};

use super::ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath};

impl Display for AttrPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Values print as JSON: strings always quoted (so a bare word comes back as the same
/// `Str`), numbers in serde_json's shortest round-trip form.
impl Display for CompValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => write_json_string(f, s),
            Self::Num(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Null => f.write_str("null"),
        }
    }
}

/// Binding strength, loosest first (RFC 7644 §3.4.2.2, Table 4: `not` > `and` > `or`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Or,
    And,
    Atom,
}

fn level(filter: &Filter) -> Level {
    match filter {
        Filter::Or(..) => Level::Or,
        Filter::And(..) => Level::And,
        _ => Level::Atom,
    }
}

/// Prints `filter` where an expression binding at least as tightly as `need` is expected,
/// adding parentheses only when it binds more loosely. `and`/`or` associate to the left, so
/// a right operand of the same operator needs them: `a or (b or c)`.
fn write_at(f: &mut Formatter<'_>, filter: &Filter, need: Level) -> fmt::Result {
    if level(filter) < need {
        f.write_char('(')?;
        write_at(f, filter, Level::Or)?;
        return f.write_char(')');
    }
    match filter {
        Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
        Filter::Present(path) => write!(f, "{path} pr"),
        Filter::Or(l, r) => {
            write_at(f, l, Level::Or)?;
            f.write_str(" or ")?;
            write_at(f, r, Level::And)
        }
        Filter::And(l, r) => {
            write_at(f, l, Level::And)?;
            f.write_str(" and ")?;
            write_at(f, r, Level::Atom)
        }
        Filter::Not(inner) => {
            f.write_str("not (")?;
            write_at(f, inner, Level::Or)?;
            f.write_char(')')
        }
        Filter::ValuePath { path, filter } => {
            write!(f, "{path}[")?;
            write_at(f, filter, Level::Or)?;
            f.write_char(']')
        }
    }
}

impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_at(f, self, Level::Or)
    }
}

impl Display for PatchPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_after_filter {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// RFC 8259 §7: quote, escape `"` and `\`, and escape control characters.
fn write_json_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}
