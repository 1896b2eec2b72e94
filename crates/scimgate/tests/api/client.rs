//! The HTTP side of the tests: a SCIM client with one bearer token, the answers it reads,
//! and the resources identity providers send.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const BULK_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// An HTTP answer, its body read as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs; returns the response.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 7644 §3.12 error body: the Error schema, `status` as a string, and the
    /// `scimType` (or none).
    #[track_caller]
    pub fn expect_error(self, status: u16, scim_type: Option<&str>) -> Self {
        let me = self.expect(status);
        assert_eq!(
            me.body["schemas"],
            json!([ERROR_URN]),
            "error body: {}",
            me.text
        );
        assert_eq!(
            me.body["status"],
            json!(status.to_string()),
            "error body: {}",
            me.text
        );
        assert_eq!(
            me.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "error body: {}",
            me.text
        );
        assert!(
            me.body["detail"].is_string(),
            "error body without detail: {}",
            me.text
        );
        assert!(
            me.header("content-type")
                .is_some_and(|c| c.starts_with("application/scim+json")),
            "error content type: {:?}",
            me.header("content-type")
        );
        me
    }

    /// The `id` of the resource in the body.
    #[track_caller]
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_owned()
    }

    /// `totalResults` of a list response.
    #[track_caller]
    pub fn total(&self) -> u64 {
        self.body["totalResults"]
            .as_u64()
            .unwrap_or_else(|| panic!("not a list response: {}", self.text))
    }

    /// `Resources` of a list response.
    pub fn resources(&self) -> Vec<Value> {
        self.body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The given attribute of every resource of a list response, as strings.
    pub fn each(&self, attr: &str) -> Vec<String> {
        self.resources()
            .iter()
            .map(|r| r[attr].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// A SCIM client with one credential, at `/scim/v2` or another prefix.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    root: String,
    prefix: String,
    token: Option<String>,
}

impl Client {
    /// A client of the server at `root` (`http://host:port`), at `/scim/v2`, without a token.
    pub fn new(root: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Self {
            http,
            root: root.to_owned(),
            prefix: "/scim/v2".to_owned(),
            token: None,
        }
    }

    /// The same client with another bearer token (`None`: no Authorization header).
    pub fn with_token(&self, token: Option<&str>) -> Self {
        Self {
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    /// The same client at another base path, e.g. `/tenants/acme/scim/v2`.
    pub fn at(&self, prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.root, self.prefix)
    }

    /// A request with the bearer token set, to add headers or a raw body to.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, self.url(path));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::PUT, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::PATCH, path).json(body)).await
    }

    /// A PATCH request body with these operations.
    pub async fn patch_ops(&self, path: &str, ops: Value) -> Resp {
        self.patch(path, &json!({ "schemas": [PATCH_URN], "Operations": ops }))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        send(self.request(Method::DELETE, path)).await
    }

    /// `GET /Users?filter=...` with the filter URL-encoded.
    pub async fn filter_users(&self, filter: &str) -> Resp {
        self.get(&format!("/Users?filter={}", encode(filter))).await
    }

    /// POSTs a User and returns its id (201 asserted).
    pub async fn create_user(&self, body: &Value) -> String {
        self.post("/Users", body).await.expect(201).id()
    }

    /// POSTs a Group and returns its id (201 asserted).
    pub async fn create_group(&self, body: &Value) -> String {
        self.post("/Groups", body).await.expect(201).id()
    }
}

/// Percent-encodes a query parameter value (RFC 3986 §2.3: only unreserved characters stay).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends a request and reads the whole answer.
pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let res = rb
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading the body failed: {e}"));
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// A User as identity providers send it: name, a primary work email, active.
pub fn user(user_name: &str, given: &str, family: &str, email: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": { "givenName": given, "familyName": family, "formatted": format!("{given} {family}") },
        "displayName": format!("{given} {family}"),
        "emails": [{ "value": email, "type": "work", "primary": true }],
        "active": true,
    })
}

/// A Group with these member ids.
pub fn group(display_name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    json!({ "schemas": [GROUP_URN], "displayName": display_name, "members": members })
}

/// The member ids of a Group resource, sorted.
pub fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Sorted copies of ids, to compare with [`member_ids`].
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}
