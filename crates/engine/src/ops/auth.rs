//! `authenticate`: which principal a presented secret (a bearer token or a session
//! cookie) stands for, if any; and the daemon's own token, made at start when
//! `<data-dir>/token` is missing or no longer valid. Last-seen times are written at
//! most once a minute per credential, so authenticating is a read.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use bosun_core::auth::{CredentialKind, LOCAL_TOKEN_NAME, Principal, PrincipalKind, Scope};
use bosun_store::credentials::SEEN_EVERY_SECS;
use bosun_store::{Credential, NewCredential, StoreError};
use chrono::{DateTime, Utc};

use crate::secret::{Secret, hash};
use crate::{Engine, OpError};

impl Engine {
    /// The principal `secret` authenticates at `now`; None when it is unknown,
    /// revoked, expired, or a pairing code.
    pub async fn authenticate(&self, secret: &str, now: DateTime<Utc>) -> Result<Option<Principal>, OpError> {
        let Some(cred) = self.store.credential_by_hash(&hash(secret)).await? else { return Ok(None) };
        if !cred.is_live(now) {
            return Ok(None);
        }
        // Best effort: a request is not refused because "last seen" cannot be written
        // (a full disk must leave reads working).
        if cred.last_seen_at.is_none_or(|t| (now - t).num_seconds() >= SEEN_EVERY_SECS)
            && let Err(e) = self.store.touch_credential(cred.id, now).await
        {
            tracing::debug!(id = cred.id, "cannot record when a credential was last seen: {e}");
        }
        Ok(Some(principal(&cred)))
    }

    /// Makes sure `<data-dir>/token` holds a live admin token of this daemon's: when
    /// the file is missing (first start) or its token is not live (the database was
    /// replaced, the token revoked), a new one is stored (revoking the previous local
    /// one) and written to the file, readable by this user alone.
    pub async fn ensure_local_token(&self) -> Result<(), OpError> {
        let path = self.config.token_file();
        if let Ok(existing) = std::fs::read_to_string(&path)
            && let Some(cred) = self.store.credential_by_hash(&hash(&existing)).await?
            && cred.local
            && cred.is_live(Utc::now())
        {
            return Ok(());
        }
        let secret = Secret::generate().map_err(|e| OpError::Internal(e.to_string()))?;
        let user = std::env::var("USER").ok().filter(|u| !u.trim().is_empty() && u.len() <= 64);
        let new = |name| NewCredential {
            kind: CredentialKind::Token,
            name,
            scope: Scope::Admin,
            hash: &secret.hash,
            expires_at: None,
            user_agent: None,
            local: true,
            parent: None,
        };
        let stored = match user.as_deref() {
            Some(user) => match self.store.create_credential(new(user), Utc::now()).await {
                Err(StoreError::DuplicateName(_)) => None,
                other => Some(other?),
            },
            None => None,
        };
        if stored.is_none() {
            self.store.create_credential(new(LOCAL_TOKEN_NAME), Utc::now()).await?;
        }
        write_private(&path, &secret.secret).map_err(|e| OpError::Internal(format!("cannot write {}: {e}", path.display())))?;
        tracing::info!(path = %path.display(), "wrote the daemon's token");
        Ok(())
    }
}

/// Writes `text` to `path` through a temporary file of mode 0600 and a rename, so the
/// file never exists with other permissions or half written.
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The principal a live credential stands for.
pub(crate) fn principal(cred: &Credential) -> Principal {
    let kind = match cred.kind {
        _ if cred.local => PrincipalKind::Local,
        CredentialKind::Session => PrincipalKind::Session,
        CredentialKind::Token | CredentialKind::Pairing => PrincipalKind::Token,
    };
    Principal { id: cred.id, name: cred.name.clone(), scope: cred.scope, kind }
}
