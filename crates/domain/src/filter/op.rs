//! The comparison operators' spelling (RFC 7644 §3.4.2.2, Table 3), shared by the parser and
//! the printer.

use super::ast::CompareOp;

impl CompareOp {
    pub const ALL: [CompareOp; 9] = [
        Self::Eq,
        Self::Ne,
        Self::Co,
        Self::Sw,
        Self::Ew,
        Self::Gt,
        Self::Ge,
        Self::Lt,
        Self::Le,
    ];

    /// The operator as written in a filter, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// Reads an operator word, ignoring case (RFC 7644 §3.4.2.2: "attribute names and
    /// attribute operators used in filters are case insensitive").
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// True for `gt`, `ge`, `lt` and `le`, which order values.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}
