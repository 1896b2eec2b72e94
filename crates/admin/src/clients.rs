//! `/admin/v1/tenants/{slug}/clients` and `/tokens`: OAuth2 clients (secrets shown once,
//! rotation with an overlap, revocation) and static SCIM tokens.

use actix_web::{HttpResponse, web};
use scimgate_authz::registry::{self, client_json, token_json};
use scimgate_domain::ids::{ClientId, TokenId};
use scimgate_domain::oauth::{ClientRecord, ScopeSet};
use scimgate_domain::tenant::Tenant;
use scimgate_domain::time::Timestamp;
use serde::Deserialize;
use serde_json::json;

use crate::error::{Problem, bounded_seconds, json_body};
use crate::tenants::by_slug;
use crate::{AdminState, Operator};

/// The client of this tenant, else 404 (another tenant's client is not revealed).
async fn client_of(st: &AdminState, tenant: &Tenant, id: &str) -> Result<ClientRecord, Problem> {
    st.store
        .client(&ClientId::from_raw(id))
        .await?
        .filter(|c| c.tenant_id == tenant.id)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no client {id:?} in tenant {:?}",
                tenant.slug.as_str()
            ))
        })
}

pub async fn list(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let t = by_slug(&st, &path).await?;
    let clients = st.store.clients_of(&t.id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "clients": clients.iter().map(|c| client_json(c, t.slug.as_str())).collect::<Vec<_>>()
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClient {
    name: Option<String>,
    /// Space-delimited; default the SCIM scopes (`admin` only when asked for).
    scope: Option<String>,
}

fn with_secret(mut body: serde_json::Value, secret: &str) -> serde_json::Value {
    if let Some(o) = body.as_object_mut() {
        o.insert("client_secret".into(), json!(secret));
    }
    body
}

pub async fn create(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let t = by_slug(&st, &path).await?;
    let new: NewClient = json_body(&body)?;
    let scopes = match new.scope.as_deref() {
        None => ScopeSet::scim(),
        Some(s) => ScopeSet::parse(s).map_err(|e| Problem::bad_request(e.to_string()))?,
    };
    let name = new.name.unwrap_or_else(|| "IdP".to_owned());
    let (client, secret) =
        registry::create(st.store.as_ref(), &st.hasher, &t.id, &name, scopes).await?;
    tracing::info!(tenant = %t.slug, client_id = %client.client_id, "registered an OAuth2 client");
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/admin/v1/tenants/{}/clients/{}", t.slug, client.client_id),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .json(with_secret(
            client_json(&client, t.slug.as_str()),
            &secret.0,
        )))
}

pub async fn show(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (slug, id) = path.into_inner();
    let t = by_slug(&st, &slug).await?;
    let c = client_of(&st, &t, &id).await?;
    Ok(HttpResponse::Ok().json(client_json(&c, t.slug.as_str())))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotate {
    /// How long the current secret keeps working (default `oauth.secret_rotation_overlap_seconds`).
    overlap_seconds: Option<i64>,
}

pub async fn rotate(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let (slug, id) = path.into_inner();
    let t = by_slug(&st, &slug).await?;
    let c = client_of(&st, &t, &id).await?;
    let req: Rotate = json_body(&body)?;
    let overlap = bounded_seconds(
        "overlap_seconds",
        req.overlap_seconds.unwrap_or(st.default_overlap_seconds),
        0,
    )?;
    if c.revoked.is_some() {
        return Err(Problem::conflict(
            "a revoked client cannot be rotated; register a new one",
        ));
    }
    let (client, secret) =
        registry::rotate(st.store.as_ref(), &st.hasher, &c.client_id, overlap).await?;
    (st.on_revoke)();
    tracing::info!(client_id = %client.client_id, overlap, "rotated a client secret");
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(with_secret(
            client_json(&client, t.slug.as_str()),
            &secret.0,
        )))
}

pub async fn revoke(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (slug, id) = path.into_inner();
    let t = by_slug(&st, &slug).await?;
    let c = client_of(&st, &t, &id).await?;
    let client = registry::revoke(st.store.as_ref(), &c.client_id).await?;
    (st.on_revoke)();
    tracing::warn!(client_id = %client.client_id, "revoked a client");
    Ok(HttpResponse::Ok().json(client_json(&client, t.slug.as_str())))
}

pub async fn list_tokens(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let t = by_slug(&st, &path).await?;
    let tokens = st.store.tokens_of(&t.id).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    expires_in_seconds: Option<i64>,
}

pub async fn create_token(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let t = by_slug(&st, &path).await?;
    let req: NewToken = json_body(&body)?;
    let expires = match req.expires_in_seconds {
        Some(s) => {
            Some(Timestamp::now().plus_seconds(bounded_seconds("expires_in_seconds", s, 1)?))
        }
        None => None,
    };
    let (record, secret) =
        registry::create_static_token(st.store.as_ref(), &st.hasher, &t.id, expires).await?;
    tracing::info!(tenant = %t.slug, token_id = %record.id, "issued a static SCIM token");
    let mut body = token_json(&record);
    if let Some(o) = body.as_object_mut() {
        o.insert("token".into(), json!(secret.0));
    }
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

pub async fn revoke_token(
    _: Operator,
    st: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (slug, id) = path.into_inner();
    let t = by_slug(&st, &slug).await?;
    let tokens = st.store.tokens_of(&t.id).await?;
    if !tokens.iter().any(|k| k.id.as_str() == id) {
        return Err(Problem::not_found(format!(
            "no token {id:?} in tenant {:?}",
            t.slug.as_str()
        )));
    }
    st.store
        .revoke_token(&TokenId::from_raw(id.clone()), Timestamp::now())
        .await?;
    (st.on_revoke)();
    Ok(HttpResponse::Ok().json(json!({ "id": id, "revoked": true })))
}
