//! One delivery attempt: [`WebhookSender`] posts a signed message and classifies what came
//! back as a [`DeliveryOutcome`] (retrying is the caller's business, see [`RetryPolicy`]).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};

#[cfg(doc)]
use super::RetryPolicy;
use super::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookMessage, WebhookSecret, signature_header,
    unix_now,
};

/// The `user-agent` of every delivery, so a receiver can tell our requests in its logs.
pub const USER_AGENT: &str = concat!("scimgate/", env!("CARGO_PKG_VERSION"));

/// How a [`WebhookSender`] behaves on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// The limit on establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// The limit on the whole attempt, connection to the last byte of the response read.
    pub timeout: Duration,
    /// How much of a failed response's body is kept for the error log, in bytes. The rest is
    /// never read: an endpoint must not be able to make us buffer megabytes of HTML.
    pub max_error_body: usize,
    /// Refuse `http://` endpoints. Off by default because the host application is often on the
    /// same network; the signature protects integrity either way, but not confidentiality.
    pub https_only: bool,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_error_body: 4 * 1024,
            https_only: false,
        }
    }
}

/// Delivers webhook messages over HTTP(S). It holds one `reqwest::Client` (a connection pool
/// and the TLS configuration), so build it once and share it.
///
/// Redirects are never followed: the spec counts a `3xx` as a failure, and following one would
/// send a signed request to an address nobody configured.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    config: SenderConfig,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The endpoint answered `2xx`: done.
    Delivered {
        /// The response status.
        status: u16,
    },
    /// Anything else but `410`: a non-`2xx` status (redirects included), a timeout, a
    /// connection error. Try again per the [`RetryPolicy`].
    Retry {
        /// The status, when the endpoint answered at all.
        status: Option<u16>,
        /// What went wrong, for the delivery log: the status and the start of the response body,
        /// or the transport error. It never contains the endpoint URL (which may carry a token)
        /// nor any secret.
        reason: String,
        /// The endpoint's `Retry-After` (seconds), read on `429` and `503` only.
        retry_after: Option<Duration>,
    },
    /// The endpoint answered `410 Gone`: per the spec it asks not to be sent anything more, so
    /// the caller should stop retrying and disable it.
    Gone {
        /// The response status (410).
        status: u16,
    },
}

/// A delivery that cannot be attempted at all as configured; retrying would not help.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// No secret to sign with: an unsigned webhook must never leave.
    #[error("no webhook secret to sign with")]
    NoSecrets,
    /// The endpoint is not an absolute `http(s)://` URL (or not `https://` when required).
    #[error("the webhook endpoint is not a valid {expected} URL")]
    InvalidUrl {
        /// `http(s)` or `https`.
        expected: &'static str,
    },
}

/// Could not build the HTTP client (in practice: TLS roots could not be loaded).
#[derive(Debug, thiserror::Error)]
#[error("could not build the webhook HTTP client: {0}")]
pub struct SenderBuildError(String);

impl WebhookSender {
    /// A sender with `config`.
    pub fn new(config: SenderConfig) -> Result<Self, SenderBuildError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .https_only(config.https_only)
            .build()
            .map_err(|e| SenderBuildError(error_chain(&e.without_url())))?;
        Ok(Self { client, config })
    }

    /// The configuration this sender was built with.
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// One delivery attempt of `message` to `url`, signed with every secret in `secrets` (the
    /// current one first; during a rotation the previous one too) and timestamped now.
    ///
    /// Endpoint failures are outcomes, not errors: only a delivery that could never succeed as
    /// configured (no secret, a bad URL) is an `Err`.
    pub async fn deliver(
        &self,
        url: &str,
        secrets: &[WebhookSecret],
        message: &WebhookMessage,
    ) -> Result<DeliveryOutcome, DeliveryError> {
        if secrets.is_empty() {
            return Err(DeliveryError::NoSecrets);
        }
        let url = self.check_url(url)?;
        let timestamp = unix_now();
        let body = message.body.as_bytes();
        let signature = signature_header(secrets, &message.id, timestamp, body);

        let sent = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(HEADER_ID, message.id.as_str())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SIGNATURE, signature)
            .body(message.body.clone())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Ok(transport_failure(e, &self.config)),
        };
        Ok(self.classify(response).await)
    }

    /// The endpoint as a URL, if it is one we may post to.
    fn check_url(&self, url: &str) -> Result<reqwest::Url, DeliveryError> {
        let expected = if self.config.https_only {
            "https"
        } else {
            "http(s)"
        };
        let parsed =
            reqwest::Url::parse(url).map_err(|_| DeliveryError::InvalidUrl { expected })?;
        let allowed = match parsed.scheme() {
            "https" => true,
            "http" => !self.config.https_only,
            _ => false,
        };
        if allowed && parsed.has_host() {
            Ok(parsed)
        } else {
            Err(DeliveryError::InvalidUrl { expected })
        }
    }

    /// The outcome of an answered request.
    async fn classify(&self, response: reqwest::Response) -> DeliveryOutcome {
        let status = response.status();
        if status.is_success() {
            // The body is not read: a 2xx says all we need, and the connection is dropped if
            // the endpoint sent more than hyper buffers.
            return DeliveryOutcome::Delivered {
                status: status.as_u16(),
            };
        }
        if status == StatusCode::GONE {
            return DeliveryOutcome::Gone {
                status: status.as_u16(),
            };
        }
        let retry_after = if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::SERVICE_UNAVAILABLE
        {
            retry_after_secs(response.headers())
        } else {
            None
        };
        let reason = if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| truncate(l, 200))
                .unwrap_or_default();
            format!("HTTP {status}: redirect to `{location}` not followed (update the webhook URL)")
        } else {
            let snippet = read_at_most(response, self.config.max_error_body).await;
            if snippet.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {snippet}")
            }
        };
        DeliveryOutcome::Retry {
            status: Some(status.as_u16()),
            reason,
            retry_after,
        }
    }
}

/// The outcome of a request that got no response: always a retry.
fn transport_failure(error: reqwest::Error, config: &SenderConfig) -> DeliveryOutcome {
    let kind = if error.is_timeout() {
        if error.is_connect() {
            format!("connect timed out after {:?}", config.connect_timeout)
        } else {
            format!("timed out after {:?}", config.timeout)
        }
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The URL is stripped: it may carry a token in its query, and the caller knows it anyway.
    let detail = error_chain(&error.without_url());
    DeliveryOutcome::Retry {
        status: None,
        reason: format!("{kind}: {detail}"),
        retry_after: None,
    }
}

/// An error and its sources, `: `-separated, since a reqwest error's own message ("error
/// sending request") hides the useful part ("Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// `Retry-After` as whole seconds. The HTTP-date form is not honoured: endpoints that rate-limit
/// webhooks send seconds, and a date would need a clock-skew policy of its own.
fn retry_after_secs(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

/// The first `limit` bytes of the body as (lossy) text, reading no further than that, with
/// control characters flattened so the snippet stays on one log line.
async fn read_at_most(mut response: reqwest::Response, limit: usize) -> String {
    let mut kept: Vec<u8> = Vec::new();
    while kept.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            // A body that fails half-way still gives what was read; the status is the news.
            Ok(None) | Err(_) => break,
        }
    }
    let mut text: String = String::from_utf8_lossy(&kept)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed_len = text.trim_end().len();
    text.truncate(trimmed_len);
    // Reading stopped at the limit, so there may have been more.
    if limit > 0 && kept.len() >= limit {
        text.push('…');
    }
    text
}

/// At most `max` characters of `s`.
fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::fmt;

    use super::*;

    #[test]
    fn error_chain_skips_repeated_suffixes() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl fmt::Display for E {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let e = E(
            "outer: inner",
            Some(Box::new(E("inner", Some(Box::new(E("root", None)))))),
        );
        assert_eq!(error_chain(&e), "outer: inner: root");
    }
}
