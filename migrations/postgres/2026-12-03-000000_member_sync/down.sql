ALTER TABLE member_access DROP CONSTRAINT member_access_member_id_fkey;
ALTER TABLE member_access ADD CONSTRAINT member_access_member_id_fkey
    FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE;
ALTER TABLE members ADD COLUMN synced_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN access_version BIGINT NOT NULL DEFAULT 1;
UPDATE members SET
    access_version = (SELECT s.access_version FROM member_sync s WHERE s.member_id = members.id),
    synced_version = (SELECT s.synced_version FROM member_sync s WHERE s.member_id = members.id)
WHERE EXISTS (SELECT 1 FROM member_sync s WHERE s.member_id = members.id);
CREATE INDEX members_behind ON members (tenant_id, id) WHERE access_version > synced_version;
DROP TABLE member_sync;
