//! The signature scheme, both ends of it: [`sign`] and [`signature_header`] for the sender,
//! [`verify`] over [`SignedHeaders`] for a receiver (we run it in tests and for tooling).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::constant_time;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{LENIENT, MessageId, WebhookSecret};

/// The header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// How far a timestamp may be from the receiver's clock, either way: the spec's reference
/// libraries use five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The signature version of HMAC-SHA256; `v1a` (ed25519) entries are skipped by the verifier.
const SIGNATURE_VERSION: &str = "v1";

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
}
