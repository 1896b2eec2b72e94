//! What is sent: [`MessageId`], the receiver's idempotency key, and [`WebhookMessage`], an id
//! with the exact JSON body that is signed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A message id longer than this is not an id we would make, nor one worth hashing.
const MAX_MESSAGE_ID_LEN: usize = 256;

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
