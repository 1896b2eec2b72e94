DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE member_values;
DROP TABLE members;
DROP TABLE scim_tokens;
DROP TABLE tenants;
