//! The OAuth2 authorization server through HTTP, on both backends: the Rust `oauth2` crate as a
//! real client, the token endpoint's refusals (RFC 6749 §5.2), scopes on the SCIM API (RFC 6750
//! §3.1), introspection (RFC 7662), revocation (RFC 7009), and the failure rate limit.

use reqwest::Method;
use scimgate_authz::registry;
use scimgate_domain::oauth::ScopeSet;
use scimgate_domain::tenant::Tenant;
use serde_json::json;

use crate::harness::*;

/// A client of `tenant` as `scimgate client create` makes it: (client_id, secret).
pub async fn add_client(app: &TestApp, tenant: &Tenant, scope: &str) -> (String, String) {
    let (c, secret) = registry::create(
        app.services.db.as_ref(),
        &app.services.hasher,
        &tenant.id,
        "IdP",
        ScopeSet::parse(scope).expect("scopes"),
    )
    .await
    .expect("a client");
    (c.client_id.into_string(), secret.0)
}

/// How a token request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    None,
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// POSTs a form to `path` with the given client authentication.
pub async fn post_form(app: &TestApp, path: &str, auth: Auth<'_>, pairs: &[(&str, &str)]) -> Resp {
    let mut pairs = pairs.to_vec();
    let mut rb = app
        .root()
        .with_token(None)
        .request(Method::POST, path)
        .header("content-type", "application/x-www-form-urlencoded");
    match auth {
        Auth::Basic(id, secret) => rb = rb.basic_auth(id, Some(secret)),
        Auth::Post(id, secret) => {
            pairs.push(("client_id", id));
            pairs.push(("client_secret", secret));
        }
        Auth::None => {}
    }
    send(rb.body(form(&pairs))).await
}

/// An access token for (id, secret) with these extra parameters (200 asserted).
pub async fn access_token(app: &TestApp, id: &str, secret: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("grant_type", "client_credentials")];
    pairs.extend_from_slice(extra);
    let r = post_form(app, "/oauth/token", Auth::Basic(id, secret), &pairs)
        .await
        .expect(200);
    r.body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// Asserts an RFC 6749 §5.2 error answer with `Cache-Control: no-store`.
#[track_caller]
pub fn expect_oauth_error(r: Resp, status: u16, error: &str) -> Resp {
    let r = r.expect(status);
    assert_eq!(r.body["error"], error, "{}", r.text);
    assert!(r.body["error_description"].is_string(), "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.text);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    if status == 401 {
        assert!(
            r.header("www-authenticate")
                .is_some_and(|c| c.starts_with("Basic ")),
            "401 without a Basic challenge: {:?}",
            r.header("www-authenticate")
        );
    }
    r
}

/// The Rust `oauth2` crate's async HTTP client, on our reqwest.
async fn oauth2_http(req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::new();
    let res = client.execute(reqwest::Request::try_from(req)?).await?;
    let mut out = oauth2::http::Response::builder().status(res.status().as_u16());
    for (k, v) in res.headers() {
        out = out.header(k.as_str(), v.as_bytes());
    }
    let body = res.bytes().await?.to_vec();
    Ok(out.body(body).expect("a response"))
}

#[tokio::test]
async fn the_rust_oauth2_crate_gets_tokens_with_basic_and_post_and_scim_accepts_them() {
    use oauth2::basic::BasicClient;
    use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse as _, TokenUrl};
    for_each_backend(|app| async move {
        let (id, secret) = add_client(&app, &app.tenant, "scim:read scim:write").await;
        let token_url = TokenUrl::new(app.root().url("/oauth/token")).unwrap();
        for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
            let client = BasicClient::new(ClientId::new(id.clone()))
                .set_client_secret(ClientSecret::new(secret.clone()))
                .set_token_uri(token_url.clone())
                .set_auth_type(auth_type.clone());
            let token = client
                .exchange_client_credentials()
                .add_scope(Scope::new("scim:read".into()))
                .request_async(&oauth2_http)
                .await
                .unwrap_or_else(|e| panic!("{auth_type:?}: {e:?}"));
            assert_eq!(token.token_type().as_ref(), "bearer");
            assert_eq!(token.scopes().map(|s| s.len()), Some(1));
            assert!(token.expires_in().is_some_and(|d| d.as_secs() == 3600));
            let scim = app.scim.with_token(Some(token.access_token().secret()));
            scim.get("/Users").await.expect(200);
            // Narrowed to read: a write is refused.
            scim.post(
                "/Users",
                &user("a@acme.example", "A", "B", "a@acme.example"),
            )
            .await
            .expect(403);
        }
        // A wrong secret is an error the crate understands.
        let bad = BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new("wrong".into()))
            .set_token_uri(token_url);
        let err = bad
            .exchange_client_credentials()
            .request_async(&oauth2_http)
            .await
            .unwrap_err();
        assert!(
            format!("{err:?}").contains("invalid_client"),
            "the crate should read invalid_client: {err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_requests_in_rfc_6749_terms() {
    for_each_backend(|app| async move {
        let (id, secret) = add_client(&app, &app.tenant, "scim:read").await;
        let (id, secret) = (id.as_str(), secret.as_str());
        let cc = [("grant_type", "client_credentials")];
        let basic = Auth::Basic(id, secret);
        let cases: Vec<(&str, Resp, u16, &str)> = vec![
            (
                "no grant_type",
                post_form(&app, "/oauth/token", basic, &[]).await,
                400,
                "invalid_request",
            ),
            (
                "password grant",
                post_form(&app, "/oauth/token", basic, &[("grant_type", "password")]).await,
                400,
                "unsupported_grant_type",
            ),
            (
                "scope beyond the client's",
                post_form(
                    &app,
                    "/oauth/token",
                    basic,
                    &[cc[0], ("scope", "scim:write")],
                )
                .await,
                400,
                "invalid_scope",
            ),
            (
                "unknown scope",
                post_form(&app, "/oauth/token", basic, &[cc[0], ("scope", "admin")]).await,
                400,
                "invalid_scope",
            ),
            (
                "another resource",
                post_form(
                    &app,
                    "/oauth/token",
                    basic,
                    &[cc[0], ("resource", "https://evil.example")],
                )
                .await,
                400,
                "invalid_target",
            ),
            (
                "repeated parameter",
                post_form(
                    &app,
                    "/oauth/token",
                    basic,
                    &[cc[0], ("scope", "scim:read"), ("scope", "scim:read")],
                )
                .await,
                400,
                "invalid_request",
            ),
            (
                "wrong secret",
                post_form(
                    &app,
                    "/oauth/token",
                    Auth::Basic(id, "scimgate_cs_wrong"),
                    &cc,
                )
                .await,
                401,
                "invalid_client",
            ),
            (
                "unknown client",
                post_form(&app, "/oauth/token", Auth::Post("sgc_nobody", secret), &cc).await,
                401,
                "invalid_client",
            ),
            (
                "no client authentication",
                post_form(&app, "/oauth/token", Auth::None, &cc).await,
                401,
                "invalid_client",
            ),
            (
                "client_id without a secret",
                post_form(
                    &app,
                    "/oauth/token",
                    Auth::None,
                    &[cc[0], ("client_id", id)],
                )
                .await,
                401,
                "invalid_client",
            ),
        ];
        for (what, r, status, error) in cases {
            assert_eq!(r.status, status, "{what}: {}", r.text);
            expect_oauth_error(r, status, error);
        }

        // Both methods at once (RFC 6749 §2.3).
        let both = send(
            app.root()
                .with_token(None)
                .request(Method::POST, "/oauth/token")
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[cc[0], ("client_id", id), ("client_secret", secret)])),
        )
        .await;
        expect_oauth_error(both, 400, "invalid_request");
        // JSON is not a form.
        let json_body = send(
            app.root()
                .with_token(None)
                .request(Method::POST, "/oauth/token")
                .basic_auth(id, Some(secret))
                .json(&json!({ "grant_type": "client_credentials" })),
        )
        .await;
        expect_oauth_error(json_body, 400, "invalid_request");
        // The secret never travels in the URL.
        let in_url = send(
            app.root()
                .request(
                    Method::POST,
                    &format!("/oauth/token?client_secret={secret}"),
                )
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&cc)),
        )
        .await;
        expect_oauth_error(in_url, 400, "invalid_request");
        // GET is not the token endpoint's method.
        let get = app.root().with_token(None).get("/oauth/token").await;
        expect_oauth_error(get, 405, "invalid_request");
        // A huge body is refused before it is read whole.
        let huge = "x".repeat(64 * 1024);
        let big = post_form(&app, "/oauth/token", basic, &[cc[0], ("pad", &huge)]).await;
        expect_oauth_error(big, 413, "invalid_request");

        // And the good request: no-store, Bearer, the narrowed scope.
        let ok = post_form(&app, "/oauth/token", basic, &cc)
            .await
            .expect(200);
        assert_eq!(ok.header("cache-control"), Some("no-store"));
        assert_eq!(ok.header("pragma"), Some("no-cache"));
        assert_eq!(ok.body["token_type"], "Bearer");
        assert_eq!(ok.body["scope"], "scim:read");
        assert_eq!(ok.body["expires_in"], 3600);
        // An empty value counts as omitted (RFC 6749 §3.1): every scope of the client.
        let empty = post_form(&app, "/oauth/token", basic, &[cc[0], ("scope", "")]).await;
        assert_eq!(empty.expect(200).body["scope"], "scim:read");
    })
    .await;
}

#[tokio::test]
async fn scim_reads_need_scim_read_and_writes_need_scim_write() {
    for_each_backend(|app| async move {
        let (rid, rsecret) = add_client(&app, &app.tenant, "scim:read").await;
        let (wid, wsecret) = add_client(&app, &app.tenant, "scim:write").await;
        let reader = app
            .scim
            .with_token(Some(&access_token(&app, &rid, &rsecret, &[]).await));
        let writer = app
            .scim
            .with_token(Some(&access_token(&app, &wid, &wsecret, &[]).await));
        let alice = user("alice@acme.example", "Alice", "L", "alice@acme.example");

        let challenge = |r: &Resp, scope: &str| {
            assert_eq!(
                r.header("www-authenticate"),
                Some(
                    format!(
                        "Bearer realm=\"scimgate\", error=\"insufficient_scope\", scope=\"{scope}\""
                    )
                    .as_str()
                ),
                "{}",
                r.text
            );
        };
        let r = reader.post("/Users", &alice).await.expect_error(403, None);
        challenge(&r, "scim:write");
        let bulk = json!({ "schemas": [BULK_URN], "Operations": [] });
        challenge(
            &reader.post("/Bulk", &bulk).await.expect_error(403, None),
            "scim:write",
        );
        let id = writer.create_user(&alice).await;
        challenge(
            &writer.get("/Users").await.expect_error(403, None),
            "scim:read",
        );
        challenge(
            &writer
                .get("/ServiceProviderConfig")
                .await
                .expect_error(403, None),
            "scim:read",
        );
        writer.delete(&format!("/Users/{id}")).await.expect(204);

        reader.get("/Users").await.expect(200);
        reader.get("/ServiceProviderConfig").await.expect(200);
        let search = json!({ "schemas": [SEARCH_URN], "filter": "userName pr" });
        reader.post("/Users/.search", &search).await.expect(200);
        reader.post("/.search", &search).await.expect(200);
        // The tenant path must be the token's tenant.
        reader
            .at("/tenants/acme/scim/v2")
            .get("/Users")
            .await
            .expect(200);
        reader
            .at("/tenants/globex/scim/v2")
            .get("/Users")
            .await
            .expect_error(404, None);
        // The static token keeps every scope.
        app.scim.get("/Users").await.expect(200);
    })
    .await;
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_token() {
    for_each_backend(|app| async move {
        let (id, secret) = add_client(&app, &app.tenant, "scim:read").await;
        let token = access_token(&app, &id, &secret, &[]).await;
        let mut tampered: Vec<char> = token.chars().collect();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        for bad in [
            tampered.as_str(),
            "eyJhbGciOiJub25lIn0.e30.",
            "garbage",
            "a.b.c",
        ] {
            let r = app
                .scim
                .with_token(Some(bad))
                .get("/Users")
                .await
                .expect_error(401, None);
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer realm=\"scimgate\", error=\"invalid_token\""),
                "{bad}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn introspection_shows_the_callers_tenant_only_and_revocation_applies_at_once() {
    for_each_backend(|app| async move {
        let (id, secret) = add_client(&app, &app.tenant, "scim:read scim:write").await;
        let (other, _) = app.other_tenant("globex").await;
        let (oid, osecret) = add_client(&app, &other, "scim:read").await;
        let token = access_token(&app, &id, &secret, &[]).await;
        let others = access_token(&app, &oid, &osecret, &[]).await;

        let introspect = |t: String| {
            let (app, id, secret) = (&app, id.clone(), secret.clone());
            async move {
                let r = post_form(
                    app,
                    "/oauth/introspect",
                    Auth::Basic(&id, &secret),
                    &[("token", &t)],
                )
                .await;
                assert_eq!(r.header("cache-control"), Some("no-store"));
                r.expect(200).body
            }
        };
        let active = introspect(token.clone()).await;
        assert_eq!(active["active"], true);
        assert_eq!(active["client_id"], id.as_str());
        assert_eq!(active["scope"], "scim:read scim:write");
        assert_eq!(active["tenant"], app.tenant.id.as_str());
        assert_eq!(active["token_type"], "Bearer");
        for k in ["exp", "iat", "sub", "aud", "iss", "jti"] {
            assert!(!active[k].is_null(), "introspection lacks {k}: {active}");
        }
        assert_eq!(introspect(others.clone()).await, json!({ "active": false }));
        assert_eq!(
            introspect("not-a-token".into()).await,
            json!({ "active": false })
        );
        // The caller must authenticate.
        let anon = post_form(&app, "/oauth/introspect", Auth::None, &[("token", &token)]).await;
        expect_oauth_error(anon, 401, "invalid_client");
        let missing = post_form(&app, "/oauth/introspect", Auth::Basic(&id, &secret), &[]).await;
        expect_oauth_error(missing, 400, "invalid_request");

        // Revoking another client's token is a no-op; the token keeps working.
        post_form(
            &app,
            "/oauth/revoke",
            Auth::Basic(&id, &secret),
            &[("token", &others)],
        )
        .await
        .expect(200);
        app.scim
            .with_token(Some(&others))
            .get("/Users")
            .await
            .expect(200);
        // Revoking an unknown token is not an error (RFC 7009 §2.2).
        post_form(
            &app,
            "/oauth/revoke",
            Auth::Basic(&id, &secret),
            &[("token", "nonsense")],
        )
        .await
        .expect(200);
        // Revoking its own: refused everywhere from now on.
        app.scim
            .with_token(Some(&token))
            .get("/Users")
            .await
            .expect(200);
        post_form(
            &app,
            "/oauth/revoke",
            Auth::Post(&id, &secret),
            &[("token", &token), ("token_type_hint", "access_token")],
        )
        .await
        .expect(200);
        app.scim
            .with_token(Some(&token))
            .get("/Users")
            .await
            .expect_error(401, None);
        assert_eq!(introspect(token).await, json!({ "active": false }));
        // The client itself still works.
        let fresh = access_token(&app, &id, &secret, &[]).await;
        app.scim
            .with_token(Some(&fresh))
            .get("/Users")
            .await
            .expect(200);
    })
    .await;
}

#[tokio::test]
async fn failed_client_authentication_is_rate_limited_per_client_and_per_address() {
    for_each_backend_with(
        |s| {
            s.oauth.failed_auth_per_client = 3;
            s.oauth.failed_auth_per_address = 5;
        },
        |app| async move {
            let (id, secret) = add_client(&app, &app.tenant, "scim:read").await;
            let cc = [("grant_type", "client_credentials")];
            for _ in 0..3 {
                let r = post_form(
                    &app,
                    "/oauth/token",
                    Auth::Basic(&id, "scimgate_cs_guess"),
                    &cc,
                )
                .await;
                expect_oauth_error(r, 401, "invalid_client");
            }
            // Blocked now, even with the right secret: a guesser learns nothing more.
            let r = post_form(&app, "/oauth/token", Auth::Basic(&id, &secret), &cc).await;
            let r = expect_oauth_error(r, 429, "temporarily_unavailable");
            let wait: u64 = r
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
            // Another client from the same address: two more failures reach the address limit.
            for _ in 0..2 {
                let r = post_form(&app, "/oauth/token", Auth::Basic("sgc_nobody", "x"), &cc).await;
                expect_oauth_error(r, 401, "invalid_client");
            }
            let (oid, osecret) = add_client(&app, &app.tenant, "scim:read").await;
            let r = post_form(&app, "/oauth/token", Auth::Basic(&oid, &osecret), &cc).await;
            expect_oauth_error(r, 429, "temporarily_unavailable");
        },
    )
    .await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_against_the_forwarded_client() {
    for_each_backend_with(
        |s| {
            s.security.trust_forwarded_for = true;
            s.oauth.failed_auth_per_address = 2;
        },
        |app| async move {
            let fail_from = |ip: &'static str, client: &'static str| {
                let app = &app;
                async move {
                    send(
                        app.root()
                            .with_token(None)
                            .request(Method::POST, "/oauth/token")
                            .basic_auth(client, Some("wrong"))
                            .header("x-forwarded-for", ip)
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body("grant_type=client_credentials"),
                    )
                    .await
                }
            };
            expect_oauth_error(
                fail_from("203.0.113.7", "sgc_a").await,
                401,
                "invalid_client",
            );
            expect_oauth_error(
                fail_from("203.0.113.7", "sgc_b").await,
                401,
                "invalid_client",
            );
            expect_oauth_error(
                fail_from("203.0.113.7", "sgc_c").await,
                429,
                "temporarily_unavailable",
            );
            // Another client behind the same proxy is not blocked.
            expect_oauth_error(
                fail_from("198.51.100.9", "sgc_d").await,
                401,
                "invalid_client",
            );
        },
    )
    .await;
}
