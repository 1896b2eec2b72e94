//! OAuth2 clients, scopes and grant types as the domain sees them (RFC 6749 §2, §3.3), the
//! signing keys of access tokens and the record of revoked tokens. No cryptography here: the
//! authorization server owns that; these are the rules and the stored shapes.

use std::fmt;

use crate::ids::{ClientId, TenantId};
use crate::time::Timestamp;

/// A scope this server grants. The set is closed: a scope not listed here is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read the tenant's SCIM resources (GET, `.search`).
    ScimRead,
    /// Create, change and delete the tenant's SCIM resources (POST, PUT, PATCH, DELETE, Bulk).
    ScimWrite,
    /// The tenant admin's part of the admin API (`/admin/v1/tenants/{slug}/...` settings,
    /// roles, mappings, teams, members' access, webhook), for the tenant's own slug only.
    /// Never granted by default: a client has it only when registered with it.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::ScimRead, Scope::ScimWrite, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScimRead => "scim:read",
            Self::ScimWrite => "scim:write",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    fn bit(self) -> u8 {
        match self {
            Self::ScimRead => 1,
            Self::ScimWrite => 2,
            Self::Admin => 4,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, printed as RFC 6749 §3.3 wants: space-delimited, in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u8);

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("unknown scope {0:?} (known: scim:read, scim:write, admin)")]
    Unknown(String),
    #[error("scope {0:?} is not allowed for this client")]
    NotAllowed(String),
    #[error("the scope parameter is empty")]
    Empty,
}

impl ScopeSet {
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every scope.
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    /// The SCIM scopes: what a static SCIM token carries and a client gets by default.
    pub fn scim() -> Self {
        [Scope::ScimRead, Scope::ScimWrite].into_iter().collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Parses a space-delimited list (RFC 6749 §3.3: `scope = scope-token *( SP scope-token )`).
    /// Repeated tokens are harmless; unknown ones are refused; an empty list is an error.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        let mut set = Self::empty();
        for token in raw.split(' ').filter(|t| !t.is_empty()) {
            set.insert(Scope::parse(token).ok_or_else(|| ScopeError::Unknown(token.to_owned()))?);
        }
        if set.is_empty() {
            return Err(ScopeError::Empty);
        }
        Ok(set)
    }

    /// The scopes a token request gets (RFC 6749 §3.3): without a `scope` parameter, every
    /// scope the client is allowed; with one, exactly those asked for, each of which must be
    /// allowed (no silent narrowing: a client asking for more than it has is told so).
    pub fn grant(requested: Option<&str>, allowed: Self) -> Result<Self, ScopeError> {
        let Some(raw) = requested else {
            return Ok(allowed);
        };
        let asked = Self::parse(raw)?;
        if let Some(extra) = asked.iter().find(|s| !allowed.contains(*s)) {
            return Err(ScopeError::NotAllowed(extra.as_str().to_owned()));
        }
        Ok(asked)
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = Self::empty();
        for s in iter {
            set.insert(s);
        }
        set
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s.as_str())?;
            first = false;
        }
        Ok(())
    }
}

/// The grant types a client may use (RFC 6749 §4). Only client_credentials today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// RFC 6749 §4.4.
    ClientCredentials,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        (raw == "client_credentials").then_some(Self::ClientCredentials)
    }
}

/// An OAuth2 client as stored: never the secret, only its keyed hash. During a rotation the
/// previous secret's hash is kept until `previous_secret_expires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: ClientId,
    pub tenant_id: TenantId,
    pub name: String,
    pub scopes: ScopeSet,
    pub grant_types: Vec<GrantType>,
    pub secret_hash: String,
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires: Option<Timestamp>,
    pub created: Timestamp,
    pub secret_rotated: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}

impl ClientRecord {
    /// The secret hashes that authenticate this client at `now`: the current one, and the
    /// previous one while its overlap lasts. None once the client is revoked.
    pub fn accepted_hashes(&self, now: Timestamp) -> impl Iterator<Item = &str> {
        let live = self.revoked.is_none();
        let previous = self
            .previous_secret_hash
            .as_deref()
            .filter(|_| self.previous_secret_expires.is_some_and(|e| e > now));
        std::iter::once(self.secret_hash.as_str())
            .chain(previous)
            .filter(move |_| live)
    }
}

/// An access-token signing key as stored: the public JWK in the clear, the private key sealed
/// with the server's key-encryption key. `retired` is set when a newer key replaced it; it
/// stays published (and accepted) until every token it signed has expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// The JWS algorithm (`ES256`).
    pub alg: String,
    /// The public key as a JWK (RFC 7517) object, JSON text.
    pub public_jwk: String,
    /// The private key, encrypted (opaque to the store).
    pub sealed_private_key: String,
    pub created: Timestamp,
    pub retired: Option<Timestamp>,
}

/// An access token revoked before its expiry (RFC 7009), kept until it would have expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    pub jti: String,
    pub tenant_id: TenantId,
    pub client_id: ClientId,
    pub revoked: Timestamp,
    pub expires: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(raw: &str) -> ScopeSet {
        ScopeSet::parse(raw).unwrap_or_default()
    }

    #[test]
    fn scopes_print_in_a_fixed_order_whatever_the_input_order() {
        assert_eq!(
            set("scim:write scim:read").to_string(),
            "scim:read scim:write"
        );
        assert_eq!(set("scim:read  scim:read").to_string(), "scim:read");
    }

    #[test]
    fn unknown_and_empty_scopes_are_refused() {
        assert_eq!(
            ScopeSet::parse("scim:read root"),
            Err(ScopeError::Unknown("root".into()))
        );
        assert_eq!(ScopeSet::parse(" "), Err(ScopeError::Empty));
        assert_eq!(
            ScopeSet::parse("SCIM:READ"),
            Err(ScopeError::Unknown("SCIM:READ".into()))
        );
    }

    #[test]
    fn a_token_request_without_scope_gets_every_allowed_scope() {
        let allowed = set("scim:read");
        assert_eq!(ScopeSet::grant(None, allowed), Ok(allowed));
    }

    #[test]
    fn a_token_request_narrows_within_the_allowed_scopes_and_never_widens() {
        let allowed = ScopeSet::all();
        assert_eq!(
            ScopeSet::grant(Some("scim:read"), allowed),
            Ok(set("scim:read"))
        );
        assert_eq!(
            ScopeSet::grant(Some("scim:read scim:write"), set("scim:read")),
            Err(ScopeError::NotAllowed("scim:write".into()))
        );
        assert!(set("scim:read").is_subset_of(allowed));
        assert!(!allowed.is_subset_of(set("scim:read")));
    }

    fn client(now: Timestamp) -> ClientRecord {
        ClientRecord {
            client_id: ClientId::from_raw("c"),
            tenant_id: TenantId::from_raw("t"),
            name: "okta".into(),
            scopes: ScopeSet::all(),
            grant_types: vec![GrantType::ClientCredentials],
            secret_hash: "new".into(),
            previous_secret_hash: Some("old".into()),
            previous_secret_expires: Some(now.plus_seconds(60)),
            created: now,
            secret_rotated: Some(now),
            revoked: None,
        }
    }

    #[test]
    fn the_previous_secret_works_only_during_the_overlap() {
        let now = Timestamp::from_millis(1_000_000);
        let c = client(now);
        assert_eq!(c.accepted_hashes(now).collect::<Vec<_>>(), ["new", "old"]);
        assert_eq!(
            c.accepted_hashes(now.plus_seconds(61)).collect::<Vec<_>>(),
            ["new"]
        );
    }

    #[test]
    fn a_revoked_client_has_no_working_secret() {
        let now = Timestamp::from_millis(1_000_000);
        let mut c = client(now);
        c.revoked = Some(now);
        assert_eq!(c.accepted_hashes(now).count(), 0);
    }
}
