//! Action links: the Approve/Deny buttons of a needs-input notification. Each is a
//! capability, not a credential: a 256-bit secret in the URL
//! (`<public_url>/act/<secret>`; the HMAC of its delivery under the daemon's random
//! `<data-dir>/link.key`, so a retried message carries the same links), stored only as its SHA-256, good for one answer to
//! one ask, for an hour (`serve --action-link-ttl`), and dead once that ask is answered by any means. Showing a
//! link ([`Engine::act_view`]) changes nothing (a link preview must never approve);
//! using it ([`Engine::act`]) answers as `human:notification`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bosun_api::AnswerRequest;
use bosun_core::task::TaskId;
use bosun_store::notify::{LinkRefusal, LinkVerb};
use chrono::Utc;
use ring::digest::{SHA256, digest};
use ring::hmac;

use crate::{Engine, OpError};

/// Who an answer given through a link is recorded as (`human:notification`).
pub const LINK_AUTHOR: &str = "notification";

/// What a link would do, for its confirmation page.
#[derive(Debug, Clone)]
pub struct ActView {
    pub task_id: TaskId,
    pub title: String,
    pub verb: LinkVerb,
    /// The exact command (or tool and path) the agent asked for.
    pub what: String,
}

/// Why a link did not act.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Refused(#[from] LinkRefusal),
    #[error(transparent)]
    Op(#[from] OpError),
}

fn hash(secret: &str) -> Vec<u8> {
    digest(&SHA256, secret.as_bytes()).as_ref().to_vec()
}

impl Engine {
    /// The Approve and Deny links of `delivery` (about ask `approval_id`, sent to
    /// `channel`): the same on every attempt of that delivery (each secret is the
    /// HMAC-SHA256 of the delivery and verb under the daemon's link key), stored on the
    /// first. None once they expired or the ask was answered: the message goes
    /// without buttons.
    pub(crate) async fn action_links(&self, delivery: i64, approval_id: i64, channel: &str) -> Result<Vec<(LinkVerb, String)>, OpError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.config.action_link_ttl).unwrap_or(chrono::Duration::hours(1));
        let store = self.store.notify();
        let mut links = Vec::new();
        for verb in [LinkVerb::Approve, LinkVerb::Deny] {
            let tag = hmac::sign(&self.link_key, format!("bosun-d{delivery}:{approval_id}:{}", verb.as_str()).as_bytes());
            let secret = URL_SAFE_NO_PAD.encode(tag.as_ref());
            let hash = hash(&secret);
            store.add_action_link(&hash, approval_id, verb, channel, now + ttl, now).await?;
            if store.action_link(&hash, now).await?.is_err() {
                return Ok(Vec::new());
            }
            links.push((verb, format!("{}/act/{secret}", self.config.public_url.trim_end_matches('/'))));
        }
        Ok(links)
    }

    pub async fn act_view(&self, secret: &str) -> Result<ActView, ActError> {
        let link = self.store.notify().action_link(&hash(secret), Utc::now()).await.map_err(OpError::from)??;
        self.view(link.task_id, link.approval_id, link.verb).await
    }

    /// Uses the link, once: answers its ask and passes the answer to the agent.
    #[tracing::instrument(name = "act", skip_all)]
    pub async fn act(&self, secret: &str) -> Result<ActView, ActError> {
        let link = self.store.notify().use_action_link(&hash(secret), Utc::now()).await.map_err(OpError::from)??;
        let view = self.view(link.task_id, link.approval_id, link.verb).await?;
        let allow = link.verb == LinkVerb::Approve;
        let req = AnswerRequest {
            id: Some(link.approval_id),
            always: false,
            reason: (!allow).then(|| format!("denied from a notification ({})", link.channel)),
            from: Some(LINK_AUTHOR.into()),
        };
        self.answer(link.task_id, req, allow).await?;
        tracing::info!(task = link.task_id, approval = link.approval_id, verb = link.verb.as_str(), "answered through an action link");
        Ok(view)
    }

    async fn view(&self, task_id: TaskId, approval_id: i64, verb: LinkVerb) -> Result<ActView, ActError> {
        let task = self.store.get_task(task_id).await.map_err(OpError::from)?;
        let approvals = self.store.approvals(Some(task_id), false).await.map_err(OpError::from)?;
        let ask = approvals.into_iter().find(|a| a.id == approval_id).ok_or(LinkRefusal::Unknown)?;
        let what = match (&ask.command, &ask.path) {
            (Some(c), _) => c.clone(),
            (None, Some(p)) => format!("{} {p}", ask.tool),
            (None, None) => ask.tool.clone(),
        };
        Ok(ActView { task_id, title: task.title, verb, what })
    }
}
