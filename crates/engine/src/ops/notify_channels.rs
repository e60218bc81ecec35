//! `notify add`, `notify ls`, `notify rm`: the channels notifications go to. Refused at
//! the door: a URL that is not http(s), an ntfy URL without a topic, an ntfy topic
//! taking asks with no token unless `public_topic_ok` (its links would be public), a webhook without
//! a secret, a `token_env`/`secret_env` not named `BOSUN_NOTIFY_*` or that the daemon's environment does not set, an
//! unknown event kind (with the nearest one), bad quiet hours, a second webpush channel. Only the *name* of a
//! secret's variable is stored or served.

use bosun_api::notify::NewChannelRequest;
use bosun_core::notify::{Channel, ChannelKind, Filter, NotifyKind, QuietHours, parse_kinds};
use bosun_store::notify::NewChannel;
use chrono::Utc;
use serde_json::json;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "notify_add", skip_all)]
    pub async fn add_channel(&self, req: NewChannelRequest) -> Result<Channel, OpError> {
        let events = kinds(&req.events)?;
        let quiet = req.quiet.as_deref().map(QuietHours::parse).transpose().map_err(OpError::Invalid)?;
        for env in [&req.token_env, &req.secret_env].into_iter().flatten() {
            check_env(env)?;
        }
        let (config, default_name) = match req.kind {
            ChannelKind::Ntfy => {
                let url = url(&req)?;
                bosun_notify::ntfy::split_topic(&url).map_err(OpError::Invalid)?;
                if req.secret_env.is_some() {
                    return Err(OpError::Invalid("an ntfy channel takes --token-env, not --secret-env".into()));
                }
                let asks = events.is_empty() || events.contains(&NotifyKind::NeedsInput);
                if asks && req.token_env.is_none() && !req.public_topic_ok {
                    return Err(OpError::Invalid(
                        "an ntfy topic without --token-env is public: anyone who can read it can press Approve; \
                         give --token-env BOSUN_NOTIFY_<NAME>, or --public-topic-ok to accept that"
                            .into(),
                    ));
                }
                (json!({"url": url, "token_env": req.token_env}), format!("ntfy {}", host(&url)))
            }
            ChannelKind::Webhook => {
                let url = url(&req)?;
                let Some(secret_env) = &req.secret_env else {
                    return Err(OpError::Invalid("a webhook needs --secret-env NAME: the variable holding its HMAC secret".into()));
                };
                (json!({"url": url, "secret_env": secret_env}), format!("webhook {}", host(&url)))
            }
            ChannelKind::Webpush => {
                if req.url.is_some() || req.token_env.is_some() || req.secret_env.is_some() {
                    return Err(OpError::Invalid("a webpush channel takes no URL or secret: browsers subscribe from the board".into()));
                }
                // One is enough: it reaches every subscribed browser (two would push twice).
                if let Some(c) = self.store.notify().channels().await?.into_iter().find(|c| c.kind == ChannelKind::Webpush) {
                    return Err(OpError::Refused(format!(
                        "there is a webpush channel already (channel {}): it reaches every subscribed browser",
                        c.id
                    )));
                }
                (json!({}), "web push".to_string())
            }
        };
        let name = req.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or(default_name);
        let filter = Filter { events, repos: req.repos.clone(), agents: req.agents.clone() };
        let channel = self.store.notify().add_channel(NewChannel { kind: req.kind, name, config, filter, quiet }, Utc::now()).await?;
        tracing::info!(channel = channel.id, kind = channel.kind.as_str(), "notification channel added");
        Ok(channel)
    }

    pub async fn channels(&self) -> Result<Vec<Channel>, OpError> {
        Ok(self.store.notify().channels().await?)
    }

    #[tracing::instrument(name = "notify_rm", skip(self))]
    pub async fn remove_channel(&self, id: i64) -> Result<Channel, OpError> {
        Ok(self.store.notify().delete_channel(id).await?)
    }
}

fn url(req: &NewChannelRequest) -> Result<String, OpError> {
    let kind = req.kind.as_str();
    let url = req.url.as_deref().ok_or_else(|| OpError::Invalid(format!("a {kind} channel needs --url")))?;
    let parsed = reqwest::Url::parse(url).map_err(|e| OpError::Invalid(format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(OpError::Invalid(format!("{url:?} is not an http(s) URL")));
    }
    Ok(url.to_string())
}

fn host(url: &str) -> String {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
}

/// The variable must be set where it will be read: in the daemon, not the CLI.
fn check_env(name: &str) -> Result<(), OpError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(OpError::Invalid(format!("{name:?} is not an environment variable name")));
    }
    let prefix = bosun_notify::SECRET_ENV_PREFIX;
    if !name.starts_with(prefix) {
        return Err(OpError::Invalid(format!(
            "the variable's name must start with {prefix} (so no other secret of the daemon's can be sent to a URL): {name} is not"
        )));
    }
    match std::env::var_os(name) {
        Some(v) if !v.is_empty() => Ok(()),
        _ => Err(OpError::Invalid(format!(
            "the environment variable {name} is not set in the daemon's environment (set it where `bosun serve` runs, then restart it)"
        ))),
    }
}

/// The event kinds, each known (a typo gets the nearest).
fn kinds(words: &[String]) -> Result<Vec<NotifyKind>, OpError> {
    parse_kinds(&words.join(",")).map_err(|bad| {
        let known: Vec<&str> = NotifyKind::ALL.iter().map(|k| k.as_str()).collect();
        let near = known.iter().max_by(|a, b| strsim::jaro_winkler(&bad, a).total_cmp(&strsim::jaro_winkler(&bad, b))).copied();
        let hint = near.filter(|n| strsim::jaro_winkler(&bad, n) > 0.7).map(|n| format!(" (did you mean {n}?)")).unwrap_or_default();
        OpError::Invalid(format!("unknown event kind {bad:?}{hint}; known: {}", known.join(", ")))
    })
}
