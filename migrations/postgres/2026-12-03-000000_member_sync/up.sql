-- Each member's sync versions in a narrow table of their own (issue 4 point 13). Every change
-- that can move a member's access bumps access_version; kept on `members`, pushing a
-- 10,000-member group rewrote 10,000 wide member rows and every index of `members` three
-- times (the SCIM write, the team reconcile, the worker's compare-and-set), and no update
-- could be HOT because the partial index's predicate reads the columns. Here a bump writes a
-- row of four columns with two indexes.
CREATE TABLE member_sync (
    member_id TEXT PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    -- Bumped in the transaction of every change that can move the member's access.
    access_version BIGINT NOT NULL DEFAULT 1,
    -- The access_version the worker applied last.
    synced_version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO member_sync (member_id, tenant_id, access_version, synced_version)
    SELECT id, tenant_id, access_version, synced_version FROM members;
CREATE INDEX member_sync_behind ON member_sync (tenant_id, member_id)
    WHERE access_version > synced_version;
DROP INDEX members_behind;
ALTER TABLE members DROP COLUMN access_version;
ALTER TABLE members DROP COLUMN synced_version;
-- The computed access hangs off member_sync, not members: the worker holds a member's
-- member_sync row while it writes the member's access, so the access row's foreign-key check
-- must not need the member row, which a SCIM DELETE holds while its cascade waits for the
-- worker's member_sync row (a lock cycle). Deleting the member still deletes both.
ALTER TABLE member_access DROP CONSTRAINT member_access_member_id_fkey;
ALTER TABLE member_access ADD CONSTRAINT member_access_member_id_fkey
    FOREIGN KEY (member_id) REFERENCES member_sync (member_id) ON DELETE CASCADE;
