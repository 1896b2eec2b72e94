//! Secrets the service must read back (webhook signing secrets), stored sealed. The port is
//! here; the authorization server's key-encryption key implements it (AES-256-GCM).

/// Seals and opens secrets. `context` is bound to the ciphertext (associated data), so a
/// sealed value moved to another row does not open.
pub trait SecretBox: Send + Sync {
    fn seal(&self, context: &str, plain: &[u8]) -> Result<String, SealError>;
    fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {0} the secret (wrong key-encryption key, or a damaged value)")]
pub struct SealError(pub &'static str);
