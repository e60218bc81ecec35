//! A source's webhook delivery (`POST /hooks/sources/{id}`): verified with the
//! source's secret (see [`bosun_sources::webhook`]), then answered at once while the
//! items it names are read again in the background, under the source's lock, exactly
//! as a sync reads them: a delivery racing a poll or a repeated delivery finds the
//! task the first one made. Notion's handshake (its verification token, unsigned) is
//! kept as the secret until a signed delivery has proved it; after that a second
//! token is refused, so a stranger who learns the URL cannot replace it.

use std::sync::Arc;

use bosun_core::source::SourceKind;
use bosun_sources::webhook::{Delivery, HookError};
use chrono::Utc;

use crate::Engine;

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookAnswer {
    /// Notion's verification token is kept (paste it into Notion to finish).
    TokenKept,
    /// Verified: its items are being read again.
    Accepted,
    /// Verified, about nothing bosun watches.
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum HookRefusal {
    /// No such source, or it takes no webhook (the same answer: a URL is not a way
    /// to learn which sources exist).
    #[error("no source takes webhooks here")]
    NotFound,
    #[error("{0}")]
    Unverified(#[from] HookError),
    #[error(
        "this source already has Notion's verification token, proved by a signed delivery; remove and add the source to take a new subscription"
    )]
    TokenTaken,
    #[error("{0}")]
    Internal(String),
}

impl Engine {
    /// One delivery to source `id`; `header` looks a request header up by its lower-case name.
    #[tracing::instrument(name = "source_webhook", skip(self, header, body))]
    pub async fn receive_webhook(
        self: &Arc<Self>,
        id: i64,
        header: impl Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<HookAnswer, HookRefusal> {
        let store = self.store.sources();
        let source = match store.source(id).await {
            Ok(s) => s,
            Err(bosun_store::StoreError::SourceNotFound(_)) => return Err(HookRefusal::NotFound),
            Err(e) => return Err(HookRefusal::Internal(e.to_string())),
        };
        let Some(hook) = &source.webhook else { return Err(HookRefusal::NotFound) };
        let secret = match &hook.secret_env {
            Some(name) => Some(crate::sources::env_token(name).map_err(|e| HookRefusal::Internal(e.to_string()))?),
            None => store.hook_token(id).await.map_err(|e| HookRefusal::Internal(e.to_string()))?,
        };
        let delivery = bosun_sources::webhook::read(source.kind(), secret.as_deref().map(str::as_bytes), header, body, Utc::now())?;
        let ids = match delivery {
            Delivery::Verification(token) => {
                if source.kind() != SourceKind::Notion || hook.secret_env.is_some() {
                    // A source whose secret is set elsewhere has no use for the token.
                    return Ok(HookAnswer::Ignored);
                }
                return match store.set_hook_token(id, &token).await {
                    Ok(true) => {
                        tracing::info!(source = id, "Notion's verification token came: `bosun source verification-token {id}` shows it");
                        Ok(HookAnswer::TokenKept)
                    }
                    Ok(false) => Err(HookRefusal::TokenTaken),
                    Err(e) => Err(HookRefusal::Internal(e.to_string())),
                };
            }
            Delivery::Nothing => {
                let _ = store.record_hook(id, Utc::now()).await;
                return Ok(HookAnswer::Ignored);
            }
            Delivery::Source => None,
            Delivery::Items(ids) => Some(ids),
        };
        store.record_hook(id, Utc::now()).await.map_err(|e| HookRefusal::Internal(e.to_string()))?;
        let engine = self.clone();
        tokio::spawn(async move {
            let outcome = match ids {
                Some(ids) => engine.sync_items(&source, &ids).await.map(|_| ()),
                None => engine.sync_source(&source).await.map(|_| ()),
            };
            if let Err(e) = outcome {
                tracing::info!(source = source.id, "reading what a webhook named failed (the next poll tries again): {e}");
            }
        });
        Ok(HookAnswer::Accepted)
    }

    /// The verification token Notion sent, to paste into its integration settings.
    pub async fn verification_token(&self, id: i64) -> Result<bosun_api::source::VerificationToken, crate::OpError> {
        let source = self.store.sources().source(id).await?;
        match &source.webhook {
            Some(h) if h.secret_env.is_none() => {}
            Some(_) => {
                return Err(crate::OpError::Refused(format!(
                    "source {id}'s webhook secret is in the daemon's environment, not kept by bosun"
                )));
            }
            None => return Err(crate::OpError::Refused(format!("source {id} takes no webhook (add it with --webhook)"))),
        }
        match self.store.sources().hook_token(id).await? {
            Some(token) => Ok(bosun_api::source::VerificationToken { token }),
            None => Err(crate::OpError::Refused(format!(
                "Notion has not sent source {id}'s verification token yet: create the webhook subscription in Notion with the URL `bosun source ls` shows"
            ))),
        }
    }
}
