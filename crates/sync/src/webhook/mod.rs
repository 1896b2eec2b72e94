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
//!
//! Each piece has a private module of its own (`secret`, `message`, `signature`, `sender`,
//! `retry`); everything public is re-exported here, so callers keep naming it `webhook::…`.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

mod message;
mod retry;
mod secret;
mod sender;
mod signature;

pub use message::{MessageId, MessageIdError, WebhookMessage};
pub use retry::{RetryPolicy, retry_schedule};
pub use secret::{SECRET_PREFIX, SecretError, WebhookSecret};
pub use sender::{
    DeliveryError, DeliveryOutcome, SenderBuildError, SenderConfig, USER_AGENT, WebhookSender,
};
pub use signature::{
    DEFAULT_TOLERANCE, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders, VerifyError,
    sign, signature_header, unix_now, verify,
};

/// Base64 decoding that accepts padded and unpadded input alike: the reference libraries do
/// (a `whsec_` secret of 24 bytes has no padding; one of 32 has), and strictness here would only
/// make a correct secret fail to load. Encoding always uses `STANDARD` (padded), as the spec's
/// examples do.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
