//! The filter AST shared by the parser, the printer, the evaluator and the SQL translation.

/// An attribute path as written in a filter or a PATCH path (RFC 7644 §3.10):
/// `[urn ":"] attr ["." sub]`. Names keep the case the client wrote; every comparison of
/// names is case-insensitive (RFC 7643 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

impl AttrPath {
    pub fn new(attr: impl Into<String>) -> Self {
        Self {
            urn: None,
            attr: attr.into(),
            sub: None,
        }
    }
    pub fn with_sub(attr: impl Into<String>, sub: impl Into<String>) -> Self {
        Self {
            urn: None,
            attr: attr.into(),
            sub: Some(sub.into()),
        }
    }
    /// True when this path names `attr` (and `sub`), ignoring case.
    pub fn is(&self, attr: &str, sub: Option<&str>) -> bool {
        self.attr.eq_ignore_ascii_case(attr)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

/// Comparison operators of RFC 7644 §3.4.2.2, Table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// The literal on the right of a comparison (RFC 7644 §3.4.2.2: JSON values).
/// A bare word that is not `true`, `false`, `null` or a number is read as a string
/// (Microsoft's clients send `userName sw O`).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath compareOp compValue`
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `attrPath pr`
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    /// `not (filter)`
    Not(Box<Filter>),
    /// `attrPath "[" valFilter "]"`: paths inside `filter` are relative to `path`
    /// (they name sub-attributes, e.g. `emails[type eq "work"]`).
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// A PATCH operation path (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute, with `sub` set only for `attr.sub` forms without a filter.
    pub attr: AttrPath,
    /// The value filter of a `valuePath`, e.g. `[type eq "work"]`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter: `emails[type eq "work"].value` → `value`.
    pub sub_after_filter: Option<String>,
}
