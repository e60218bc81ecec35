//! `create_token`: a named API token of a scope; its secret is answered once and only
//! its hash is kept.

use bosun_api::{NewTokenBody, NewTokenRequest};
use bosun_core::auth::{CredentialKind, Scope};
use bosun_store::NewCredential;
use chrono::Utc;

use super::devices::device;
use crate::secret::Secret;
use crate::{Engine, OpError};

/// Longest token or device name.
pub(crate) const MAX_NAME: usize = 64;

impl Engine {
    #[tracing::instrument(name = "create_token", skip_all)]
    pub async fn create_token(&self, req: NewTokenRequest) -> Result<NewTokenBody, OpError> {
        let name = check_name(&req.name)?;
        let scope: Scope = req.scope.parse().map_err(|e: bosun_core::auth::UnknownScope| OpError::Invalid(e.to_string()))?;
        let secret = Secret::generate().map_err(|e| OpError::Internal(e.to_string()))?;
        let new = NewCredential {
            kind: CredentialKind::Token,
            name,
            scope,
            hash: &secret.hash,
            expires_at: None,
            user_agent: None,
            local: false,
            parent: None,
        };
        let cred = self.store.create_credential(new, Utc::now()).await?;
        tracing::info!(name, %scope, id = cred.id, "created a token");
        Ok(NewTokenBody { token: secret.secret, device: device(&cred, None) })
    }
}

/// A token's or device's name: 1 to 64 printable characters.
pub(crate) fn check_name(name: &str) -> Result<&str, OpError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(OpError::Invalid("a name is required (like `ci` or `phone`)".into()));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(OpError::Invalid(format!("a name is at most {MAX_NAME} printable characters")));
    }
    Ok(name)
}
