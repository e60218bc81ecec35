//! ntfy (ntfy.sh or self-hosted): a JSON publish to the server's root naming the topic
//! (title, priority 5 for "needs you" and 3 for "done", tags, click URL, up to three
//! `http` action buttons), with the bearer token from the env var the channel names.
//! The delivery id goes as `sequence_id`, which ntfy (2.16+) uses to update a message
//! in place rather than notify twice.

use async_trait::async_trait;
use serde_json::json;

use crate::{Channel, Outgoing, SendError, Sent, secret_from_env};

pub struct Ntfy {
    pub client: reqwest::Client,
    /// The topic URL, `https://ntfy.sh/my-topic`.
    pub url: String,
    /// The env var holding the access token, if the topic needs one.
    pub token_env: Option<String>,
}

/// The server root and topic of a topic URL.
pub fn split_topic(url: &str) -> Result<(String, String), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} is not an http(s) URL"));
    }
    let path = parsed.path().trim_end_matches('/');
    let (prefix, topic) = path.rsplit_once('/').unwrap_or(("", path));
    if topic.is_empty() {
        return Err(format!("{url:?} names no topic (e.g. https://ntfy.sh/my-topic)"));
    }
    let mut root = parsed.clone();
    root.set_path(&format!("{prefix}/"));
    root.set_query(None);
    Ok((root.to_string(), topic.to_string()))
}

/// The JSON ntfy publishes.
pub fn body(topic: &str, out: &Outgoing) -> serde_json::Value {
    let actions: Vec<_> = out
        .actions
        .iter()
        .take(3)
        .map(|a| {
            if a.post {
                json!({"action": "http", "label": a.label, "url": a.url, "method": "POST", "clear": true})
            } else {
                json!({"action": "view", "label": a.label, "url": a.url})
            }
        })
        .collect();
    json!({
        "topic": topic,
        "title": out.message.title,
        "message": out.message.body,
        "priority": out.message.priority.ntfy(),
        "tags": out.message.tags,
        "click": out.click_url,
        "actions": actions,
        "sequence_id": out.delivery,
    })
}

#[async_trait]
impl Channel for Ntfy {
    async fn send(&self, out: &Outgoing) -> Result<Sent, SendError> {
        let (root, topic) = split_topic(&self.url).map_err(SendError::Config)?;
        let mut req = self.client.post(&root).json(&body(&topic, out)).header("X-Bosun-Delivery", &out.delivery);
        if let Some(env) = &self.token_env {
            req = req.bearer_auth(secret_from_env(env)?);
        }
        crate::send(&self.client, req, &root).await?;
        Ok(Sent::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_url_is_a_root_and_a_topic() {
        assert_eq!(split_topic("https://ntfy.sh/bosun-me").unwrap(), ("https://ntfy.sh/".into(), "bosun-me".into()));
        assert_eq!(split_topic("http://127.0.0.1:9/sub/t/").unwrap(), ("http://127.0.0.1:9/sub/".into(), "t".into()));
        assert!(split_topic("https://ntfy.sh/").is_err());
        assert!(split_topic("ftp://x/y").is_err());
        assert!(split_topic("not a url").is_err());
    }

    #[test]
    fn the_body_is_ntfys_json_with_at_most_three_buttons() {
        use bosun_core::notify::{NotifyKind, Subject, message};
        let s = Subject { task_id: 4, title: "Fix".into(), repo: None, agent: None, reason: None, ask: None };
        let link = |id, post| crate::Action { id, label: id.into(), url: format!("https://b/act/{id}"), post };
        let out = Outgoing {
            delivery: "bosun-d1".into(),
            kind: "notification",
            message: message(NotifyKind::NeedsInput, &s),
            click_url: "https://b/tasks/4".into(),
            actions: vec![link("approve", true), link("deny", true), link("open", false), link("extra", false)],
            items: Vec::new(),
        };
        let b = body("t", &out);
        assert_eq!((b["topic"].as_str(), b["priority"].as_u64(), b["sequence_id"].as_str()), (Some("t"), Some(5), Some("bosun-d1")));
        let actions = b["actions"].as_array().unwrap();
        assert_eq!(actions.len(), 3);
        assert_eq!((actions[0]["action"].as_str(), actions[0]["method"].as_str()), (Some("http"), Some("POST")));
        assert_eq!(actions[2]["action"], "view");
    }
}
