//! The signing secret of one endpoint, [`WebhookSecret`]: made, written out as `whsec_<base64>`
//! and loaded back, never shown in `Debug`.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::{hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::LENIENT;

/// The prefix of a serialized secret, per the spec (it lets tools tell the scheme at a glance).
pub const SECRET_PREFIX: &str = "whsec_";

/// The spec asks for at least 24 bytes (192 bits) of key.
const MIN_SECRET_BYTES: usize = 24;
/// And at most 512 bits.
const MAX_SECRET_BYTES: usize = 64;
/// What [`WebhookSecret::generate`] makes: 256 bits, the HMAC-SHA256 block-size sweet spot.
const GENERATED_SECRET_BYTES: usize = 32;

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
    pub(super) fn tag(&self, content: &[u8]) -> hmac::Tag {
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
