//! `route explain`: where a task like this one would go — the rules tried in order
//! with why each missed, the one that matched, the profile and model chosen — and the
//! rules left out with their file and line. Nothing is created.

use std::path::Path;

use bosun_api::route::{RouteDecision, RouteExplained, RuleVerdict};
use bosun_core::NewTask;
use bosun_core::route::{self, Facts};

use crate::profiles::Profiles;
use crate::routing::{self, Ask, Decision, Rules};
use crate::{Engine, OpError};

impl Engine {
    pub fn explain_route(&self, new: NewTask) -> Result<RouteExplained, OpError> {
        new.validate().map_err(OpError::Invalid)?;
        let repo = new.repo.as_deref().map(Path::new);
        let profiles = Profiles::load(repo, &self.config.user_agents_dir());
        let rules = Rules::load(repo, &self.config.config_dir, &profiles);
        let facts = Facts {
            title: &new.title,
            body: &new.body,
            tags: &new.tags,
            assignee: new.assignee.as_deref(),
            repo: new.repo.as_deref(),
            source: new.source.as_deref().unwrap_or("cli"),
            priority: new.priority,
        };
        let verdicts = if new.agent.is_none() { route::explain(&rules.rules, &facts) } else { Vec::new() };
        let tried: Vec<RuleVerdict> = verdicts
            .iter()
            .map(|v| {
                let rule = &rules.rules[v.index];
                RuleVerdict {
                    file: rule.file.clone(),
                    line: rule.line,
                    agent: rule.agent.clone(),
                    model: rule.model.clone(),
                    matched: v.miss.is_none(),
                    why: v.miss.clone(),
                }
            })
            .collect();
        let untried = if new.agent.is_none() { rules.rules.len() - tried.len() } else { rules.rules.len() };
        let ask = Ask { facts, agent: new.agent.as_deref(), model: new.model.as_deref() };
        let decision = match routing::decide(&ask, &profiles, &rules) {
            Ok(Decision::Run(routed)) => RouteDecision {
                agent: Some(routed.profile.name.clone()),
                model: routed.profile.model.clone(),
                by: match (&routed.rule, &new.agent) {
                    (_, Some(_)) => "--agent".into(),
                    (Some((file, line)), None) => format!("the rule at {file} line {line}"),
                    (None, None) => "no routing rules: tags, else the only profile".into(),
                },
                error: None,
            },
            Ok(Decision::Triage(why)) => RouteDecision { agent: None, model: None, by: "triage".into(), error: Some(why) },
            Err(e) => RouteDecision { agent: None, model: None, by: "nothing".into(), error: Some(e.to_string()) },
        };
        Ok(RouteExplained {
            tried,
            untried,
            files: rules.files.iter().map(|f| f.display().to_string()).collect(),
            broken: rules.broken,
            decision,
        })
    }
}
