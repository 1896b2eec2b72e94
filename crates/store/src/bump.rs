//! The statements that mark members' access behind (`member_sync.access_version + 1`) inside
//! the transaction of the change that caused it, and the seat count. Built as [`SqlFrag`]s so
//! one text serves both backends. The versions live in the narrow `member_sync` table, not on
//! `members`: a bump then writes a small row and two index entries, not a wide member row and
//! every index of `members` (docs/decisions.md).

use crate::members::CHUNK;
use crate::sql::SqlFrag;

const BUMP: &str = "UPDATE member_sync SET access_version = access_version + 1 WHERE tenant_id = ";

/// The bump of these members, one statement per chunk.
pub(crate) fn members(tenant: &str, ids: &[String]) -> Vec<SqlFrag> {
    ids.chunks(CHUNK)
        .map(|chunk| {
            let mut q = SqlFrag::new(BUMP);
            q.text(tenant).sql(" AND member_id").in_list(chunk);
            q
        })
        .collect()
}

/// Bumps every member of a group.
pub(crate) fn group_members(tenant: &str, group: &str) -> SqlFrag {
    let mut q = SqlFrag::new(BUMP);
    q.text(tenant)
        .sql(" AND member_id IN (SELECT member_id FROM group_members WHERE group_id = ")
        .text(group)
        .sql(")");
    q
}

/// Bumps every member of a team.
pub(crate) fn team_members(tenant: &str, team: &str) -> SqlFrag {
    let mut q = SqlFrag::new(BUMP);
    q.text(tenant)
        .sql(" AND member_id IN (SELECT member_id FROM team_members WHERE team_id = ")
        .text(team)
        .sql(")");
    q
}

/// Bumps every member of the tenant.
pub(crate) fn tenant(tenant: &str) -> SqlFrag {
    let mut q = SqlFrag::new(BUMP);
    q.text(tenant);
    q
}

/// The row a new member's versions live in: behind (1 > 0) from the start.
pub(crate) fn new_member(tenant: &str, member: &str) -> SqlFrag {
    let mut q = SqlFrag::new(
        "INSERT INTO member_sync (member_id, tenant_id, access_version, synced_version) VALUES (",
    );
    q.text(member).sql(", ").text(tenant).sql(", 1, 0)");
    q
}

/// Takes the tenant's write lock for the rest of the transaction: a row lock on PostgreSQL,
/// the database's write lock on SQLite (taken first, so two writers never deadlock upgrading
/// a read lock). Serialises seat-limited writes of one tenant.
pub(crate) fn lock_tenant(tenant: &str) -> SqlFrag {
    let mut q = SqlFrag::new("UPDATE tenants SET name = name WHERE id = ");
    q.text(tenant);
    q
}

/// Members taking a seat besides `except`: active, and not denied by a group mapped to
/// deactivated (a member whose access is not computed yet counts: the limit errs on the safe
/// side).
pub(crate) fn seats(tenant: &str, except: Option<&str>) -> SqlFrag {
    let mut q = SqlFrag::new(
        "SELECT COUNT(*) AS n FROM members m LEFT JOIN member_access a ON a.member_id = m.id \
         WHERE m.tenant_id = ",
    );
    q.text(tenant)
        .sql(" AND m.state = ")
        .text("active")
        .sql(" AND (a.state IS NULL OR a.state <> ")
        .text("deactivated")
        .sql(")");
    if let Some(id) = except {
        q.sql(" AND m.id <> ").text(id);
    }
    q
}

/// How many of `ids` a group write gives their seat back (SEMANTICS 10: a reactivation past
/// the seat limit is refused): SCIM-active, stored as deactivated, and, after the write, in no
/// group mapped to `deactivated` (bound to the group, or naming it while unbound). Run inside
/// the write's transaction, after its membership changes.
pub(crate) fn regained(tenant: &str, ids: &[String]) -> SqlFrag {
    let mut q = SqlFrag::new(
        "SELECT COUNT(*) AS n FROM member_access a JOIN members m ON m.id = a.member_id \
         WHERE a.tenant_id = ",
    );
    q.text(tenant)
        .sql(" AND a.state = ")
        .text("deactivated")
        .sql(" AND m.state = ")
        .text("active")
        .sql(
            " AND NOT EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id \
             JOIN group_mappings mp ON mp.tenant_id = g.tenant_id AND mp.kind = ",
        )
        .text("role")
        .sql(" AND mp.role = ")
        .text("deactivated")
        .sql(
            " AND (mp.group_id = g.id OR (mp.group_id IS NULL AND mp.group_name_lc = \
             g.display_name_lc)) WHERE gm.member_id = a.member_id) AND a.member_id",
        )
        .in_list(ids);
    q
}
