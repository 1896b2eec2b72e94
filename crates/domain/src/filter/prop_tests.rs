//! Property tests: the parsers never panic and fail only with invalidFilter/invalidPath, and
//! printing any filter (generated or parsed) parses back to the same AST.

use proptest::prelude::*;
use proptest::sample::select;

use super::*;
use crate::error::ScimType;

/// Pieces that make up filters, so that random sequences often come close to parsing.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "\"",
    ".",
    ":",
    "and",
    "or",
    "not",
    "pr",
    "eq",
    "co",
    "sw",
    "gt",
    "le",
    "1",
    "-2.5e3",
    "true",
    "null",
    "emails",
    "type",
    "value",
    "urn:x:y",
    "urn:x:2.0:User",
    "\"x\"",
    "\"a\\\"b\"",
    "\\u00e9",
    "é",
    "O",
    " ",
    "NOT",
    "Eq",
];

fn token_soup() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(select(TOKENS), 0..24),
        prop_oneof![Just(" "), Just("")],
    )
        .prop_map(|(tokens, sep)| tokens.join(sep))
}

fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "\\PC{0,40}", token_soup()]
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_-]{0,6}"
}

const URNS: &[&str] = &[
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:x:y",
];

fn attr_path(with_sub: bool) -> impl Strategy<Value = AttrPath> {
    let sub = if with_sub {
        prop_oneof![name(), Just("$ref".to_owned())].boxed()
    } else {
        Just(String::new()).boxed()
    };
    (
        prop::option::of(select(URNS)),
        name(),
        prop::option::of(sub),
    )
        .prop_map(move |(urn, attr, sub)| AttrPath {
            urn: urn.map(str::to_owned),
            attr,
            sub: sub.filter(|_| with_sub),
        })
}

fn value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::Str),
        "[\"\\\\ a-z()\\[\\]é😀\u{1}\n]{0,8}".prop_map(CompValue::Str),
        any::<i64>().prop_map(|n| CompValue::Num(n.into())),
        any::<u64>().prop_map(|n| CompValue::Num(n.into())),
        any::<f64>().prop_filter_map("finite", |x| serde_json::Number::from_f64(x)
            .map(CompValue::Num)),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

/// `attrExp`: a comparison (ordering operators never with booleans or null) or `pr`.
fn attr_exp() -> impl Strategy<Value = Filter> {
    let compare = (attr_path(true), select(CompareOp::ALL.to_vec()), value())
        .prop_filter("ordering needs an ordered value", |(_, op, value)| {
            !(op.is_ordering() && matches!(value, CompValue::Bool(_) | CompValue::Null))
        })
        .prop_map(|(path, op, value)| Filter::Compare { path, op, value });
    prop_oneof![3 => compare, 1 => attr_path(true).prop_map(Filter::Present)]
}

fn logic(leaf: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
    .boxed()
}

/// A valid filter: value paths hold no value paths and name attributes without a sub.
fn filter() -> BoxedStrategy<Filter> {
    let value_path =
        (attr_path(false), logic(attr_exp().boxed())).prop_map(|(path, inner)| Filter::ValuePath {
            path,
            filter: Box::new(inner),
        });
    logic(prop_oneof![3 => attr_exp(), 1 => value_path].boxed())
}

fn patch_path() -> impl Strategy<Value = PatchPath> {
    prop_oneof![
        attr_path(true).prop_map(|attr| PatchPath {
            attr,
            filter: None,
            sub_after_filter: None
        }),
        (
            attr_path(false),
            logic(attr_exp().boxed()),
            prop::option::of(name())
        )
            .prop_map(|(attr, f, sub)| PatchPath {
                attr,
                filter: Some(f),
                sub_after_filter: sub,
            }),
    ]
}

/// Filter text in the forms clients write: any keyword case, bare words, redundant
/// parentheses, no space before `(`. Most of it parses, which token soup rarely does.
fn loose_text() -> impl Strategy<Value = String> {
    let op = select(vec![
        "eq", "EQ", "Ne", "co", "SW", "ew", "gt", "Ge", "lt", "le",
    ]);
    let value = prop_oneof![
        "[A-Za-z0-9@.:+_-]{1,10}",
        "-?[0-9]{1,3}(\\.[0-9]{1,2})?([eE][+-]?[0-9])?",
        any::<String>().prop_map(|s| CompValue::Str(s).to_string()),
        select(vec!["TRUE", "false", "Null"]).prop_map(str::to_owned),
    ];
    let path = prop_oneof![
        name(),
        (name(), name()).prop_map(|(a, b)| format!("{a}.{b}")),
        (select(URNS), name()).prop_map(|(u, a)| format!("{u}:{a}")),
    ];
    let leaf = prop_oneof![
        (path.clone(), op, value).prop_map(|(p, o, v)| format!("{p} {o} {v}")),
        path.prop_map(|p| format!("{p} PR")),
    ];
    let inner = leaf.clone();
    let leaf = prop_oneof![3 => leaf, 1 => (name(), inner).prop_map(|(p, f)| format!("{p}[{f}]"))];
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not({a})")),
            inner.prop_map(|a| format!("( {a} )")),
        ]
    })
}

proptest! {
    #[test]
    fn parse_filter_never_panics_and_fails_only_with_invalid_filter(input in any_input()) {
        if let Err(e) = parse_filter(&input) {
            prop_assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidFilter)));
            prop_assert!(e.detail.contains("character") || e.detail.contains("empty") || e.detail.contains("bytes"));
        }
    }

    #[test]
    fn parse_patch_path_never_panics_and_fails_only_with_invalid_path(input in any_input()) {
        if let Err(e) = parse_patch_path(&input) {
            prop_assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidPath)));
        }
    }

    #[test]
    fn a_generated_filter_prints_and_parses_back_to_itself(f in filter()) {
        let printed = f.to_string();
        prop_assert_eq!(parse_filter(&printed), Ok(f), "{}", printed);
    }

    #[test]
    fn a_generated_patch_path_prints_and_parses_back_to_itself(p in patch_path()) {
        let printed = p.to_string();
        prop_assert_eq!(parse_patch_path(&printed), Ok(p), "{}", printed);
    }

    #[test]
    fn any_filter_that_parses_prints_to_a_fixed_point(input in prop_oneof![token_soup(), loose_text()]) {
        if let Ok(f) = parse_filter(&input) {
            let printed = f.to_string();
            prop_assert_eq!(parse_filter(&printed), Ok(f.clone()), "{:?} printed as {:?}", input, printed);
            prop_assert_eq!(f.to_string(), printed);
        }
        if let Ok(p) = parse_patch_path(&input) {
            prop_assert_eq!(parse_patch_path(&p.to_string()), Ok(p));
        }
    }
}

/// Inputs that parse are rare in pure token soup; these cover property (c) with known
/// shapes as well, including the lenient forms.
#[test]
fn every_accepted_shape_prints_to_a_fixed_point() {
    for input in [
        "userName sw O",
        "a eq 1 or not (b pr and c co x) or d[e eq true and f ne null]",
        "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
        "a eq \"\\ud83d\\ude00\\u0000\"",
        "a eq -0",
        "a eq -0.0",
        "a eq 5e-324",
        "urn:x:2.0:User pr",
    ] {
        let Ok(f) = parse_filter(input) else {
            panic!("{input:?} did not parse")
        };
        assert_eq!(parse_filter(&f.to_string()), Ok(f), "{input:?}");
    }
}
