//! Comparison values (`compValue`, RFC 7644 §3.4.2.2): JSON strings with escapes, JSON
//! numbers, `true`/`false`/`null`, and the bare words real clients send unquoted.

use super::ast::CompValue;
use super::cursor::{Cursor, Parsed};

/// Parses the value after a comparison operator.
///
/// RFC 7644 §3.4.2.2 says `compValue = false / null / true / number / string` (RFC 7159
/// JSON). Microsoft's SCIM validator also sends unquoted words (`userName sw O`,
/// `meta.Created gt 2015-10-10T14:38:21.8617979-07:00`), so a word that is not a keyword or
/// a JSON number is read as a string; it runs until whitespace, `)` or `]`.
pub(super) fn comp_value(c: &mut Cursor<'_>) -> Parsed<CompValue> {
    if c.peek() == Some('"') {
        return json_string(c).map(CompValue::Str);
    }
    let start = c.pos();
    let word = c.take_while(|ch| !(ch.is_whitespace() || ch == ')' || ch == ']'));
    if word.is_empty() {
        return Err(c.expected("a value (a \"string\", a number, true, false or null)"));
    }
    // RFC 5234 §2.3: the ABNF literals `true`, `false` and `null` are case-insensitive.
    if word.eq_ignore_ascii_case("true") {
        Ok(CompValue::Bool(true))
    } else if word.eq_ignore_ascii_case("false") {
        Ok(CompValue::Bool(false))
    } else if word.eq_ignore_ascii_case("null") {
        Ok(CompValue::Null)
    } else if is_json_number(word) {
        json_number(word)
            .map(CompValue::Num)
            .ok_or_else(|| c.error_at(start, "number out of range"))
    } else {
        Ok(CompValue::Str(word.to_owned()))
    }
}

/// Parses a JSON string (RFC 8259 §7) starting at the opening quote.
pub(super) fn json_string(c: &mut Cursor<'_>) -> Parsed<String> {
    let start = c.pos();
    c.bump();
    let mut out = String::new();
    loop {
        let at = c.pos();
        match c.bump() {
            None => return Err(c.error_at(start, "unterminated string")),
            Some('"') => return Ok(out),
            Some('\\') => out.push(escape(c, at)?),
            Some(ch) => out.push(ch),
        }
    }
}

/// One escape sequence after its backslash (at byte `at`), including UTF-16 surrogate pairs.
fn escape(c: &mut Cursor<'_>, at: usize) -> Parsed<char> {
    let ch = match c.bump() {
        Some('"') => '"',
        Some('\\') => '\\',
        Some('/') => '/',
        Some('b') => '\u{8}',
        Some('f') => '\u{c}',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('t') => '\t',
        Some('u') => return unicode_escape(c, at),
        _ => {
            return Err(c.error_at(
                at,
                "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
            ));
        }
    };
    Ok(ch)
}

fn unicode_escape(c: &mut Cursor<'_>, at: usize) -> Parsed<char> {
    let unit = hex4(c)?;
    let code = match unit {
        0xD800..=0xDBFF => {
            let low_at = c.pos();
            if !(c.bump() == Some('\\') && c.bump() == Some('u')) {
                return Err(c.error_at(
                    low_at,
                    "expected the low half (\\uDC00-\\uDFFF) of a surrogate pair",
                ));
            }
            let low = hex4(c)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(c.error_at(
                    low_at,
                    "expected the low half (\\uDC00-\\uDFFF) of a surrogate pair",
                ));
            }
            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        }
        0xDC00..=0xDFFF => return Err(c.error_at(at, "unpaired low surrogate escape")),
        _ => unit,
    };
    char::from_u32(code).ok_or_else(|| c.error_at(at, "invalid unicode escape"))
}

fn hex4(c: &mut Cursor<'_>) -> Parsed<u32> {
    let mut value = 0;
    for _ in 0..4 {
        match c.peek().and_then(|ch| ch.to_digit(16)) {
            Some(d) => {
                c.bump();
                value = value * 16 + d;
            }
            None => return Err(c.expected("four hex digits after \\u")),
        }
    }
    Ok(value)
}

/// RFC 8259 §6: `[ minus ] int [ frac ] [ exp ]`, with no leading zeros.
pub(super) fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Converts a string already checked by [`is_json_number`]; `None` when it does not fit an
/// `f64`. Floats go through Rust's correctly rounded parser so that printing (shortest
/// round-trip form) and parsing again gives the same number.
pub(super) fn json_number(s: &str) -> Option<serde_json::Number> {
    if !s.contains(['.', 'e', 'E']) {
        if s.starts_with('-') {
            if let Ok(n) = s.parse::<i64>() {
                return Some(n.into());
            }
        } else if let Ok(n) = s.parse::<u64>() {
            return Some(n.into());
        }
    }
    s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
}
