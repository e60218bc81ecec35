//! Browser sessions: `create_pairing` makes a single-use code valid five minutes (its
//! link is what `bosun pair` shows as a QR code), `exchange_pairing` turns a code into
//! a session once, and `login` turns a pasted token into a session of its scope. The
//! session's secret goes into the browser's cookie; only its hash is kept.

use bosun_core::auth::{CredentialKind, PAIR_PATH, PAIRING_TTL_SECS, Principal, Scope, device_name};
use bosun_store::{NewCredential, Pairing, SessionFor};
use chrono::{DateTime, Duration, Utc};

use super::auth::principal;
use super::tokens::check_name;
use crate::secret::{Secret, hash};
use crate::{Engine, OpError};

/// A pairing link, as the engine makes it (the server adds its QR code).
pub struct NewPairing {
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub scope: Scope,
}

/// A new browser session: the secret for its cookie, and who it is.
pub struct NewSession {
    pub secret: String,
    pub principal: Principal,
}

impl Engine {
    /// A pairing code for a device named `name` (else after its browser) with
    /// `scope` (default `operate`), valid [`PAIRING_TTL_SECS`].
    #[tracing::instrument(name = "create_pairing", skip_all)]
    pub async fn create_pairing(&self, name: Option<&str>, scope: Option<&str>) -> Result<NewPairing, OpError> {
        let name = name.map(check_name).transpose()?.unwrap_or("");
        let scope = match scope {
            Some(s) => s.parse().map_err(|e: bosun_core::auth::UnknownScope| OpError::Invalid(e.to_string()))?,
            None => Scope::Operate,
        };
        let secret = Secret::generate().map_err(|e| OpError::Internal(e.to_string()))?;
        let now = Utc::now();
        let expires_at = now + Duration::seconds(PAIRING_TTL_SECS);
        let new = NewCredential {
            kind: CredentialKind::Pairing,
            name,
            scope,
            hash: &secret.hash,
            expires_at: Some(expires_at),
            user_agent: None,
            local: false,
            parent: None,
        };
        self.store.create_credential(new, now).await?;
        let url = format!("{}{PAIR_PATH}?code={}", self.config.public_url.trim_end_matches('/'), secret.secret);
        Ok(NewPairing { url, expires_at, scope })
    }

    /// Exchanges a pairing code for a session, once. A used, expired or unknown code
    /// is refused saying which.
    #[tracing::instrument(name = "exchange_pairing", skip_all)]
    pub async fn exchange_pairing(&self, code: &str, user_agent: Option<&str>) -> Result<NewSession, OpError> {
        let secret = Secret::generate().map_err(|e| OpError::Internal(e.to_string()))?;
        let user_agent = user_agent.map(|ua| ua.chars().take(512).collect::<String>());
        let fallback = device_name(user_agent.as_deref());
        let session = SessionFor { hash: &secret.hash, user_agent: user_agent.as_deref(), fallback_name: &fallback };
        let again = "run `bosun pair` for a new link";
        match self.store.exchange_pairing(&hash(code), session, Utc::now()).await? {
            Pairing::Exchanged(cred) => {
                tracing::info!(name = %cred.name, id = cred.id, "paired a device");
                Ok(NewSession { secret: secret.secret, principal: principal(&cred) })
            }
            Pairing::Used(at) => Err(OpError::Refused(format!(
                "this pairing link was already used (at {} UTC): each link logs in one browser, once; {again}",
                at.format("%H:%M:%S")
            ))),
            Pairing::Expired(at) => Err(OpError::Refused(format!(
                "this pairing link expired at {} UTC (links are valid 5 minutes); {again}",
                at.format("%H:%M:%S")
            ))),
            Pairing::Unknown => Err(OpError::NotFound(format!("this pairing link is not valid; {again}"))),
        }
    }

    /// A browser session for a pasted token (of the token's scope and name); None when
    /// the token is not valid.
    #[tracing::instrument(name = "login", skip_all)]
    pub async fn login(&self, token: &str, user_agent: Option<&str>) -> Result<Option<NewSession>, OpError> {
        let now = Utc::now();
        let Some(cred) = self.store.credential_by_hash(&hash(token)).await? else { return Ok(None) };
        if !cred.is_live(now) || cred.kind != CredentialKind::Token {
            return Ok(None);
        }
        let secret = Secret::generate().map_err(|e| OpError::Internal(e.to_string()))?;
        let user_agent = user_agent.map(|ua| ua.chars().take(512).collect::<String>());
        let new = NewCredential {
            kind: CredentialKind::Session,
            name: &cred.name,
            scope: cred.scope,
            hash: &secret.hash,
            expires_at: None,
            user_agent: user_agent.as_deref(),
            local: false,
            parent: Some(cred.id),
        };
        let session = self.store.create_credential(new, now).await?;
        tracing::info!(name = %session.name, id = session.id, "logged a browser in with a token");
        Ok(Some(NewSession { secret: secret.secret, principal: principal(&session) }))
    }

    /// Ends the caller's own browser session (logging out).
    pub async fn logout(&self, caller: &Principal) -> Result<(), OpError> {
        if caller.kind != bosun_core::auth::PrincipalKind::Session {
            return Err(OpError::Invalid("logging out ends a browser session; a token is revoked with `bosun devices revoke ID`".into()));
        }
        self.store.revoke_credential(caller.id, Utc::now()).await?;
        Ok(())
    }
}
