//! `source add`, `source ls`, `source sync`, `source rm`: where tasks come from outside
//! bosun. Refused at the door: a field another kind takes, a token variable the
//! daemon's environment does not set, a repo that is not one, an interval below
//! [`MIN_INTERVAL_SECS`], an API base that is not http(s); and the service is asked
//! once before the source is kept (a refused token, a missing or mistyped property, an
//! unknown team or repository say so now, not at the first sync). Only the *name* of a
//! token's variable is stored or served.

use bosun_api::source::{NewSourceRequest, SyncResult};
use bosun_core::source::{
    DEFAULT_INTERVAL_SECS, GithubConfig, LinearConfig, MIN_INTERVAL_SECS, NotionConfig, Source, SourceConfig, SourceKind, notion_id,
};
use bosun_git::Repo;
use bosun_sources::SourceError;
use bosun_store::sources::NewSource;
use chrono::Utc;

use crate::{Engine, OpError};

impl Engine {
    #[tracing::instrument(name = "source_add", skip_all)]
    pub async fn add_source(&self, req: NewSourceRequest) -> Result<Source, OpError> {
        let kind = req.kind.ok_or_else(|| OpError::Invalid("a source needs its kind: notion, github or linear".into()))?;
        let mut req = req;
        if kind == SourceKind::Github {
            // A checkout names its GitHub repository (and API) as for `bosun pr`.
            if req.github_repo.is_none()
                && let Some(path) = &req.repo
            {
                let repo = Repo::open(std::path::Path::new(path)).await.map_err(|e| OpError::Invalid(e.to_string()))?;
                let forge = crate::forge::Forge::for_repo(&repo).await.map_err(|e| OpError::Invalid(e.to_string()))?;
                req.github_repo = Some(forge.slug());
            }
            if req.api.is_none() {
                req.api = std::env::var("BOSUN_GITHUB_API").ok().filter(|v| !v.is_empty());
            }
        }
        let config = config(kind, &req)?;
        let repo = match &req.repo {
            None => None,
            Some(path) => {
                let path = std::path::Path::new(path);
                if !path.is_absolute() {
                    return Err(OpError::Invalid(format!("repo must be an absolute path, not {}", path.display())));
                }
                let repo = Repo::open(path).await.map_err(|e| OpError::Invalid(e.to_string()))?;
                Some(repo.root().to_string_lossy().into_owned())
            }
        };
        let interval_secs = req.interval.unwrap_or(DEFAULT_INTERVAL_SECS);
        if interval_secs < MIN_INTERVAL_SECS {
            return Err(OpError::Invalid(format!("--interval is at least {MIN_INTERVAL_SECS} seconds")));
        }
        if let Some(api) = &req.api {
            let url = reqwest::Url::parse(api).map_err(|e| OpError::Invalid(format!("--api {api:?} is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(OpError::Invalid(format!("--api {api:?} is not an http(s) URL")));
            }
        }
        let webhook = match (&req.webhook_secret_env, req.webhook.unwrap_or(false)) {
            (Some(name), _) => {
                check_env(name)?;
                Some(Some(name.clone()))
            }
            (None, true) if kind == SourceKind::Notion => Some(None),
            (None, true) => {
                return Err(OpError::Invalid(format!(
                    "a {} webhook is signed with a secret you choose: give --webhook-secret-env NAME (a variable set in the daemon's environment)",
                    kind.service()
                )));
            }
            (None, false) => None,
        };
        let new = NewSource { config, repo, interval_secs, api: req.api.clone(), webhook };
        // Asked once before it is kept: a source that cannot work is refused now.
        let probe = Source {
            id: 0,
            config: new.config.clone(),
            repo: new.repo.clone(),
            interval_secs,
            api: new.api.clone(),
            created_at: Utc::now(),
            last_sync_at: None,
            last_error: None,
            seen: 0,
            created: 0,
            webhook: None,
        };
        let conn = crate::sources::make_connector(&probe).await.map_err(refusal)?;
        conn.check().await.map_err(refusal)?;
        let source = self.store.sources().add_source(new, Utc::now()).await?;
        self.connectors.lock().unwrap().insert(source.id, conn);
        tracing::info!(source = source.id, kind = kind.as_str(), "source added: {}", source.config.watching());
        self.sources_wake.notify_waiters();
        Ok(self.with_hook_url(source))
    }

    pub async fn list_sources(&self) -> Result<Vec<Source>, OpError> {
        Ok(self.store.sources().sources().await?.into_iter().map(|s| self.with_hook_url(s)).collect())
    }

    /// The source with its webhook's full URL (the store knows only its path).
    pub(crate) fn with_hook_url(&self, mut source: Source) -> Source {
        if let Some(hook) = &mut source.webhook {
            hook.url = format!("{}{}", self.config.public_url.trim_end_matches('/'), bosun_core::source::webhook_path(source.id));
        }
        source
    }

    #[tracing::instrument(name = "source_sync", skip(self))]
    pub async fn sync_source_now(&self, id: i64) -> Result<SyncResult, OpError> {
        let source = self.store.sources().source(id).await?;
        let mut result = self.sync_source(&source).await.map_err(refusal)?;
        result.source = self.with_hook_url(result.source);
        self.sources_wake.notify_waiters();
        Ok(result)
    }

    #[tracing::instrument(name = "source_rm", skip(self))]
    pub async fn remove_source(&self, id: i64) -> Result<Source, OpError> {
        let source = self.store.sources().remove_source(id, Utc::now()).await?;
        self.connectors.lock().unwrap().remove(&id);
        self.sources_wake.notify_waiters();
        Ok(self.with_hook_url(source))
    }
}

/// A service's answer as the op's error: the user's settings (400) or the service (502).
fn refusal(e: SourceError) -> OpError {
    match &e {
        SourceError::Unreachable { service, .. } | SourceError::RateLimited { service } | SourceError::Decode { service, .. } => {
            OpError::Unavailable { service, message: e.to_string() }
        }
        SourceError::Api { service, status, .. } if *status >= 500 => OpError::Unavailable { service, message: e.to_string() },
        _ => OpError::Invalid(e.to_string()),
    }
}

/// The kind's settings from the request; a field of another kind is refused.
fn config(kind: SourceKind, req: &NewSourceRequest) -> Result<SourceConfig, OpError> {
    let name = kind.as_str();
    let refuse = |flag: &str| Err(OpError::Invalid(format!("a {name} source takes no {flag}")));
    let notion_only = [
        ("--database", req.database.is_some()),
        ("--status-property", req.status_property.is_some()),
        ("--ready", req.ready.is_some()),
        ("--agent-property", req.agent_property.is_some()),
        ("--tags-property", req.tags_property.is_some()),
        ("--repo-property", req.repo_property.is_some()),
        ("--assignee-property", req.assignee_property.is_some()),
    ];
    let token_env = |required: bool| -> Result<Option<String>, OpError> {
        match &req.token_env {
            Some(v) => {
                check_env(v)?;
                Ok(Some(v.clone()))
            }
            None if required => Err(OpError::Invalid(format!("a {name} source needs --token-env NAME: the variable holding its token"))),
            None => Ok(None),
        }
    };
    let need = |v: &Option<String>, flag: &str| {
        v.clone().filter(|s| !s.trim().is_empty()).ok_or_else(|| OpError::Invalid(format!("a {name} source needs {flag}")))
    };
    match kind {
        SourceKind::Notion => {
            for (flag, set) in [
                ("--github-repo", req.github_repo.is_some()),
                ("--team", req.team.is_some()),
                ("--label", req.label.is_some()),
                ("--assignee", req.assignee.is_some()),
                ("--delegated", req.delegated.is_some()),
            ] {
                if set {
                    return refuse(flag);
                }
            }
            let database = notion_id(&need(&req.database, "--database <id or URL>")?).map_err(OpError::Invalid)?;
            Ok(SourceConfig::Notion(NotionConfig {
                database,
                token_env: token_env(true)?.unwrap_or_default(),
                status_property: req.status_property.clone().unwrap_or_else(|| "Status".into()),
                ready: req.ready.clone().unwrap_or_else(|| "Ready".into()),
                agent_property: req.agent_property.clone(),
                tags_property: req.tags_property.clone(),
                repo_property: req.repo_property.clone(),
                assignee_property: req.assignee_property.clone(),
                phases: Default::default(),
            }))
        }
        SourceKind::Github => {
            if let Some((flag, _)) = notion_only.iter().find(|(_, set)| *set) {
                return refuse(flag);
            }
            if req.team.is_some() {
                return refuse("--team");
            }
            if req.delegated.is_some() {
                return refuse("--delegated");
            }
            let repo = need(&req.github_repo, "--repo owner/name")?;
            if bosun_core::repo_config::parse_owner_repo(&repo).is_none() {
                return Err(OpError::Invalid(format!("{repo:?} is not owner/name")));
            }
            Ok(SourceConfig::Github(GithubConfig {
                repo,
                label: need(&req.label, "--label NAME")?,
                assignee: req.assignee.clone(),
                token_env: token_env(false)?,
            }))
        }
        SourceKind::Linear => {
            if let Some((flag, _)) = notion_only.iter().find(|(_, set)| *set) {
                return refuse(flag);
            }
            for (flag, set) in [("--github-repo", req.github_repo.is_some()), ("--assignee", req.assignee.is_some())] {
                if set {
                    return refuse(flag);
                }
            }
            let delegated = req.delegated.unwrap_or(false);
            let label = req.label.clone().filter(|l| !l.trim().is_empty());
            if label.is_none() && !delegated {
                return Err(OpError::Invalid(
                    "a linear source needs --label NAME, or --delegated (issues delegated to bosun's app user)".into(),
                ));
            }
            Ok(SourceConfig::Linear(LinearConfig {
                team: need(&req.team, "--team KEY")?,
                label,
                delegated,
                token_env: token_env(true)?.unwrap_or_default(),
            }))
        }
    }
}

/// The variable must be set where it will be read: in the daemon, not the CLI.
fn check_env(name: &str) -> Result<(), OpError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(OpError::Invalid(format!("{name:?} is not an environment variable name")));
    }
    crate::sources::env_token(name).map(|_| ()).map_err(|e| OpError::Invalid(e.to_string()))
}
