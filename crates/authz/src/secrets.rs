//! Machine secrets: static SCIM tokens and OAuth2 client secrets are 256 random bits, so a keyed
//! hash (HMAC-SHA-256 under a server key) is the right storage: a stolen table alone verifies
//! nothing, and checking costs microseconds, never a slow password hash on the token path.

use std::path::Path;

use aws_lc_rs::{constant_time, hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The HMAC key for token and client-secret hashes.
#[derive(Clone)]
pub struct TokenHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHasher(<key redacted>)")
    }
}

impl TokenHasher {
    pub fn new(key: &[u8]) -> Result<Self, SecretError> {
        if key.len() < 32 {
            return Err(SecretError::Config(
                "security.token_hash_key must be at least 32 bytes".into(),
            ));
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        })
    }

    /// The configured key, or (SQLite only) one generated once beside the database file.
    pub fn from_config(
        configured: Option<&str>,
        sqlite_dir: Option<&Path>,
    ) -> Result<Self, SecretError> {
        let key = configured_or_generated(
            configured,
            sqlite_dir,
            "token-hash.key",
            "security.token_hash_key",
            "SCIMGATE__SECURITY__TOKEN_HASH_KEY",
        )?;
        Self::new(key.as_bytes())
    }

    /// The hex HMAC-SHA-256 of `secret`.
    pub fn hash(&self, secret: &str) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let tag = hmac::sign(&self.key, secret.as_bytes());
        let mut out = String::with_capacity(64);
        for b in tag.as_ref() {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        out
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    pub fn verify(&self, secret: &str, stored: &str) -> bool {
        let computed = self.hash(secret);
        constant_time::verify_slices_are_equal(computed.as_bytes(), stored.as_bytes()).is_ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{0}")]
    Config(String),
    #[error("the system random generator failed")]
    Random,
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// 256 random bits, base64url without padding (43 characters).
pub fn random_text() -> Result<String, SecretError> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes).map_err(|_| SecretError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A configured secret, or for the embedded SQLite default one generated once into
/// `sqlite_dir/file` (mode 0600) and read back on every later start.
pub fn configured_or_generated(
    configured: Option<&str>,
    sqlite_dir: Option<&Path>,
    file: &str,
    key_name: &str,
    env_name: &str,
) -> Result<String, SecretError> {
    if let Some(k) = configured {
        return Ok(k.to_owned());
    }
    let Some(dir) = sqlite_dir else {
        return Err(SecretError::Config(format!(
            "{key_name} is required with PostgreSQL: set {env_name} or {env_name}_FILE to 32 or \
             more random bytes"
        )));
    };
    let path = dir.join(file);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_owned());
    }
    let io = |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let key = random_text()?;
    write_private(&path, &key).map_err(io)?;
    tracing::warn!(path = %path.display(), "generated {key_name} for the embedded database");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(byte: u8) -> TokenHasher {
        TokenHasher::new(&[byte; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_hash_depends_on_the_key() {
        assert_eq!(hasher(1).hash("t").len(), 64);
        assert_ne!(hasher(1).hash("t"), hasher(2).hash("t"));
        assert!(TokenHasher::new(b"short").is_err());
    }

    #[test]
    fn the_hash_is_lower_case_hex_of_the_hmac() {
        let h = hasher(1);
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[1u8; 32]);
        let expected: String = hmac::sign(&key, b"t")
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(h.hash("t"), expected);
    }

    #[test]
    fn verify_accepts_the_secret_and_nothing_else() {
        let h = hasher(1);
        let stored = h.hash("secret");
        assert!(h.verify("secret", &stored));
        assert!(!h.verify("secreT", &stored));
        assert!(!h.verify("secret", &stored[..63]));
        assert!(!hasher(2).verify("secret", &stored));
    }

    #[test]
    fn random_text_is_256_bits() {
        let (a, b) = (
            random_text().unwrap_or_default(),
            random_text().unwrap_or_default(),
        );
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
