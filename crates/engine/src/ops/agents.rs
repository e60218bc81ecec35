//! `agents`: the agent profiles bosun finds (the user's, and a repo's), their
//! runtime, and whether its CLI is installed, the models it runs with (its own, and
//! those routing rules choose for it); profile files that could not be read.
//! A profile's `env:` values are never given out (they often hold API keys).

use std::path::Path;

use bosun_api::{AgentInfo, AgentsBody, BrokenProfile, MASK};

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
            agents.push(AgentInfo { profile, installed, models });
        }
        let broken = profiles.broken.into_iter().map(|(p, e)| BrokenProfile { path: p.display().to_string(), error: e }).collect();
        AgentsBody { agents, broken }
    }
}
