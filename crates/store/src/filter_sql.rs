//! SCIM filters (RFC 7644 §3.4.2.2) and sorts (§3.4.2.3) translated to SQL for both backends.
//! Hot single-valued attributes map to columns of `members`/`groups`; every other attribute
//! is matched through `member_values`, one EXISTS per comparison, so a tenant's members are
//! never loaded into memory to be filtered.

use scimgate_domain::filter::{AttrPath, CompValue, CompareOp, Filter};
use scimgate_domain::schema::AttrType;
use scimgate_domain::time::Timestamp;

use crate::attrs::{self, Resolved, Target};
use crate::sql::SqlFrag;

/// Why a filter cannot run (→ 400 invalidFilter).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FilterSqlError(pub String);

type R = Result<(), FilterSqlError>;

fn err<T>(msg: impl Into<String>) -> Result<T, FilterSqlError> {
    Err(FilterSqlError(msg.into()))
}

/// Builds the WHERE condition for `filter` over `target`'s table.
pub fn translate(filter: &Filter, target: Target, out: &mut SqlFrag) -> R {
    let mut t = Translator { target, alias: 0 };
    t.filter(filter, None, out)
}

struct Translator {
    target: Target,
    alias: u32,
}

/// Inside `attr[...]`: the element marker's alias and the attribute's path.
struct Element<'a> {
    alias: &'a str,
    parent: &'a AttrPath,
}

impl Translator {
    fn next_alias(&mut self) -> String {
        self.alias += 1;
        format!("v{}", self.alias)
    }

    fn filter(&mut self, f: &Filter, el: Option<&Element<'_>>, out: &mut SqlFrag) -> R {
        match f {
            Filter::And(a, b) | Filter::Or(a, b) => {
                let op = if matches!(f, Filter::And(..)) {
                    " AND "
                } else {
                    " OR "
                };
                out.sql("(");
                self.filter(a, el, out)?;
                out.sql(op);
                self.filter(b, el, out)?;
                out.sql(")");
                Ok(())
            }
            Filter::Not(inner) => {
                out.sql("NOT (");
                self.filter(inner, el, out)?;
                out.sql(")");
                Ok(())
            }
            Filter::ValuePath { path, filter } => {
                if el.is_some() {
                    return err("a value filter cannot be nested inside another");
                }
                self.value_path(path, filter, out)
            }
            Filter::Present(path) => self.leaf(path, None, el, out),
            Filter::Compare { path, op, value } => self.leaf(path, Some((*op, value)), el, out),
        }
    }

    /// `emails[type eq "work" and value co "@x"]`: one element must satisfy the whole filter.
    fn value_path(&mut self, path: &AttrPath, inner: &Filter, out: &mut SqlFrag) -> R {
        let resolved = attrs::resolve(self.target, path, None).map_err(FilterSqlError)?;
        match resolved {
            Resolved::Values {
                path: p,
                multi_complex: true,
                ..
            } => {
                let alias = self.next_alias();
                out.sql(&format!(
                    "EXISTS (SELECT 1 FROM member_values {alias} WHERE {alias}.member_id = members.id AND {alias}.path = "
                ))
                .text(p)
                .sql(&format!(" AND {alias}.value IS NULL AND "));
                self.filter(
                    inner,
                    Some(&Element {
                        alias: &alias,
                        parent: path,
                    }),
                    out,
                )?;
                out.sql(")");
                Ok(())
            }
            Resolved::GroupMembers | Resolved::MemberGroups => {
                // members[value eq "id"], groups[value eq "id"]: a membership has only `value`.
                self.filter(&rebase_members(&path.attr, inner)?, None, out)
            }
            _ => err(format!(
                "{} is not a multi-valued complex attribute",
                display(path)
            )),
        }
    }

    fn leaf(
        &mut self,
        path: &AttrPath,
        cmp: Option<(CompareOp, &CompValue)>,
        el: Option<&Element<'_>>,
        out: &mut SqlFrag,
    ) -> R {
        let resolved =
            attrs::resolve(self.target, path, el.map(|e| e.parent)).map_err(FilterSqlError)?;
        match resolved {
            Resolved::Column {
                column,
                type_,
                case_exact,
            } => column_leaf(column, type_, case_exact, cmp, out),
            Resolved::Constant(v) => {
                let hit = match cmp {
                    None => true,
                    Some((CompareOp::Eq, CompValue::Str(s))) => s.eq_ignore_ascii_case(v),
                    Some((CompareOp::Ne, CompValue::Str(s))) => !s.eq_ignore_ascii_case(v),
                    Some(_) => return err(format!("unsupported comparison on {}", display(path))),
                };
                out.sql(if hit { "1 = 1" } else { "1 = 0" });
                Ok(())
            }
            Resolved::GroupMembers => {
                membership_leaf("gm.group_id = groups.id", "gm.member_id", cmp, out)
            }
            Resolved::MemberGroups => {
                membership_leaf("gm.member_id = members.id", "gm.group_id", cmp, out)
            }
            Resolved::Values {
                path: p,
                type_,
                case_exact,
                multi_complex,
                complex,
            } => {
                let alias = self.next_alias();
                if complex && cmp.is_none() {
                    // `emails pr`: an element marker exists; `name pr`: some sub-attribute does.
                    out.sql(&format!("EXISTS (SELECT 1 FROM member_values {alias} WHERE {alias}.member_id = members.id AND "));
                    if multi_complex {
                        out.sql(&format!("{alias}.path = ")).text(p);
                    } else {
                        let prefix = format!("{p}.");
                        out.sql(&format!(
                            "substr({alias}.path, 1, {}) = ",
                            prefix.chars().count()
                        ))
                        .text(prefix);
                    }
                    out.sql(")");
                    return Ok(());
                }
                let p = match (multi_complex, complex) {
                    (true, _) => format!("{p}.value"),
                    (false, true) => {
                        return err(format!(
                            "{} is complex: compare one of its sub-attributes",
                            display(path)
                        ));
                    }
                    (false, false) => p,
                };
                let negate = matches!(cmp, Some((CompareOp::Ne, _)));
                out.sql(if negate { "NOT EXISTS (" } else { "EXISTS (" });
                out.sql(&format!("SELECT 1 FROM member_values {alias} WHERE "));
                match el {
                    Some(e) => out.sql(&format!(
                        "{alias}.member_id = {0}.member_id AND {alias}.idx = {0}.idx",
                        e.alias
                    )),
                    None => out.sql(&format!("{alias}.member_id = members.id")),
                };
                out.sql(&format!(" AND {alias}.path = ")).text(p);
                match cmp {
                    None => {
                        out.sql(&format!(
                            " AND {alias}.value IS NOT NULL AND {alias}.value <> ''"
                        ));
                    }
                    Some((op, value)) => {
                        let op = if negate { CompareOp::Eq } else { op };
                        let col = if case_exact {
                            format!("{alias}.value")
                        } else {
                            format!("{alias}.value_lc")
                        };
                        out.sql(" AND ");
                        compare(&col, type_, case_exact, op, value, out)?;
                    }
                }
                out.sql(")");
                Ok(())
            }
        }
    }
}

/// `members.value` / `groups.value`: a membership row exists (pr), with that id (eq), or not (ne).
fn membership_leaf(
    join: &str,
    other: &str,
    cmp: Option<(CompareOp, &CompValue)>,
    out: &mut SqlFrag,
) -> R {
    let exists = format!("EXISTS (SELECT 1 FROM group_members gm WHERE {join}");
    match cmp {
        None => out.sql(&exists).sql(")"),
        Some((CompareOp::Eq, CompValue::Str(id))) => out
            .sql(&format!("{exists} AND {other} = "))
            .text(id.clone())
            .sql(")"),
        Some((CompareOp::Ne, CompValue::Str(id))) => out
            .sql(&format!("NOT {exists} AND {other} = "))
            .text(id.clone())
            .sql(")"),
        Some(_) => return err("membership values support eq, ne and pr"),
    };
    Ok(())
}

fn display(p: &AttrPath) -> String {
    match (&p.urn, &p.sub) {
        (Some(u), Some(s)) => format!("{u}:{}.{s}", p.attr),
        (Some(u), None) => format!("{u}:{}", p.attr),
        (None, Some(s)) => format!("{}.{s}", p.attr),
        (None, None) => p.attr.clone(),
    }
}

/// `members[value eq "x" or value eq "y"]` → the same filter on `members.value`.
fn rebase_members(attr: &str, f: &Filter) -> Result<Filter, FilterSqlError> {
    Ok(match f {
        Filter::Compare { path, op, value } => Filter::Compare {
            path: member_sub(attr, path)?,
            op: *op,
            value: value.clone(),
        },
        Filter::Present(path) => Filter::Present(member_sub(attr, path)?),
        Filter::And(a, b) => Filter::And(
            Box::new(rebase_members(attr, a)?),
            Box::new(rebase_members(attr, b)?),
        ),
        Filter::Or(a, b) => Filter::Or(
            Box::new(rebase_members(attr, a)?),
            Box::new(rebase_members(attr, b)?),
        ),
        Filter::Not(a) => Filter::Not(Box::new(rebase_members(attr, a)?)),
        Filter::ValuePath { .. } => return err("a value filter cannot be nested inside another"),
    })
}

fn member_sub(attr: &str, p: &AttrPath) -> Result<AttrPath, FilterSqlError> {
    if p.urn.is_none() && p.sub.is_none() && p.attr.eq_ignore_ascii_case("value") {
        Ok(AttrPath::with_sub(attr, "value"))
    } else {
        err(format!(
            "{attr} can be filtered on value only, not {}",
            display(p)
        ))
    }
}

/// Text of a literal for comparison with a stored value.
fn literal_text(type_: AttrType, value: &CompValue) -> Result<String, FilterSqlError> {
    match (type_, value) {
        (AttrType::Boolean, CompValue::Bool(b)) => Ok(b.to_string()),
        // Entra ID sends booleans as strings (INTEROP 2).
        (AttrType::Boolean, CompValue::Str(s))
            if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
        {
            Ok(s.to_lowercase())
        }
        (AttrType::Boolean, _) => err("a boolean attribute compares with true or false"),
        (_, CompValue::Str(s)) => Ok(s.clone()),
        (_, CompValue::Num(n)) => Ok(n.to_string()),
        (_, CompValue::Bool(b)) => Ok(b.to_string()),
        (_, CompValue::Null) => err("null cannot be compared"),
    }
}

fn like_pattern(s: &str, op: CompareOp) -> String {
    let mut esc = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            esc.push('\\');
        }
        esc.push(c);
    }
    match op {
        CompareOp::Co => format!("%{esc}%"),
        CompareOp::Sw => format!("{esc}%"),
        _ => format!("%{esc}"),
    }
}

/// `col <op> ?` for a text column (`value` or `value_lc`).
fn compare(
    col: &str,
    type_: AttrType,
    case_exact: bool,
    op: CompareOp,
    value: &CompValue,
    out: &mut SqlFrag,
) -> R {
    if matches!(value, CompValue::Null) {
        // RFC 7644 §3.4.2.2 compares against JSON values; `eq null` reads as "absent", which
        // the EXISTS form cannot express, so it is refused rather than silently wrong.
        return err("comparison with null is not supported; use pr or not (... pr)");
    }
    if type_ == AttrType::Boolean && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
        return err("boolean attributes support eq and ne only (RFC 7644 §3.4.2.2)");
    }
    let mut text = literal_text(type_, value)?;
    if type_ == AttrType::DateTime {
        text = Timestamp::parse_rfc3339(&text)
            .map(Timestamp::to_rfc3339)
            .ok_or_else(|| FilterSqlError(format!("{text:?} is not an RFC 3339 date-time")))?;
    } else if !case_exact {
        text = text.to_lowercase();
    }
    match op {
        CompareOp::Eq | CompareOp::Ne => {
            out.sql(col)
                .sql(if op == CompareOp::Eq { " = " } else { " <> " })
                .text(text);
        }
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            out.sql(col)
                .sql(" LIKE ")
                .text(like_pattern(&text, op))
                .sql(" ESCAPE '\\'");
        }
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            out.sql(col).sql(ordering(op)).text(text);
        }
    }
    Ok(())
}

fn ordering(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => " > ",
        CompareOp::Ge => " >= ",
        CompareOp::Lt => " < ",
        _ => " <= ",
    }
}

fn column_leaf(
    column: &str,
    type_: AttrType,
    case_exact: bool,
    cmp: Option<(CompareOp, &CompValue)>,
    out: &mut SqlFrag,
) -> R {
    let Some((op, value)) = cmp else {
        if type_ == AttrType::String {
            out.sql(&format!("({column} IS NOT NULL AND {column} <> '')"));
        } else {
            out.sql(&format!("{column} IS NOT NULL"));
        }
        return Ok(());
    };
    match type_ {
        AttrType::Boolean => {
            let b = literal_text(AttrType::Boolean, value)? == "true";
            match op {
                CompareOp::Eq => out.sql(column).sql(" = ").boolean(b),
                CompareOp::Ne => out.sql(column).sql(" <> ").boolean(b),
                _ => return err("boolean attributes support eq and ne only (RFC 7644 §3.4.2.2)"),
            };
            Ok(())
        }
        AttrType::DateTime => {
            let text = literal_text(type_, value)?;
            let ms = Timestamp::parse_rfc3339(&text)
                .ok_or_else(|| FilterSqlError(format!("{text:?} is not an RFC 3339 date-time")))?
                .millis();
            let sql_op = match op {
                CompareOp::Eq => " = ",
                CompareOp::Ne => " <> ",
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => ordering(op),
                _ => return err("date-time attributes support eq, ne, gt, ge, lt and le"),
            };
            out.sql(column).sql(sql_op).bigint(ms);
            Ok(())
        }
        _ => {
            if op == CompareOp::Ne {
                out.sql(&format!("({column} IS NULL OR "));
                compare(column, type_, case_exact, op, value, out)?;
                out.sql(")");
                Ok(())
            } else {
                compare(column, type_, case_exact, op, value, out)
            }
        }
    }
}

/// ORDER BY for `sortBy` (RFC 7644 §3.4.2.3), with a stable tie-break and missing values last.
pub fn order_by(target: Target, sort: Option<(&AttrPath, bool)>, out: &mut SqlFrag) -> R {
    let (table, default) = match target {
        Target::Members => ("members", "members.created, members.id"),
        Target::Groups => ("groups", "groups.created, groups.id"),
    };
    out.sql(" ORDER BY ");
    if let Some((path, descending)) = sort {
        // RFC 7644 §3.4.2.3: missing values sort last ascending and first descending.
        let dir = if descending { " DESC" } else { " ASC" };
        let key = match attrs::resolve(target, path, None).map_err(FilterSqlError)? {
            Resolved::Column { column, .. } => SqlFrag::new(column),
            Resolved::Values {
                path: p,
                case_exact,
                multi_complex,
                ..
            } => {
                // A multi-valued attribute sorts by its primary value, else its first
                // (RFC 7644 §3.4.2.3); `sortBy=emails` means `emails.value`.
                let p = if multi_complex {
                    format!("{p}.value")
                } else {
                    p
                };
                let primary = match p.rsplit_once('.') {
                    Some((parent, _)) => format!("{parent}.primary"),
                    None => format!("{p}.primary"),
                };
                let col = if case_exact { "value" } else { "value_lc" };
                let mut key = SqlFrag::new(&format!(
                    "(SELECT s.{col} FROM member_values s WHERE s.member_id = {table}.id AND s.path = "
                ));
                key.text(p).sql(
                    " ORDER BY CASE WHEN EXISTS (SELECT 1 FROM member_values pr \
                     WHERE pr.member_id = s.member_id AND pr.idx = s.idx AND pr.path = ",
                );
                key.text(primary)
                    .sql(" AND pr.value = 'true') THEN 0 ELSE 1 END, s.idx LIMIT 1)");
                key
            }
            Resolved::Constant(_) | Resolved::GroupMembers | Resolved::MemberGroups => {
                SqlFrag::default()
            }
        };
        if !key.is_empty() {
            out.sql("(")
                .append(&key)
                .sql(&format!(" IS NULL){dir}, "))
                .append(&key)
                .sql(&format!("{dir}, "));
        }
    }
    out.sql(default);
    Ok(())
}
