//! `/tenants/{slug}/dead-letters`, `/webhook` and `/events`: the jobs the worker gave up on,
//! the tenant's webhook endpoint (Standard Webhooks; one endpoint and secret per tenant) and
//! the change events sent or waiting.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use scimgate_domain::jobs::{DeadLetter, QueueError};
use scimgate_domain::ports::{EventRecord, WebhookEndpoint};
use scimgate_domain::time::Timestamp;
use scimgate_sync::dispatch::secret_context;
use scimgate_sync::webhook::WebhookSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Problem, json_body, query_number};
use crate::{AdminState, TenantAdmin};

/// The most dead letters one listing shows.
const DEAD_LETTERS_SHOWN: usize = 100;

fn unavailable(e: QueueError) -> Problem {
    tracing::warn!(error = %e, "the job queue is unavailable");
    let mut p = Problem::new(
        503,
        "Service Unavailable",
        format!("the job queue is unavailable ({e}); retry shortly"),
    );
    p.retry_after = Some(5);
    p
}

fn dead_letter_json(d: &DeadLetter) -> Value {
    json!({
        "id": d.id,
        "kind": d.job.kind.as_str(),
        "target": d.job.id,
        "error": d.error,
        "attempts": d.attempts,
        "failedAt": d.failed_at.to_rfc3339(),
    })
}

pub async fn dead_letters(
    who: TenantAdmin,
    st: web::Data<AdminState>,
) -> Result<HttpResponse, Problem> {
    let list = st
        .consumer
        .dead_letters(&who.tenant.id, DEAD_LETTERS_SHOWN)
        .await
        .map_err(unavailable)?;
    let out: Vec<Value> = list.iter().map(dead_letter_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "deadLetters": out })))
}

pub async fn requeue(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let found = st
        .consumer
        .requeue_dead_letter(&who.tenant.id, &path.1)
        .await;
    dead_letter_done(&who, &path.1, found, "requeued a dead letter")
}

pub async fn discard(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let found = st
        .consumer
        .discard_dead_letter(&who.tenant.id, &path.1)
        .await;
    dead_letter_done(&who, &path.1, found, "discarded a dead letter")
}

/// The answer to a requeue or discard: 204, 404 for an unknown id, 503 when the queue is down.
fn dead_letter_done(
    who: &TenantAdmin,
    id: &str,
    found: Result<bool, QueueError>,
    what: &'static str,
) -> Result<HttpResponse, Problem> {
    if !found.map_err(unavailable)? {
        return Err(Problem::not_found(format!("no dead letter {id:?}")));
    }
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, id = %id, "{what}");
    Ok(HttpResponse::NoContent().finish())
}

fn webhook_json(ep: &WebhookEndpoint, secret: Option<&str>) -> Value {
    let mut v = json!({
        "url": ep.url,
        "enabled": ep.enabled,
        "created": ep.created.to_rfc3339(),
        "updated": ep.updated.to_rfc3339(),
    });
    if let Some(s) = secret {
        v["secret"] = json!(s);
    }
    v
}

/// An absolute `https` URL without credentials or fragment; plain `http` only to the local
/// machine (a receiver under development). The host application's own endpoint, so no
/// further address policy here.
fn check_url(raw: &str) -> Result<String, Problem> {
    let bad = |why: &str| Problem::bad_request(format!("url {raw:?} {why}"));
    let u = url::Url::parse(raw.trim()).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    let local = matches!(
        u.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match u.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err(bad("must be https (http only for localhost)")),
    }
    if u.host().is_none() {
        return Err(bad("has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    if u.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    if u.as_str().len() > 2000 {
        return Err(bad("is longer than 2000 characters"));
    }
    Ok(u.to_string())
}

async fn endpoint(st: &AdminState, who: &TenantAdmin) -> Result<WebhookEndpoint, Problem> {
    st.store
        .webhook_endpoint(&who.tenant.id)
        .await?
        .ok_or_else(|| Problem::not_found("this tenant has no webhook endpoint"))
}

/// A new secret, and its sealed form for storage.
fn new_secret(st: &AdminState, who: &TenantAdmin) -> Result<(String, String), Problem> {
    let secret = WebhookSecret::generate()
        .map_err(|e| {
            tracing::error!(error = %e, "webhook secret generation failed");
            Problem::internal()
        })?
        .expose();
    let sealed = st
        .secrets
        .seal(&secret_context(&who.tenant.id), secret.as_bytes())
        .map_err(|e| {
            tracing::error!(error = %e, "sealing the webhook secret failed");
            Problem::internal()
        })?;
    Ok((secret, sealed))
}

pub async fn show_webhook(
    who: TenantAdmin,
    st: web::Data<AdminState>,
) -> Result<HttpResponse, Problem> {
    let ep = endpoint(&st, &who).await?;
    Ok(HttpResponse::Ok().json(webhook_json(&ep, None)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    url: String,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// Sets the endpoint. A new endpoint gets a new secret, shown once in this response; replacing
/// the URL keeps the secret (the receiver keeps verifying).
pub async fn put_webhook(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let new: WebhookBody = json_body(&body)?;
    let url = check_url(&new.url)?;
    let now = Timestamp::now();
    match st.store.webhook_endpoint(&who.tenant.id).await? {
        Some(old) => {
            let ep = WebhookEndpoint {
                url,
                enabled: new.enabled,
                updated: now,
                ..old
            };
            st.store.put_webhook_endpoint(&ep).await?;
            tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, "changed the webhook endpoint");
            Ok(HttpResponse::Ok().json(webhook_json(&ep, None)))
        }
        None => {
            let (secret, sealed) = new_secret(&st, &who)?;
            let ep = WebhookEndpoint {
                tenant_id: who.tenant.id.clone(),
                url,
                secret: sealed,
                enabled: new.enabled,
                created: now,
                updated: now,
            };
            st.store.put_webhook_endpoint(&ep).await?;
            tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, "set the webhook endpoint");
            Ok(HttpResponse::Created()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(webhook_json(&ep, Some(&secret))))
        }
    }
}

pub async fn rotate_secret(
    who: TenantAdmin,
    st: web::Data<AdminState>,
) -> Result<HttpResponse, Problem> {
    let old = endpoint(&st, &who).await?;
    let (secret, sealed) = new_secret(&st, &who)?;
    let ep = WebhookEndpoint {
        secret: sealed,
        updated: Timestamp::now(),
        ..old
    };
    st.store.put_webhook_endpoint(&ep).await?;
    tracing::warn!(tenant = %who.tenant.slug, caller = %who.caller, "rotated the webhook secret");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(webhook_json(&ep, Some(&secret))))
}

pub async fn delete_webhook(
    who: TenantAdmin,
    st: web::Data<AdminState>,
) -> Result<HttpResponse, Problem> {
    if !st.store.delete_webhook_endpoint(&who.tenant.id).await? {
        return Err(Problem::not_found("this tenant has no webhook endpoint"));
    }
    tracing::info!(tenant = %who.tenant.slug, caller = %who.caller, "deleted the webhook endpoint");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct EventParams {
    limit: Option<String>,
    before: Option<String>,
}

fn event_json(e: &EventRecord) -> Value {
    let data = serde_json::from_str::<Value>(&e.payload)
        .ok()
        .and_then(|p| p.get("data").cloned())
        .unwrap_or_else(|| json!({}));
    json!({
        "id": e.id,
        "type": e.event_type,
        "status": e.status.as_str(),
        "attempts": e.attempts,
        "created": e.created.to_rfc3339(),
        "delivered": e.delivered.map(Timestamp::to_rfc3339),
        "lastError": e.last_error,
        "data": data,
    })
}

pub async fn events(
    who: TenantAdmin,
    st: web::Data<AdminState>,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, Problem> {
    let limit = query_number("limit", params.limit.as_deref(), 50, 1..=200)?;
    let before = match params.before.as_deref() {
        None => None,
        Some(s) => Some(Timestamp::parse_rfc3339(s).ok_or_else(|| {
            Problem::bad_request(format!("before must be an RFC 3339 timestamp, not {s:?}"))
        })?),
    };
    let list = st.store.events(&who.tenant.id, before, limit).await?;
    let out: Vec<Value> = list.iter().map(event_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "events": out })))
}
