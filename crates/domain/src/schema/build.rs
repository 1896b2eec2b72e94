//! Terse constructors for attribute definitions; defaults are those of RFC 7643 §2.2.

use super::types::{AttrType, AttributeDef, Mutability, Returned, Uniqueness};

/// RFC 7643 §2.2: unless stated otherwise an attribute is single-valued, optional,
/// case-insensitive, readWrite, returned by default, not unique, with no canonical values.
pub(super) fn attr(name: &'static str, type_: AttrType, description: &'static str) -> AttributeDef {
    AttributeDef {
        name,
        type_,
        multi_valued: false,
        description,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        canonical_values: &[],
        reference_types: &[],
        sub_attributes: Vec::new(),
    }
}

pub(super) fn string(name: &'static str, description: &'static str) -> AttributeDef {
    attr(name, AttrType::String, description)
}

pub(super) fn boolean(name: &'static str, description: &'static str) -> AttributeDef {
    attr(name, AttrType::Boolean, description)
}

pub(super) fn date_time(name: &'static str, description: &'static str) -> AttributeDef {
    attr(name, AttrType::DateTime, description)
}

pub(super) fn reference(
    name: &'static str,
    types: &'static [&'static str],
    description: &'static str,
) -> AttributeDef {
    attr(name, AttrType::Reference, description).refs(types)
}

pub(super) fn complex(
    name: &'static str,
    description: &'static str,
    subs: Vec<AttributeDef>,
) -> AttributeDef {
    let mut a = attr(name, AttrType::Complex, description);
    a.sub_attributes = subs;
    a
}

impl AttributeDef {
    pub(super) fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub(super) fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub(super) fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub(super) fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    pub(super) fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    pub(super) fn uniqueness(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    pub(super) fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }
    pub(super) fn refs(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }
}
