//! Roles, teams and effective access end to end: SCIM writes through the real server, the
//! in-process worker reconciling them, and what the store then holds (issue 4 points 1–8).

use std::time::Duration;

use scimgate_domain::access::{
    ACCESS_EXTENSION_URN, AccessState, Mapping, MappingKind, OrgTarget, RoleCatalogue, RoleDef,
};
use scimgate_domain::ids::{MappingId, MemberId};
use scimgate_domain::ports::{AccessStore as _, StoredAccess};
use scimgate_domain::tenant::ActivateOn;
use scimgate_domain::time::Timestamp;
use serde_json::{Value, json};

use crate::harness::*;

/// Waits (up to 15 s) until the member's stored access satisfies `ok`.
async fn access_when(
    app: &TestApp,
    member: &str,
    ok: impl Fn(&StoredAccess) -> bool,
) -> StoredAccess {
    let id = MemberId::from_raw(member);
    let mut last = None;
    for _ in 0..300 {
        last = app
            .services
            .db
            .member_access(&app.tenant.id, &id)
            .await
            .expect("read access");
        if let Some(a) = &last
            && ok(a)
        {
            return a.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("member {member}'s access never got there; last seen: {last:?}");
}

fn role_is(role: &'static str) -> impl Fn(&StoredAccess) -> bool {
    move |a| a.access.role.as_deref() == Some(role)
}

async fn map_role(app: &TestApp, group: &str, role: &str) {
    app.services
        .db
        .insert_mapping(&Mapping {
            id: MappingId::generate(),
            tenant_id: app.tenant.id.clone(),
            group_name: group.to_owned(),
            group_id: None,
            kind: MappingKind::Role(OrgTarget::parse(role)),
            created: Timestamp::now(),
        })
        .await
        .expect("insert mapping");
}

fn with_role(mut body: Value, role: &str, custom: &[&str]) -> Value {
    body["schemas"]
        .as_array_mut()
        .expect("schemas")
        .push(json!(ACCESS_EXTENSION_URN));
    body[ACCESS_EXTENSION_URN] = json!({"role": role, "customRole": custom});
    body
}

#[tokio::test]
async fn pushed_groups_give_the_highest_mapped_role_and_team_sync_follows_them() {
    for_each_backend(|mut app| async move {
        app.set_settings(|s| s.team_sync = true).await;
        let mut catalogue = RoleCatalogue::default();
        catalogue.custom_roles.push(RoleDef::new("flag-editor"));
        app.services
            .db
            .put_catalogue(&app.tenant.id, &catalogue)
            .await
            .expect("catalogue");
        // Mappings made before the first push (SEMANTICS 11), Datasaur's example.
        map_role(&app, "Administrators", "admin").await;
        map_role(&app, "QA", "reviewer").await;

        let alice = app
            .scim
            .create_user(&user("alice", "Alice", "A", "alice@example.com"))
            .await;
        let bob = app
            .scim
            .create_user(&user("bob", "Bob", "B", "bob@example.com"))
            .await;
        let carol = app
            .scim
            .create_user(&with_role(
                user("carol", "Carol", "C", "carol@example.com"),
                "manager",
                &["flag-editor"],
            ))
            .await;
        let admins = app
            .scim
            .create_group(&group("Administrators", &[&alice]))
            .await;
        app.scim.create_group(&group("QA", &[&alice, &bob])).await;

        // Datasaur: Administrator + QA → Admin.
        access_when(&app, &alice, role_is("admin")).await;
        access_when(&app, &bob, role_is("reviewer")).await;
        let c = access_when(&app, &carol, role_is("manager")).await;
        assert!(c.access.custom_roles.contains("flag-editor"));
        assert_eq!(c.access.state, AccessState::Active);

        // Team sync: the pushed group made a team with the group's members.
        let teams = app.services.db.teams(&app.tenant.id).await.expect("teams");
        let team = teams
            .iter()
            .find(|t| t.name == "Administrators")
            .expect("a team for the pushed group")
            .clone();
        assert_eq!(
            team.group_id.as_ref().map(|g| g.as_str()),
            Some(admins.as_str())
        );
        let members = app
            .services
            .db
            .team_members(&app.tenant.id, &team.id)
            .await
            .expect("team members");
        assert_eq!(members, vec![MemberId::from_raw(alice.clone())]);

        // Removing bob from QA takes its role away: the default initial role applies.
        app.scim
            .patch_ops(
                &format!(
                    "/Groups/{}",
                    app.scim
                        .get("/Groups?filter=displayName%20eq%20%22QA%22")
                        .await
                        .resources()[0]["id"]
                        .as_str()
                        .unwrap_or_default()
                ),
                json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]),
            )
            .await
            .expect(200);
        access_when(&app, &bob, role_is("reader")).await;

        // Deleting the group never deletes the team: it is unlinked, keeps its members.
        app.scim
            .delete(&format!("/Groups/{admins}"))
            .await
            .expect(204);
        access_when(&app, &alice, role_is("reviewer")).await;
        let mut unlinked = None;
        for _ in 0..200 {
            let t = app
                .services
                .db
                .team(&app.tenant.id, &team.id)
                .await
                .expect("team");
            if t.as_ref().is_some_and(|t| t.group_id.is_none()) {
                unlinked = t;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(unlinked.is_some(), "the team was not unlinked");
        assert_eq!(
            app.services
                .db
                .team_members(&app.tenant.id, &team.id)
                .await
                .expect("team members")
                .len(),
            1
        );

        // The provisioning log has the events the host application gets.
        let events = app
            .services
            .db
            .events(&app.tenant.id, None, 500)
            .await
            .expect("events");
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        for want in [
            "member.created",
            "access.changed",
            "team.created",
            "team.unlinked",
        ] {
            assert!(types.contains(&want), "no {want} event in {types:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_group_mapped_to_deactivated_revokes_access_and_frees_the_seat() {
    for_each_backend(|app| async move {
        map_role(&app, "Offboarded", "deactivated").await;
        map_role(&app, "Admins", "admin").await;
        let dana = app
            .scim
            .create_user(&user("dana", "Dana", "D", "dana@example.com"))
            .await;
        app.scim.create_group(&group("Admins", &[&dana])).await;
        app.scim.create_group(&group("Offboarded", &[&dana])).await;
        let a = access_when(&app, &dana, |a| a.access.state == AccessState::Deactivated).await;
        assert_eq!(a.access.role, None);
        assert_eq!(
            app.services
                .db
                .seats_taken(&app.tenant.id)
                .await
                .expect("seats"),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn the_seat_limit_refuses_a_create_or_reactivation_past_it_and_writes_nothing() {
    for_each_backend(|mut app| async move {
        app.set_settings(|s| s.seat_limit = Some(2)).await;
        app.scim
            .create_user(&user("s1", "S", "One", "s1@example.com"))
            .await;
        let s2 = app
            .scim
            .create_user(&user("s2", "S", "Two", "s2@example.com"))
            .await;
        let res = app
            .scim
            .post("/Users", &user("s3", "S", "Three", "s3@example.com"))
            .await
            .expect_error(403, None);
        assert!(
            res.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("seat limit of 2 reached")),
            "{}",
            res.body
        );
        assert_eq!(
            app.scim
                .filter_users("userName eq \"s3\"")
                .await
                .expect(200)
                .total(),
            0
        );

        // A deactivated member frees its seat; reactivating it past the limit is refused.
        app.scim
            .patch_ops(
                &format!("/Users/{s2}"),
                json!([{"op": "replace", "path": "active", "value": false}]),
            )
            .await
            .expect(200);
        app.scim
            .create_user(&user("s3", "S", "Three", "s3@example.com"))
            .await;
        app.scim
            .patch_ops(
                &format!("/Users/{s2}"),
                json!([{"op": "replace", "path": "active", "value": true}]),
            )
            .await
            .expect_error(403, None);
        let still = app.scim.get(&format!("/Users/{s2}")).await.expect(200);
        assert_eq!(still.body["active"], false);
    })
    .await;
}

#[tokio::test]
async fn leaving_a_deactivating_group_past_the_seat_limit_is_refused_and_writes_nothing() {
    for_each_backend(|mut app| async move {
        map_role(&app, "Offboarded", "deactivated").await;
        let u1 = app
            .scim
            .create_user(&user("u1", "U", "One", "u1@example.com"))
            .await;
        app.scim
            .create_user(&user("u2", "U", "Two", "u2@example.com"))
            .await;
        let u3 = app
            .scim
            .create_user(&user("u3", "U", "Three", "u3@example.com"))
            .await;
        let off = app.scim.create_group(&group("Offboarded", &[&u3])).await;
        access_when(&app, &u3, |a| a.access.state == AccessState::Deactivated).await;
        // u1 and u2 take the two seats; u3 would take a third by leaving the group.
        app.set_settings(|s| s.seat_limit = Some(2)).await;
        let remove = json!([{"op": "remove", "path": format!("members[value eq \"{u3}\"]")}]);
        let res = app
            .scim
            .patch_ops(&format!("/Groups/{off}"), remove.clone())
            .await
            .expect_error(403, None);
        assert!(
            res.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("seat limit of 2 reached")),
            "{}",
            res.body
        );
        let replace = json!([{"op": "replace", "path": "members", "value": []}]);
        app.scim
            .patch_ops(&format!("/Groups/{off}"), replace)
            .await
            .expect_error(403, None);
        app.scim
            .delete(&format!("/Groups/{off}"))
            .await
            .expect_error(403, None);
        // Nor may the tenant admin delete the mapping that keeps u3 out.
        let mapping = app
            .services
            .db
            .mappings(&app.tenant.id)
            .await
            .expect("mappings")
            .into_iter()
            .find(|m| m.group_name == "Offboarded")
            .expect("the mapping");
        let refused = app
            .services
            .db
            .delete_mapping(&app.tenant.id, &mapping.id)
            .await;
        assert!(
            matches!(
                refused,
                Err(scimgate_domain::ports::StoreError::SeatLimit { limit: 2 })
            ),
            "{refused:?}"
        );
        // Nothing was written: u3 is still a member, still deactivated.
        let g = app.scim.get(&format!("/Groups/{off}")).await.expect(200);
        assert_eq!(member_ids(&g.body), vec![u3.clone()]);
        assert_eq!(
            app.services
                .db
                .seats_taken(&app.tenant.id)
                .await
                .expect("seats"),
            2
        );
        // A seat freed (u1 deactivated by the IdP), u3 may leave and takes it.
        app.scim
            .patch_ops(
                &format!("/Users/{u1}"),
                json!([{"op": "replace", "path": "active", "value": false}]),
            )
            .await
            .expect(200);
        app.scim
            .patch_ops(&format!("/Groups/{off}"), remove)
            .await
            .expect(200);
        access_when(&app, &u3, |a| a.access.state == AccessState::Active).await;
    })
    .await;
}

#[tokio::test]
async fn a_role_or_custom_role_outside_the_catalogue_is_an_invalid_value() {
    for_each_backend(|app| async move {
        let res = app
            .scim
            .post(
                "/Users",
                &with_role(user("x", "X", "X", "x@example.com"), "superuser", &[]),
            )
            .await
            .expect_error(400, Some("invalidValue"));
        assert!(
            res.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("superuser"))
        );
        app.scim
            .post(
                "/Users",
                &with_role(user("y", "Y", "Y", "y@example.com"), "admin", &["no-such"]),
            )
            .await
            .expect_error(400, Some("invalidValue"));
        // Filterable like any attribute.
        let id = app
            .scim
            .create_user(&with_role(
                user("z", "Z", "Z", "z@example.com"),
                "admin",
                &[],
            ))
            .await;
        let found = app
            .scim
            .filter_users(&format!("{ACCESS_EXTENSION_URN}:role eq \"admin\""))
            .await
            .expect(200);
        assert_eq!(found.each("id"), vec![id]);
    })
    .await;
}

#[tokio::test]
async fn with_activation_on_first_sign_in_a_member_waits_for_it_and_takes_no_seat() {
    for_each_backend(|mut app| async move {
        app.set_settings(|s| {
            s.activate_on = ActivateOn::FirstSignIn;
            s.seat_limit = Some(1);
        })
        .await;
        let a = app
            .scim
            .create_user(&user("na", "N", "A", "na@example.com"))
            .await;
        let b = app
            .scim
            .create_user(&user("nb", "N", "B", "nb@example.com"))
            .await;
        let pending = access_when(&app, &a, |x| x.access.state == AccessState::NotActivated).await;
        assert_eq!(pending.access.role.as_deref(), Some("reader"));
        assert_eq!(
            app.services
                .db
                .seats_taken(&app.tenant.id)
                .await
                .expect("seats"),
            0
        );

        let signed = app
            .services
            .db
            .record_sign_in(
                &app.tenant.id,
                &MemberId::from_raw(a.clone()),
                Timestamp::now(),
                Some(1),
            )
            .await
            .expect("sign-in");
        assert!(signed.first_sign_in.is_some());
        access_when(&app, &a, |x| x.access.state == AccessState::Active).await;
        // The second sign-in would pass the seat limit of 1.
        let refused = app
            .services
            .db
            .record_sign_in(
                &app.tenant.id,
                &MemberId::from_raw(b),
                Timestamp::now(),
                Some(1),
            )
            .await;
        assert!(
            matches!(
                refused,
                Err(scimgate_domain::ports::StoreError::SeatLimit { limit: 1 })
            ),
            "{refused:?}"
        );
    })
    .await;
}

/// One HTTP request as a tiny local receiver saw it.
#[derive(Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A local webhook receiver answering `statuses` in turn (then 204), reporting each request.
async fn receiver(statuses: Vec<u16>) -> (String, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut statuses = statuses.into_iter();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, length) = loop {
                let Ok(n) = sock.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (pos + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let Ok(n) = sock.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let headers = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                .collect();
            let status = statuses.next().unwrap_or(204);
            let _sent = tx.send(Received {
                headers,
                body: buf[head_end..].to_vec(),
            });
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _written = sock.write_all(reply.as_bytes()).await;
        }
    });
    (url, rx)
}

#[tokio::test]
async fn changes_reach_the_host_application_as_signed_webhooks_retried_after_a_failure() {
    use scimgate_domain::ports::{EventStatus, WebhookEndpoint};
    use scimgate_domain::secrets::SecretBox as _;
    use scimgate_sync::webhook::{SignedHeaders, WebhookSecret, verify};
    for_each_backend(|app| async move {
        let (url, mut requests) = receiver(vec![500]).await;
        let secret = WebhookSecret::generate().expect("secret");
        let kek = app.services.kek.clone().expect("a key-encryption key");
        let sealed = kek
            .seal(
                &scimgate_sync::dispatch::secret_context(&app.tenant.id),
                secret.expose().as_bytes(),
            )
            .expect("seal");
        app.services
            .db
            .put_webhook_endpoint(&WebhookEndpoint {
                tenant_id: app.tenant.id.clone(),
                url,
                secret: sealed,
                enabled: true,
                created: Timestamp::now(),
                updated: Timestamp::now(),
            })
            .await
            .expect("endpoint");
        let id = app
            .scim
            .create_user(&user("hook", "Hook", "H", "hook@example.com"))
            .await;

        // The first attempt is answered 500: the event stays pending with the error kept.
        let first = tokio::time::timeout(Duration::from_secs(15), requests.recv())
            .await
            .expect("a webhook within 15 s")
            .expect("a request");
        let get = |r: &Received, name: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let (hid, hts, hsig) = (
            get(&first, "webhook-id"),
            get(&first, "webhook-timestamp"),
            get(&first, "webhook-signature"),
        );
        let headers = SignedHeaders {
            id: &hid,
            timestamp: &hts,
            signature: &hsig,
        };
        let now = hts.parse::<i64>().expect("a unix timestamp");
        verify(
            std::slice::from_ref(&secret),
            &headers,
            &first.body,
            now,
            Duration::from_secs(300),
        )
        .expect("the signature verifies with the tenant's secret");
        let body: Value = serde_json::from_slice(&first.body).expect("JSON");
        assert_eq!(body["type"], "member.created");
        assert_eq!(body["data"]["id"], id);
        let mut pending = None;
        for _ in 0..100 {
            let events = app
                .services
                .db
                .events(&app.tenant.id, None, 10)
                .await
                .expect("events");
            pending = events.into_iter().find(|e| e.id == hid);
            if pending.as_ref().is_some_and(|e| e.attempts == 1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let pending = pending.expect("the event");
        assert_eq!(pending.status, EventStatus::Pending);
        assert!(
            pending
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("500")),
            "{pending:?}"
        );

        // The retry (about 5 s later, the Standard Webhooks schedule) carries the same id and
        // body; answered 204, the event is delivered.
        let second = tokio::time::timeout(Duration::from_secs(20), requests.recv())
            .await
            .expect("a retry within 20 s")
            .expect("a request");
        assert_eq!(get(&second, "webhook-id"), hid);
        assert_eq!(second.body, first.body);
        for _ in 0..100 {
            let events = app
                .services
                .db
                .events(&app.tenant.id, None, 10)
                .await
                .expect("events");
            if events
                .iter()
                .any(|e| e.id == hid && e.status == EventStatus::Delivered)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the retried event was never marked delivered");
    })
    .await;
}
