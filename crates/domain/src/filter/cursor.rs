//! The character cursor shared by the filter and PATCH path parsers: position tracking, the
//! input-size and nesting limits, and error details that name what was expected and where.

use std::fmt;

/// Longest filter or path accepted, in bytes. Real filters are a few hundred bytes; the cap
/// keeps a hostile query string from costing more than a bounded amount of work.
pub const MAX_INPUT_BYTES: usize = 8 * 1024;

/// Deepest nesting of `(...)`, `not (...)` and `attr[...]` accepted. The parser recurses once
/// per level, so this is also what keeps a hostile filter from overflowing the stack.
pub const MAX_NESTING: usize = 64;

/// A syntax error with a client-safe detail; the public entry points turn it into
/// `invalidFilter` or `invalidPath` (RFC 7644 §3.12, Table 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ParseError {
    pub detail: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

pub(super) type Parsed<T> = Result<T, ParseError>;

/// Characters that end an attribute path, an operator word or a bare-word value.
pub(super) fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

#[derive(Debug)]
pub(super) struct Cursor<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str) -> Parsed<Self> {
        if src.len() > MAX_INPUT_BYTES {
            return Err(ParseError {
                detail: format!(
                    "input is {} bytes long; at most {MAX_INPUT_BYTES} are accepted",
                    src.len()
                ),
            });
        }
        Ok(Self {
            src,
            pos: 0,
            depth: 0,
        })
    }

    /// Byte offset of the next character.
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub fn slice(&self, from: usize, to: usize) -> &'a str {
        self.src.get(from..to).unwrap_or("")
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Moves back to a position returned by [`Cursor::pos`] (for one-word look-ahead).
    pub fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// Skips whitespace; true when there was any.
    pub fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        self.pos > start
    }

    /// Consumes characters while `keep` holds and returns them.
    pub fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        self.slice(start, self.pos)
    }

    /// Reads the word at the cursor (up to a delimiter) without consuming it.
    pub fn peek_word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest.find(is_delimiter).unwrap_or(rest.len());
        rest.get(..end).unwrap_or("")
    }

    /// Consumes `word` when it is the next word, ignoring ASCII case (RFC 5234 §2.3: ABNF
    /// literal strings are case-insensitive, so `AND`, `Or` and `NOT` are keywords too).
    pub fn eat_keyword(&mut self, word: &str) -> bool {
        if self.peek_word().eq_ignore_ascii_case(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Enters one nesting level, refusing past [`MAX_NESTING`].
    pub fn enter(&mut self) -> Parsed<()> {
        if self.depth >= MAX_NESTING {
            return Err(self.error_at(self.pos, &format!("at most {MAX_NESTING} nested groups")));
        }
        self.depth += 1;
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// 1-based character (not byte) position of a byte offset, for error details.
    pub fn char_number(&self, byte: usize) -> usize {
        self.slice(0, byte).chars().count() + 1
    }

    /// "expected X at character N, found Y".
    pub fn expected(&self, what: &str) -> ParseError {
        self.error_at(self.pos, &format!("expected {what}"))
    }

    /// "`message` at character N, found Y", N being the character at byte offset `at`.
    pub fn error_at(&self, at: usize, message: &str) -> ParseError {
        let rest = self.src.get(at..).unwrap_or("");
        let found = match rest.chars().next() {
            None => "end of input".to_owned(),
            Some(c) if c.is_whitespace() => "whitespace".to_owned(),
            Some(_) => {
                let word: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .take(20)
                    .collect();
                format!("'{word}'")
            }
        };
        ParseError {
            detail: format!(
                "{message} at character {}, found {found}",
                self.char_number(at)
            ),
        }
    }
}
