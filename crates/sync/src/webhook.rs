//! Webhooks signed per the Standard Webhooks convention (<https://www.standardwebhooks.com/>).
//!
//! A change event goes to the host application as an HTTP POST whose JSON body is signed with
//! HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}` and sent with three headers:
//! `webhook-id` (the same on every retry, so the receiver can de-duplicate), `webhook-timestamp`
//! (unix seconds of *this attempt*, so a captured request cannot be replayed later) and
//! `webhook-signature` (space-separated `v1,<base64>` entries, one per active secret, so a secret
//! can be rotated without downtime). Secrets are written `whsec_<base64 of the key bytes>`.
//!
//! The pieces:
//! - [`WebhookSecret`], [`MessageId`], [`WebhookMessage`]: the values involved;
//! - [`sign`], [`signature_header`], [`verify`]: the signature scheme, both ends of it (the
//!   verifier is what a receiver runs; we use it in tests and for tooling);
//! - [`WebhookSender`]: one attempt at delivery, classified as a [`DeliveryOutcome`];
//! - [`RetryPolicy`] and [`retry_schedule`]: when to try again.
//!
//! HMAC, constant-time comparison and randomness come from aws-lc-rs, the project's one crypto
//! stack; TLS is rustls on the same provider.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{constant_time, hmac, rand};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use serde::{Deserialize, Serialize};

/// The header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// The prefix of a serialized secret, per the spec (it lets tools tell the scheme at a glance).
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a timestamp may be from the receiver's clock, either way: the spec's reference
/// libraries use five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The `user-agent` of every delivery, so a receiver can tell our requests in its logs.
pub const USER_AGENT: &str = concat!("scimgate/", env!("CARGO_PKG_VERSION"));

/// The spec asks for at least 24 bytes (192 bits) of key.
const MIN_SECRET_BYTES: usize = 24;
/// And at most 512 bits.
const MAX_SECRET_BYTES: usize = 64;
/// What [`WebhookSecret::generate`] makes: 256 bits, the HMAC-SHA256 block-size sweet spot.
const GENERATED_SECRET_BYTES: usize = 32;
/// The signature version of HMAC-SHA256; `v1a` (ed25519) entries are skipped by the verifier.
const SIGNATURE_VERSION: &str = "v1";
/// A message id longer than this is not an id we would make, nor one worth hashing.
const MAX_MESSAGE_ID_LEN: usize = 256;

/// Base64 decoding that accepts padded and unpadded input alike: the reference libraries do
/// (a `whsec_` secret of 24 bytes has no padding; one of 32 has), and strictness here would only
/// make a correct secret fail to load. Encoding always uses [`STANDARD`] (padded), as the spec's
/// examples do.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

/// A symmetric signing secret for one endpoint.
///
/// Made with [`WebhookSecret::generate`], shown once to the operator with
/// [`WebhookSecret::expose`], stored by the caller, and loaded back with [`WebhookSecret::parse`].
/// Its `Debug` output never contains the key.
#[derive(Clone)]
pub struct WebhookSecret {
    /// The raw key bytes, kept only so [`WebhookSecret::expose`] can write the secret out again
    /// (an `hmac::Key` cannot be read back).
    bytes: Box<[u8]>,
    key: hmac::Key,
}

impl WebhookSecret {
    /// A new secret of 32 bytes from the system's secure random generator.
    pub fn generate() -> Result<Self, SecretError> {
        let mut bytes = [0u8; GENERATED_SECRET_BYTES];
        rand::fill(&mut bytes).map_err(|_| SecretError::Random)?;
        Self::from_bytes(&bytes)
    }

    /// A secret from its serialized form `whsec_<base64>` (padded or not). Anything else is
    /// refused: a bare base64 string, say, would be ambiguous with other secret formats.
    pub fn parse(serialized: &str) -> Result<Self, SecretError> {
        let encoded = serialized
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let bytes = LENIENT
            .decode(encoded)
            .map_err(|_| SecretError::InvalidBase64)?;
        Self::from_bytes(&bytes)
    }

    /// A secret from raw key bytes, which must be 24 to 64 bytes long as the spec requires.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretError> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(SecretError::Length(bytes.len()));
        }
        Ok(Self {
            bytes: bytes.into(),
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
        })
    }

    /// The serialized secret, `whsec_<base64>`, for showing to the operator once (and for
    /// storing). It is the only way the key leaves this type.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.bytes))
    }

    /// The HMAC-SHA256 tag of `content` under this secret.
    fn tag(&self, content: &[u8]) -> hmac::Tag {
        hmac::sign(&self.key, content)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl FromStr for WebhookSecret {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a secret could not be made or loaded. No variant carries any part of the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The text does not start with `whsec_`.
    #[error("a webhook secret must be written `whsec_<base64>`")]
    MissingPrefix,
    /// What follows `whsec_` is not base64.
    #[error("the part of a webhook secret after `whsec_` is not valid base64")]
    InvalidBase64,
    /// The key is shorter than 24 or longer than 64 bytes.
    #[error("a webhook secret must be 24 to 64 bytes long, this one is {0}")]
    Length(usize),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

// ---------------------------------------------------------------------------------------------
// Message ids and messages
// ---------------------------------------------------------------------------------------------

/// A webhook message id, `msg_` followed by a UUIDv7 in hex for the ids we make.
///
/// The id is the receiver's idempotency key: it is made once per event and kept across retries.
/// UUIDv7 makes it unique without coordination and roughly time-ordered, which helps when
/// reading logs. Parsed ids are limited to `[A-Za-z0-9_-]` (1 to 256 characters) because the
/// spec forbids a `.` in the id: the signed content is dot-delimited, so a dot would let one
/// (id, timestamp) pair impersonate another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl MessageId {
    /// A fresh id: `msg_` and a UUIDv7 in 32 hex digits.
    pub fn new() -> Self {
        Self(format!("msg_{}", uuid::Uuid::now_v7().simple()))
    }

    /// An existing id (from storage, or another producer's vector), checked as described on the
    /// type.
    pub fn parse(id: &str) -> Result<Self, MessageIdError> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if id.is_empty() || id.len() > MAX_MESSAGE_ID_LEN || !id.chars().all(valid_char) {
            return Err(MessageIdError);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as sent in the `webhook-id` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for MessageId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MessageId {
    type Err = MessageIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for MessageId {
    type Error = MessageIdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> Self {
        id.0
    }
}

/// A message id that is empty, too long, or has characters outside `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook message id must be 1 to 256 characters of [A-Za-z0-9_-]")]
pub struct MessageIdError;

/// One webhook message: its id and its JSON body, exactly as it will be signed and sent.
///
/// The body is kept serialized (not as a value) because the signature covers these exact bytes:
/// re-serializing on a retry could reorder or reformat it. It is serializable itself, so a job
/// queue can carry it between attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    /// The idempotency key, the same on every attempt.
    pub id: MessageId,
    /// The JSON body.
    pub body: String,
}

impl WebhookMessage {
    /// A message with a fresh id and `payload` serialized as compact JSON.
    pub fn new<T: Serialize + ?Sized>(payload: &T) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: MessageId::new(),
            body: serde_json::to_string(payload)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Signing and verification
// ---------------------------------------------------------------------------------------------

/// The current time in unix seconds (0 if the clock is before 1970, which it is not).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The signed content: `{msg_id}.{timestamp}.{body}`.
fn signed_content(msg_id: &str, timestamp_secs: i64, body: &[u8]) -> Vec<u8> {
    let prefix = format!("{msg_id}.{timestamp_secs}.");
    let mut content = Vec::with_capacity(prefix.len() + body.len());
    content.extend_from_slice(prefix.as_bytes());
    content.extend_from_slice(body);
    content
}

/// The signature of one message under one secret: `v1,<base64 of HMAC-SHA256>` (standard
/// alphabet, padded).
pub fn sign(
    secret: &WebhookSecret,
    msg_id: &MessageId,
    timestamp_secs: i64,
    body: &[u8],
) -> String {
    let tag = secret.tag(&signed_content(msg_id.as_str(), timestamp_secs, body));
    format!("{SIGNATURE_VERSION},{}", STANDARD.encode(tag.as_ref()))
}

/// The `webhook-signature` header value: one signature per secret, space-separated, in the
/// order given. During a rotation pass both the new and the old secret, so receivers that know
/// either one accept the message. An empty slice gives an empty string.
pub fn signature_header(
    secrets: &[WebhookSecret],
    msg_id: &MessageId,
    timestamp_secs: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp_secs, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The three Standard Webhooks headers of a received request, as text.
///
/// Header maps differ between HTTP stacks (actix, reqwest/http, a test's own parser), so the
/// verifier takes plain strings; [`SignedHeaders::from_lookup`] adapts any map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHeaders<'a> {
    /// The `webhook-id` header.
    pub id: &'a str,
    /// The `webhook-timestamp` header.
    pub timestamp: &'a str,
    /// The `webhook-signature` header.
    pub signature: &'a str,
}

impl<'a> SignedHeaders<'a> {
    /// The headers read through `get`, which is given each (lower-case) header name; a missing
    /// one is an error naming it.
    pub fn from_lookup(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, VerifyError> {
        let header = |name: &'static str| get(name).ok_or(VerifyError::MissingHeader(name));
        Ok(Self {
            id: header(HEADER_ID)?,
            timestamp: header(HEADER_TIMESTAMP)?,
            signature: header(HEADER_SIGNATURE)?,
        })
    }
}

/// Checks a received webhook: the timestamp must be within `tolerance` of `now_secs` (either
/// way) and at least one `v1` signature in the header must match one of `secrets` over the exact
/// `body`.
///
/// Several secrets are accepted so a receiver can rotate without downtime; several signatures
/// are accepted because the sender may be rotating too. Entries of other versions (`v1a`) and
/// malformed entries are skipped, not fatal, so a header mixing schemes still verifies. The
/// timestamp is checked first (cheap, and it is what stops replays); tags are compared in
/// constant time.
pub fn verify(
    secrets: &[WebhookSecret],
    headers: &SignedHeaders<'_>,
    body: &[u8],
    now_secs: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let timestamp = parse_timestamp(headers.timestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if timestamp < now_secs.saturating_sub(tolerance) {
        return Err(VerifyError::TimestampTooOld);
    }
    if timestamp > now_secs.saturating_add(tolerance) {
        return Err(VerifyError::TimestampTooNew);
    }

    let candidates: Vec<Vec<u8>> = headers
        .signature
        .split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == SIGNATURE_VERSION)
        .filter_map(|(_, encoded)| LENIENT.decode(encoded).ok())
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoSignature);
    }

    // The signed content uses the timestamp as parsed, like the reference libraries, so "0123"
    // and "123" sign the same way there and here.
    let content = signed_content(headers.id, timestamp, body);
    for secret in secrets {
        let tag = secret.tag(&content);
        let matched = candidates.iter().any(|candidate| {
            constant_time::verify_slices_are_equal(tag.as_ref(), candidate).is_ok()
        });
        if matched {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatchingSignature)
}

/// A unix timestamp header: decimal digits only (an optional leading `-` aside), no fraction.
fn parse_timestamp(header: &str) -> Result<i64, VerifyError> {
    let header = header.trim();
    let digits = header.strip_prefix('-').unwrap_or(header);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::InvalidTimestamp);
    }
    header.parse().map_err(|_| VerifyError::InvalidTimestamp)
}

/// Why a received webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is absent.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not an integer number of seconds.
    #[error("the webhook-timestamp header is not a unix timestamp in seconds")]
    InvalidTimestamp,
    /// The timestamp is older than the tolerance allows (a replay, or a very slow queue).
    #[error("the webhook timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows.
    #[error("the webhook timestamp is too far in the future")]
    TimestampTooNew,
    /// The header has no well-formed `v1` signature at all.
    #[error("the webhook-signature header has no v1 signature")]
    NoSignature,
    /// No signature matches any of the secrets.
    #[error("no webhook signature matches")]
    NoMatchingSignature,
}

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

/// The spec's example schedule: the delays before attempts 2 to 10 (attempt 1 is immediate).
/// Ten attempts over a little more than three days, so an endpoint down for a weekend still
/// gets its events.
const STANDARD_DELAYS: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// The spec's recommended schedule, without jitter: the delay before attempt `attempt + 1`,
/// given that `attempt` attempts have been made (`0` gives zero: the first attempt is
/// immediate), or `None` once all ten attempts are spent. It is [`RetryPolicy::standard`]'s
/// [`RetryPolicy::delay`].
pub fn retry_schedule(attempt: u32) -> Option<Duration> {
    schedule_delay(&STANDARD_DELAYS, attempt)
}

fn schedule_delay(delays: &[Duration], attempt: u32) -> Option<Duration> {
    match attempt {
        0 => Some(Duration::ZERO),
        n => delays.get(usize::try_from(n - 1).ok()?).copied(),
    }
}

/// When to retry a failed delivery, and when to give up.
///
/// A policy is a list of delays: entry `n - 1` is the wait after the `n`th failed attempt, so a
/// list of `k` delays allows `k + 1` attempts. [`RetryPolicy::standard`] is the spec's schedule
/// with jitter; tests build short ones with [`RetryPolicy::from_delays`] or
/// [`RetryPolicy::exponential`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    delays: Vec<Duration>,
    jitter_percent: u32,
}

impl RetryPolicy {
    /// The spec's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; ten attempts)
    /// with up to 10 % added jitter, as the spec recommends, so that endpoints that failed
    /// together (an outage) are not hit together again.
    pub fn standard() -> Self {
        Self {
            delays: STANDARD_DELAYS.to_vec(),
            jitter_percent: 10,
        }
    }

    /// A schedule of exactly these delays, without jitter.
    pub fn from_delays(delays: impl Into<Vec<Duration>>) -> Self {
        Self {
            delays: delays.into(),
            jitter_percent: 0,
        }
    }

    /// `max_attempts` attempts with delays `base`, `base * factor`, `base * factor²`, …
    /// (saturating), without jitter. `max_attempts` of 0 or 1 means no retry at all.
    pub fn exponential(base: Duration, factor: u32, max_attempts: u32) -> Self {
        let delays = std::iter::successors(Some(base), |d| Some(d.saturating_mul(factor)))
            .take(usize::try_from(max_attempts.saturating_sub(1)).unwrap_or(usize::MAX))
            .collect::<Vec<_>>();
        Self::from_delays(delays)
    }

    /// The same schedule with up to `percent` % of each delay added at random (never removed,
    /// so a `Retry-After` floor still holds). Capped at 100.
    pub fn with_jitter(mut self, percent: u32) -> Self {
        self.jitter_percent = percent.min(100);
        self
    }

    /// How many attempts the policy allows in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// The scheduled delay before attempt `attempt + 1` after `attempt` attempts (zero for
    /// `0`), without jitter or `Retry-After`; `None` when no attempt is left.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        schedule_delay(&self.delays, attempt)
    }

    /// The wait after failed attempt `attempt` (1-based), or `None` to give up.
    ///
    /// `retry_after` is the endpoint's request ([`DeliveryOutcome::Retry::retry_after`]): the
    /// wait is at least that, and at least the schedule's, but an endpoint cannot push a retry
    /// past the policy's longest delay (it could otherwise park a message for ever). Jitter is
    /// then added on top.
    pub fn next_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let scheduled = self.delay(attempt)?;
        let longest = self.delays.iter().copied().max().unwrap_or_default();
        let wait = match retry_after {
            Some(asked) => scheduled.max(asked.min(longest)),
            None => scheduled,
        };
        Some(wait.saturating_add(self.jitter(wait)))
    }

    /// A random extra of up to `jitter_percent` % of `delay` (none if the generator fails: a
    /// retry a little less spread out beats no retry).
    fn jitter(&self, delay: Duration) -> Duration {
        if self.jitter_percent == 0 || delay.is_zero() {
            return Duration::ZERO;
        }
        let mut random = [0u8; 8];
        if rand::fill(&mut random).is_err() {
            return Duration::ZERO;
        }
        // span × random / 2⁶⁴: a uniform fraction of the span, in integers.
        let span = delay
            .as_nanos()
            .saturating_mul(u128::from(self.jitter_percent))
            / 100;
        let extra = span
            .checked_mul(u128::from(u64::from_le_bytes(random)))
            .map_or(span, |product| product >> 64);
        Duration::from_nanos(u64::try_from(extra).unwrap_or(u64::MAX))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::standard()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_must_be_integers() {
        assert_eq!(parse_timestamp("1614265330"), Ok(1_614_265_330));
        assert_eq!(parse_timestamp(" 12 "), Ok(12));
        for bad in ["", "-", "1.5", "+1", "1e9", "abc", "99999999999999999999"] {
            assert_eq!(
                parse_timestamp(bad),
                Err(VerifyError::InvalidTimestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn jitter_only_adds_and_stays_within_the_percentage() {
        let policy = RetryPolicy::from_delays([Duration::from_secs(100)]).with_jitter(10);
        for _ in 0..200 {
            let d = policy.next_delay(1, None).unwrap();
            assert!(
                d >= Duration::from_secs(100) && d <= Duration::from_secs(110),
                "{d:?}"
            );
        }
    }

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
