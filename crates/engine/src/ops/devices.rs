//! `devices`: the tokens and browser sessions that have access, with when each was
//! last seen; `revoke_device`: end one, from its next request on.

use bosun_api::Device;
use bosun_core::auth::Principal;
use bosun_store::Credential;
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    /// Live tokens and sessions, oldest first; `caller`'s own is marked `current`.
    pub async fn devices(&self, caller: Option<&Principal>) -> Result<Vec<Device>, OpError> {
        let creds = self.store.credentials(Utc::now()).await?;
        Ok(creds.iter().map(|c| device(c, caller)).collect())
    }

    /// Revokes a token or session by id, and the browser sessions made from a token by
    /// pasting it: their next request is refused. Returns it and the ids of every
    /// credential that ended (it first).
    #[tracing::instrument(name = "revoke_device", skip_all, fields(id))]
    pub async fn revoke_device(&self, id: i64, caller: Option<&Principal>) -> Result<(Device, Vec<i64>), OpError> {
        let (cred, sessions) = self.store.revoke_credential(id, Utc::now()).await?;
        tracing::info!(name = %cred.name, kind = cred.kind.as_str(), sessions = sessions.len(), "revoked");
        Ok((device(&cred, caller), std::iter::once(cred.id).chain(sessions).collect()))
    }
}

pub(crate) fn device(cred: &Credential, caller: Option<&Principal>) -> Device {
    Device {
        id: cred.id,
        kind: cred.kind,
        name: cred.name.clone(),
        scope: cred.scope,
        created_at: cred.created_at,
        last_seen_at: cred.last_seen_at,
        user_agent: cred.user_agent.clone(),
        local: cred.local,
        current: caller.is_some_and(|p| p.id == cred.id),
    }
}
