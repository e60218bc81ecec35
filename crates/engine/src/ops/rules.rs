//! `rules` and `rules rm`: the allow rules that let an agent's asks pass without a
//! human — those `approve --always` saved, each with the answer it came from, and the
//! `allow:` lists of profile files — and revoking a saved one (a profile file's rules
//! change only by editing the file).

use std::path::Path;

use bosun_api::{AllowRule, RuleOrigin, RulesQuery};
use bosun_store::{RuleFilter, SavedRule};

use crate::profiles::Profiles;
use crate::{Engine, OpError};

impl Engine {
    /// The saved rules, then the profile files' rules: the user's profiles and those of
    /// the repo asked about (of every repo with tasks when none is).
    pub async fn rules(&self, q: &RulesQuery) -> Result<Vec<AllowRule>, OpError> {
        let filter = RuleFilter { profile: q.agent.clone(), repo: q.repo.clone() };
        let mut rules: Vec<AllowRule> = self.store.saved_rules(&filter).await?.into_iter().map(saved).collect();
        let mut repos = match &q.repo {
            Some(repo) => vec![repo.clone()],
            None => self.store.repo_counts().await?.into_iter().map(|c| c.repo).collect(),
        };
        repos.dedup();
        let mut files = vec![(None, Profiles::load(None, &self.config.user_agents_dir()))];
        files.extend(repos.into_iter().map(|repo| (Some(repo.clone()), Profiles::of_repo(Path::new(&repo)))));
        for (repo, profiles) in files {
            for p in profiles.found.into_iter().filter(|p| q.agent.as_ref().is_none_or(|a| *a == p.name)) {
                let file = p.source.clone().unwrap_or_default();
                rules.extend(p.allow.into_iter().map(|pattern| AllowRule {
                    id: None,
                    profile: p.name.clone(),
                    repo: repo.clone(),
                    pattern,
                    origin: RuleOrigin::Profile { file: file.clone() },
                }));
            }
        }
        Ok(rules)
    }

    /// Revokes a saved rule: the next ask it would have allowed is asked again.
    #[tracing::instrument(name = "revoke_rule", skip(self))]
    pub async fn revoke_rule(&self, id: i64) -> Result<AllowRule, OpError> {
        let rule = self.store.delete_rule(id).await?;
        tracing::info!(profile = rule.profile, pattern = rule.pattern, "allow rule revoked");
        Ok(saved(rule))
    }
}

fn saved(r: SavedRule) -> AllowRule {
    AllowRule {
        id: Some(r.id),
        profile: r.profile,
        repo: r.repo,
        pattern: r.pattern,
        origin: RuleOrigin::Approval { approval: r.approval.map(Box::new), saved_at: r.created_at },
    }
}
