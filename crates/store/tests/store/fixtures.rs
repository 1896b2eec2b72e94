//! Realistic tenants, SCIM Users and Groups for the store tests, and short ways to list them.

use scimgate_domain::filter::{AttrPath, parse_filter};
use scimgate_domain::group::Group;
use scimgate_domain::ids::{GroupId, MemberId, TenantId};
use scimgate_domain::member::{Member, MemberKeys, MemberState, Provenance, member_keys};
use scimgate_domain::ports::{GroupStore, ListQuery, MemberStore, Sort, TenantStore};
use scimgate_domain::tenant::{Slug, Tenant, TenantSettings, UniqueIdentifier};
use scimgate_domain::time::Timestamp;
use scimgate_store::DbStore;
use serde_json::{Map, Value, json};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

pub fn new_tenant(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::generate(),
        slug: Slug::parse(slug).expect("a valid slug"),
        name: format!("{slug} Inc."),
        settings: TenantSettings::default(),
        created: Timestamp::now(),
    }
}

pub async fn add_tenant(store: &DbStore, slug: &str) -> TenantId {
    let tenant = new_tenant(slug);
    store.insert_tenant(&tenant).await.expect("insert tenant");
    tenant.id
}

/// A User as an identity provider sends it: name, a primary work email, active.
pub fn scim_user(user_name: &str, given: &str, family: &str, email: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {
            "formatted": format!("{given} {family}"),
            "givenName": given,
            "familyName": family,
        },
        "displayName": format!("{given} {family}"),
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true,
    })
}

fn object(resource: Value) -> Map<String, Value> {
    match resource {
        Value::Object(map) => map,
        other => panic!("a SCIM resource is a JSON object, not {other}"),
    }
}

/// A visible, active, SCIM-managed member at version 1, with its keys (identifier: email).
pub fn new_member(tenant: &TenantId, resource: Value) -> (Member, MemberKeys) {
    let resource = object(resource);
    let keys = member_keys(&resource, UniqueIdentifier::Email);
    let now = Timestamp::now();
    let member = Member {
        id: MemberId::generate(),
        tenant_id: tenant.clone(),
        resource,
        state: MemberState::Active,
        provenance: Provenance::Scim,
        scim_managed: true,
        scim_visible: true,
        created: now,
        last_modified: now,
        version: 1,
        first_sign_in: None,
    };
    (member, keys)
}

pub async fn add_member(store: &DbStore, tenant: &TenantId, resource: Value) -> Member {
    let (member, keys) = new_member(tenant, resource);
    store
        .insert_member(&member, &keys, None)
        .await
        .expect("insert member");
    member
}

/// `member` with a new resource, its version bumped; returns it with its keys.
pub fn edited(member: &Member, resource: Value) -> (Member, MemberKeys) {
    let resource = object(resource);
    let keys = member_keys(&resource, UniqueIdentifier::Email);
    let mut next = member.clone();
    next.resource = resource;
    next.version += 1;
    next.last_modified = Timestamp::now();
    (next, keys)
}

pub fn new_group(tenant: &TenantId, display_name: &str, external_id: Option<&str>) -> Group {
    let mut resource = Map::new();
    resource.insert("schemas".into(), json!([GROUP_URN]));
    resource.insert("displayName".into(), json!(display_name));
    if let Some(ext) = external_id {
        resource.insert("externalId".into(), json!(ext));
    }
    let now = Timestamp::now();
    let mut group = Group {
        id: GroupId::generate(),
        tenant_id: tenant.clone(),
        display_name: String::new(),
        external_id: None,
        resource,
        created: now,
        last_modified: now,
        version: 1,
    };
    group.sync_keys();
    group
}

pub async fn add_group(
    store: &DbStore,
    tenant: &TenantId,
    display_name: &str,
    members: &[&Member],
) -> Group {
    let group = new_group(tenant, display_name, None);
    let ids: Vec<MemberId> = members.iter().map(|m| m.id.clone()).collect();
    store
        .insert_group(&group, &ids)
        .await
        .expect("insert group");
    group
}

/// `group` renamed (or not) with its version bumped.
pub fn bumped(group: &Group) -> Group {
    let mut next = group.clone();
    next.version += 1;
    next.last_modified = Timestamp::now();
    next
}

pub fn filter_query(filter: &str) -> ListQuery {
    ListQuery {
        filter: Some(parse_filter(filter).unwrap_or_else(|e| panic!("{filter:?}: {e:?}"))),
        sort: None,
        start_index: 1,
        count: 100,
    }
}

pub fn all_query() -> ListQuery {
    ListQuery {
        filter: None,
        sort: None,
        start_index: 1,
        count: 100,
    }
}

pub fn sorted_query(path: AttrPath, descending: bool) -> ListQuery {
    ListQuery {
        sort: Some(Sort { path, descending }),
        ..all_query()
    }
}

pub fn user_name(member: &Member) -> String {
    member
        .resource
        .get("userName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The userNames of the members `filter` selects, sorted.
pub async fn matching(store: &DbStore, tenant: &TenantId, filter: &str) -> Vec<String> {
    let page = store
        .list_members(tenant, &filter_query(filter))
        .await
        .unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    let mut names: Vec<String> = page.items.iter().map(user_name).collect();
    names.sort();
    assert_eq!(
        page.total,
        names.len() as u64,
        "{filter:?}: total disagrees with the page"
    );
    names
}

/// The userNames of a page, in the page's order.
pub async fn listed(store: &DbStore, tenant: &TenantId, query: &ListQuery) -> Vec<String> {
    let page = store
        .list_members(tenant, query)
        .await
        .expect("list members");
    page.items.iter().map(user_name).collect()
}

/// The display names of the groups `filter` selects, sorted.
pub async fn matching_groups(store: &DbStore, tenant: &TenantId, filter: &str) -> Vec<String> {
    let page = store
        .list_groups(tenant, &filter_query(filter))
        .await
        .unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    let mut names: Vec<String> = page.items.into_iter().map(|g| g.display_name).collect();
    names.sort();
    names
}
