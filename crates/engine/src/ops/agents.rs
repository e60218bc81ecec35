//! `agents`: the agent profiles bosun finds (the user's, and a repo's), their
//! runtime, and whether its CLI is installed, the models it runs with (its own, and
//! those routing rules choose for it); profile files that could not be read.
//! A profile's `env:` values are never given out (they often hold API keys). An `api`
//! agent on an `openai-compatible` server has that server asked for its models.

use std::path::Path;

use std::time::Duration;

use bosun_api::{AgentInfo, AgentsBody, BrokenProfile, Endpoint, MASK};
use bosun_core::{ApiProvider, Runtime};

use crate::profiles::Profiles;
use crate::routing::Rules;
use crate::{Engine, detect};

impl Engine {
    pub async fn agents(&self, repo: Option<&Path>) -> AgentsBody {
        let profiles = Profiles::load(repo, &self.config.user_agents_dir());
        let rules = Rules::load(repo, &self.config.config_dir, &profiles);
        let mut agents = Vec::new();
        for mut profile in profiles.found {
            profile.env.values_mut().for_each(|v| *v = MASK.into());
            let installed = detect(&profile.runtime).await;
            let mut models: Vec<String> = profile.model.iter().cloned().collect();
            for m in rules.rules.iter().filter(|r| r.agent == profile.name).filter_map(|r| r.model.clone()) {
                if !models.contains(&m) {
                    models.push(m);
                }
            }
            let endpoint = match &profile.runtime {
                Runtime::Api(api) if api.provider == ApiProvider::OpenAiCompatible => Some(probe(&api.base_url).await),
                _ => None,
            };
            agents.push(AgentInfo { profile, installed, models, endpoint });
        }
        let broken = profiles.broken.into_iter().map(|(p, e)| BrokenProfile { path: p.display().to_string(), error: e }).collect();
        AgentsBody { agents, broken }
    }
}

/// How long a model server has to answer `GET /models`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Asks an OpenAI-compatible server at `base_url` which models it serves.
async fn probe(base_url: &str) -> Endpoint {
    let failed = |problem: String| Endpoint { url: base_url.to_string(), ok: false, models: Vec::new(), problem: Some(problem) };
    let client = match reqwest::Client::builder().timeout(PROBE_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot make an HTTP client: {e}")),
    };
    let response = match client.get(format!("{base_url}/models")).send().await {
        Ok(r) => r,
        Err(_) => return failed(format!("nothing answers at {base_url} (is the model server running?)")),
    };
    let status = response.status();
    if !status.is_success() {
        return failed(format!("{base_url}/models answered HTTP {}", status.as_u16()));
    }
    let Ok(body) = response.json::<serde_json::Value>().await else {
        return failed(format!("{base_url}/models did not answer with a list of models"));
    };
    let ids = body["data"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_str().map(str::to_string));
    Endpoint { url: base_url.to_string(), ok: true, models: ids.collect(), problem: None }
}
