//! The tenant admin API (issue 4 point 10) on both backends: who may call it (the operator, or
//! an access token of the tenant's own client with scope `admin`), and the flow a tenant admin
//! and the host application go through — mappings, team sync, effective access, sign-in.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::oauth::{access_token, add_client};

async fn call(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
    let client = app.root().with_token(Some(token));
    let rb = client.request(method, &format!("/admin/v1/tenants{path}"));
    send(match body {
        Some(b) => rb.json(&b),
        None => rb,
    })
    .await
}

async fn op(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Resp {
    call(app, OPERATOR_TOKEN, method, path, body).await
}

/// Polls `GET members/{id}` (up to 15 s) until `ok` holds of it.
async fn member_when(app: &TestApp, id: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        last = op(app, Method::GET, &format!("/acme/members/{id}"), None)
            .await
            .expect(200)
            .body;
        if ok(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("member {id} never got there; last seen: {last}");
}

#[tokio::test]
async fn a_tenant_admin_token_reaches_its_own_tenant_only_and_only_with_the_admin_scope() {
    for_each_backend(|app| async move {
        let (other, _) = app.other_tenant("globex").await;
        let (id, secret) = add_client(&app, &app.tenant, "scim:read scim:write admin").await;
        let admin = access_token(&app, &id, &secret, &[("scope", "admin")]).await;
        let r = call(&app, &admin, Method::GET, "/acme/settings", None)
            .await
            .expect(200);
        assert_eq!(r.body["teamSync"], false);
        assert_eq!(r.body["defaultInitialRole"], "reader");
        // Another tenant's endpoints do not exist for it, and the support endpoints are the
        // operator's.
        let r = call(&app, &admin, Method::GET, "/globex/settings", None).await;
        assert_eq!(
            r.expect(404).header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(other.slug.as_str(), "globex");
        call(&app, &admin, Method::GET, "/acme/clients", None)
            .await
            .expect(401);
        // An admin-only token is no SCIM credential (RFC 6750 §3.1).
        let r = app
            .scim
            .with_token(Some(&admin))
            .get("/Users")
            .await
            .expect(403);
        assert!(
            r.header("www-authenticate")
                .is_some_and(|c| c.contains("insufficient_scope"))
        );

        // A SCIM token (static or OAuth2) lacks the admin scope: 403 with the challenge.
        let scim_only = access_token(&app, &id, &secret, &[("scope", "scim:read")]).await;
        for token in [scim_only.as_str(), app.token.as_str()] {
            let r = call(&app, token, Method::GET, "/acme/settings", None)
                .await
                .expect(403);
            assert_eq!(
                r.header("www-authenticate"),
                Some(
                    "Bearer realm=\"scimgate-admin\", error=\"insufficient_scope\", scope=\"admin\""
                )
            );
        }
        // No credential, a forged one.
        for token in ["", "eyJhbGciOiJub25lIn0.e30."] {
            let r = call(&app, token, Method::GET, "/acme/settings", None)
                .await
                .expect(401);
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|c| c.starts_with("Bearer "))
            );
        }
        // A client gets the admin scope only when registered with it.
        let (plain, plain_secret) = add_client(&app, &app.tenant, "scim:read scim:write").await;
        let r = crate::oauth::post_form(
            &app,
            "/oauth/token",
            crate::oauth::Auth::Basic(&plain, &plain_secret),
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .await
        .expect(400);
        assert_eq!(r.body["error"], "invalid_scope");
    })
    .await;
}

#[tokio::test]
async fn mappings_team_sync_and_sign_in_through_the_admin_api() {
    for_each_backend(|app| async move {
        // The settings: team sync on, activation on first sign-in; a bad default role is 400.
        op(&app, Method::PATCH, "/acme/settings", Some(json!({ "defaultInitialRole": "pilot" })))
            .await
            .expect(400);
        let s = op(
            &app,
            Method::PATCH,
            "/acme/settings",
            Some(json!({ "teamSync": true, "activateOn": "first_sign_in", "seatLimit": 1 })),
        )
        .await
        .expect(200);
        assert_eq!((s.body["teamSync"].clone(), s.body["seatLimit"].clone()), (json!(true), json!(1)));

        // A project, and the three kinds of mapping for a group not pushed yet.
        op(&app, Method::PUT, "/acme/projects/p-1", Some(json!({ "name": "Labels" })))
            .await
            .expect(201);
        let m = op(
            &app,
            Method::POST,
            "/acme/mappings",
            Some(json!({ "group": "Admins", "kind": "role", "role": "admin" })),
        )
        .await
        .expect(201);
        assert_eq!(m.body["groupId"], Value::Null);
        op(&app, Method::POST, "/acme/mappings", Some(json!({ "group": "Admins", "kind": "role", "role": "manager" })))
            .await
            .expect(409);
        op(&app, Method::POST, "/acme/mappings", Some(json!({ "group": "Admins", "kind": "workspace", "workspace": "Research" })))
            .await
            .expect(201);
        op(&app, Method::POST, "/acme/mappings", Some(json!({ "group": "Admins", "kind": "project", "project": "p-1", "role": "inherit" })))
            .await
            .expect(201);
        op(&app, Method::POST, "/acme/mappings", Some(json!({ "group": "Admins", "kind": "project", "project": "nope", "role": "reader" })))
            .await
            .expect(400);
        // admin is in use now.
        let r = op(&app, Method::PUT, "/acme/roles", Some(json!({ "roles": [{ "key": "owner" }, { "key": "reader" }] })))
            .await
            .expect(409);
        assert!(r.body["detail"].as_str().unwrap().contains("\"admin\""), "{}", r.text);

        // The IdP pushes two users and the group.
        let alice = app.scim.create_user(&user("alice", "Alice", "A", "alice@acme.example")).await;
        let bob = app.scim.create_user(&user("bob", "Bob", "B", "bob@acme.example")).await;
        app.scim.create_group(&group("Admins", &[&alice, &bob])).await;

        // Members' identifier keys were computed with the current setting: it stays.
        let r = op(&app, Method::PATCH, "/acme/settings", Some(json!({ "uniqueIdentifier": "userName" })))
            .await
            .expect(409);
        assert!(r.body["detail"].as_str().unwrap().contains("no members"), "{}", r.text);

        // Not activated: the role and project are pending, no seat is taken.
        let a = member_when(&app, &alice, |m| {
            m["synced"] == true && m["access"]["role"] == "admin" && m["access"]["teams"].as_array().is_some_and(|t| t.len() == 1)
        })
        .await;
        assert_eq!(a["access"]["state"], "not_activated");
        assert_eq!(a["access"]["projects"]["p-1"]["role"], "admin");
        assert_eq!(a["access"]["workspaces"].as_array().unwrap().len(), 1);

        // The team came from the group: its name and members are the IdP's.
        let teams = op(&app, Method::GET, "/acme/teams", None).await.expect(200);
        let team = &teams.body["teams"][0];
        assert_eq!((team["name"].clone(), team["synced"].clone()), (json!("Admins"), json!(true)));
        assert_eq!(sorted(&[team["members"][0].as_str().unwrap(), team["members"][1].as_str().unwrap()]), sorted(&[&alice, &bob]));
        let tid = team["id"].as_str().unwrap().to_owned();
        let r = op(&app, Method::PATCH, &format!("/acme/teams/{tid}"), Some(json!({ "name": "Root" })))
            .await
            .expect(409);
        assert!(r.body["detail"].as_str().unwrap().contains("through the IdP"), "{}", r.text);
        op(&app, Method::PATCH, &format!("/acme/teams/{tid}"), Some(json!({ "description": "the admins" })))
            .await
            .expect(200);
        op(&app, Method::POST, "/acme/teams", Some(json!({ "name": "Hand-made" })))
            .await
            .expect(409);

        // The first sign-in activates alice; bob would pass the seat limit of 1.
        let r = op(&app, Method::POST, &format!("/acme/members/{alice}/sign-in"), None)
            .await
            .expect(200);
        assert!(r.body["firstSignIn"].is_string());
        member_when(&app, &alice, |m| m["access"]["state"] == "active").await;
        let r = op(&app, Method::POST, &format!("/acme/members/{bob}/sign-in"), None)
            .await
            .expect(409);
        assert!(r.body["detail"].as_str().unwrap().contains("seat limit of 1"), "{}", r.text);
        let list = op(&app, Method::GET, "/acme/members?filter=userName%20eq%20%22bob%22", None)
            .await
            .expect(200);
        assert_eq!(list.body["totalResults"], 1);
        assert_eq!(list.body["members"][0]["state"], "not_activated");

        // Team sync off: the team stays and becomes editable.
        op(&app, Method::PATCH, "/acme/settings", Some(json!({ "teamSync": false })))
            .await
            .expect(200);
        let t = op(&app, Method::GET, &format!("/acme/teams/{tid}"), None).await.expect(200);
        assert_eq!((t.body["synced"].clone(), t.body["description"].clone()), (json!(false), json!("the admins")));
        op(&app, Method::PATCH, &format!("/acme/teams/{tid}"), Some(json!({ "name": "Root", "members": [alice] })))
            .await
            .expect(200);
        member_when(&app, &bob, |m| m["synced"] == true && m["access"]["teams"] == json!([])).await;

        // The outbox saw it all.
        let ev = op(&app, Method::GET, "/acme/events?limit=200", None).await.expect(200);
        let types: Vec<&str> = ev.body["events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
        for t in ["member.created", "team.created", "team.unlinked", "access.changed"] {
            assert!(types.contains(&t), "no {t} in {types:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn removing_a_member_is_an_event_for_the_host_application() {
    for_each_backend(|app| async move {
        op(
            &app,
            Method::PATCH,
            "/acme/settings",
            Some(json!({ "deleteBehaviour": "remove" })),
        )
        .await
        .expect(200);
        let carol = app
            .scim
            .create_user(&user("carol", "Carol", "C", "carol@acme.example"))
            .await;
        member_when(&app, &carol, |m| m["synced"] == true).await;
        app.scim
            .delete(&format!("/Users/{carol}"))
            .await
            .expect(204);
        op(&app, Method::GET, &format!("/acme/members/{carol}"), None)
            .await
            .expect(404);
        let ev = op(&app, Method::GET, "/acme/events", None)
            .await
            .expect(200);
        let removed: Vec<&Value> = ev.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "member.removed")
            .collect();
        assert_eq!(removed.len(), 1, "{}", ev.text);
        assert_eq!(
            removed[0]["data"],
            json!({ "id": carol, "userName": "carol" })
        );
        // No endpoint is set: it stays in the log as undelivered.
        assert_eq!(removed[0]["status"], "undelivered");
    })
    .await;
}

#[tokio::test]
async fn turning_team_sync_on_makes_teams_of_the_groups_pushed_before() {
    for_each_backend(|app| async move {
        let dana = app
            .scim
            .create_user(&user("dana", "Dana", "D", "dana@acme.example"))
            .await;
        app.scim.create_group(&group("Design", &[&dana])).await;
        member_when(&app, &dana, |m| m["synced"] == true).await;
        let teams = op(&app, Method::GET, "/acme/teams", None).await.expect(200);
        assert_eq!(teams.body["teams"], json!([]));
        op(
            &app,
            Method::PATCH,
            "/acme/settings",
            Some(json!({ "teamSync": true })),
        )
        .await
        .expect(200);
        let m = member_when(&app, &dana, |m| {
            m["synced"] == true
                && m["access"]["teams"]
                    .as_array()
                    .is_some_and(|t| t.len() == 1)
        })
        .await;
        let t = op(&app, Method::GET, "/acme/teams", None).await.expect(200);
        assert_eq!(t.body["teams"][0]["name"], "Design");
        assert_eq!(t.body["teams"][0]["synced"], true);
        assert_eq!(t.body["teams"][0]["id"], m["access"]["teams"][0]);
    })
    .await;
}
