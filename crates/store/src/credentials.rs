//! Stored credentials: API tokens, browser sessions and pairing codes, as rows that
//! hold the SHA-256 of a secret, never the secret. Hashing and checking secrets is the
//! engine's; the store keeps the rows and makes the single-use and revocation rules
//! one transaction each.

use bosun_core::auth::{CredentialKind, Scope};
use chrono::{DateTime, Utc};

/// A stored credential (without its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: i64,
    pub kind: CredentialKind,
    pub name: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// A pairing code: when it was exchanged.
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// A session: the browser it was made for.
    pub user_agent: Option<String>,
    /// The daemon's own token (`<data-dir>/token`).
    pub local: bool,
}

impl Credential {
    /// May it authenticate a request at `now`? Not revoked, not expired, and a token
    /// or a session (a pairing code is only ever exchanged).
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.is_none_or(|t| t > now)
            && matches!(self.kind, CredentialKind::Token | CredentialKind::Session)
    }
}

/// A credential to store.
#[derive(Debug, Clone, Copy)]
pub struct NewCredential<'a> {
    pub kind: CredentialKind,
    pub name: &'a str,
    pub scope: Scope,
    /// The SHA-256 of the secret (base64url).
    pub hash: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub user_agent: Option<&'a str>,
    /// The daemon's own token: storing it revokes the previous one.
    pub local: bool,
    /// A session made from a token (`POST /api/login`): revoked with it.
    pub parent: Option<i64>,
}

/// The session a pairing code is exchanged for: its name and scope come from the
/// code (`bosun pair --name/--scope`); without a name, `fallback_name`.
#[derive(Debug, Clone, Copy)]
pub struct SessionFor<'a> {
    pub hash: &'a str,
    pub user_agent: Option<&'a str>,
    pub fallback_name: &'a str,
}

/// What exchanging a pairing code came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Pairing {
    /// The code was good: it is now used, and this is the new session.
    Exchanged(Credential),
    /// No such code (or it was revoked).
    Unknown,
    /// It was exchanged before, at this time.
    Used(DateTime<Utc>),
    /// It expired, at this time.
    Expired(DateTime<Utc>),
}

/// Last-seen times are written at most this often per credential (seconds): a busy
/// client's every request must not be a write.
pub const SEEN_EVERY_SECS: i64 = 60;
