//! Routing a task to a profile and model: the task's explicit `--agent` wins; else
//! the routing rules (the repo's `.bosun/config.toml` `[[route]]` first, then
//! `<config-dir>/routing.toml`; the first match wins), read from disk at every look
//! (and `watch.rs` makes an edit of the user's a look) so an edited file counts at once; with rules and no match the task waits in
//! triage; with no rules at all, the tags / only-profile fallback of
//! [`bosun_core::schedule::route`]. A rule naming a profile that does not exist is
//! reported with its file and line when the rules are read, and left out.

use std::path::{Path, PathBuf};

use bosun_core::budget::{BudgetConfig, RunScope};
use bosun_core::route::{self, Facts, Rule, RuleError};
use bosun_core::{AgentProfile, Task};

use crate::Engine;

/// What a run reserves before it starts and the budgets it falls under.
#[derive(Debug, Clone, Default)]
pub struct Spend {
    pub budgets: Vec<bosun_core::budget::Budget>,
    pub reserve: f64,
}

use crate::profiles::{Profiles, RoutingError};

/// The rules in force for one repo (or for tasks without one).
#[derive(Debug, Default)]
pub struct Rules {
    pub rules: Vec<Rule>,
    /// Rules left out, with where and why.
    pub broken: Vec<RuleError>,
    /// The files read, in order (existing or not).
    pub files: Vec<PathBuf>,
    /// The user's `[budget]` (routing.toml's; a repo's config has none).
    pub budget: BudgetConfig,
}

impl Rules {
    /// The repo's rules then the user's, each checked against `profiles`.
    pub fn load(repo: Option<&Path>, config_dir: &Path, profiles: &Profiles) -> Rules {
        let home = std::env::var("HOME").ok();
        let mut rules = Rules::default();
        let mut files: Vec<PathBuf> = repo.map(|r| r.join(".bosun").join("config.toml")).into_iter().collect();
        files.push(config_dir.join("routing.toml"));
        for path in files {
            let text = std::fs::read_to_string(&path);
            rules.files.push(path.clone());
            let Ok(text) = text else { continue };
            if path.ends_with("routing.toml") {
                match BudgetConfig::parse(&text, home.as_deref()) {
                    Ok(budget) => rules.budget = budget,
                    Err(message) => rules.broken.push(RuleError { file: path.display().to_string(), line: 1, message }),
                }
            }
            let (good, bad) = route::parse(&text, &path.display().to_string(), home.as_deref());
            rules.broken.extend(bad);
            for rule in good {
                if profiles.found.iter().any(|p| p.name == rule.agent) {
                    rules.rules.push(rule);
                } else {
                    let message = format!("unknown agent `{}`: no profile of that name (`bosun agents` lists them)", rule.agent);
                    rules.broken.push(RuleError { file: rule.file, line: rule.line, message });
                }
            }
        }
        for e in &rules.broken {
            tracing::warn!("routing rule left out: {e}");
        }
        rules
    }

    /// Whether any rule is written (a broken one counts: its tasks wait in triage
    /// rather than going wherever the fallback sends them).
    pub fn exist(&self) -> bool {
        !self.rules.is_empty() || !self.broken.is_empty()
    }
}

/// Where a task goes.
#[derive(Debug, Clone)]
pub enum Decision {
    Run(Box<Routed>),
    /// Rules exist and none matched: why, for the task's reason.
    Triage(String),
}

/// A profile chosen, with the model it runs and the rule that chose it.
#[derive(Debug, Clone)]
pub struct Routed {
    /// The profile, its `model` set to the one the task runs with.
    pub profile: AgentProfile,
    /// The rule that chose it (its file and line), if a rule did.
    pub rule: Option<(String, usize)>,
    /// The rule's budget for the task.
    pub budget: Option<f64>,
}

/// What routing needs of a task.
pub struct Ask<'a> {
    pub facts: Facts<'a>,
    pub agent: Option<&'a str>,
    pub model: Option<&'a str>,
}

impl<'a> Ask<'a> {
    pub fn of(task: &'a Task) -> Ask<'a> {
        Ask {
            facts: Facts {
                title: &task.title,
                body: &task.body,
                tags: &task.tags,
                assignee: task.assignee.as_deref(),
                repo: task.repo.as_deref(),
                source: &task.source,
                priority: task.priority,
            },
            agent: task.agent.as_deref(),
            model: task.model.as_deref(),
        }
    }
}

/// Routes a task: explicit choices win, then the rules, then the fallback.
pub fn decide(ask: &Ask<'_>, profiles: &Profiles, rules: &Rules) -> Result<Decision, RoutingError> {
    let with_model = |p: &AgentProfile, model: Option<&str>| {
        let mut p = p.clone();
        p.model = ask.model.or(model).map(str::to_string).or(p.model);
        p
    };
    if ask.agent.is_none() && rules.exist() {
        return Ok(match route::first_match(&rules.rules, &ask.facts) {
            Some(rule) => {
                let profile = profiles.route(Some(&rule.agent), &[])?;
                Decision::Run(Box::new(Routed {
                    profile: with_model(profile, rule.model.as_deref()),
                    rule: Some((rule.file.clone(), rule.line)),
                    budget: rule.budget,
                }))
            }
            None => Decision::Triage(format!(
                "no routing rule matches it ({}); name its agent with `bosun retry --agent`",
                rules.files.iter().filter(|f| f.is_file()).map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            )),
        });
    }
    let profile = profiles.route(ask.agent, ask.facts.tags)?;
    Ok(Decision::Run(Box::new(Routed { profile: with_model(profile, None), rule: None, budget: None })))
}

/// What a run of `task` by `profile` reserves, and the budgets it falls under (the
/// task's own budget, else the rule's, else the configured default).
pub async fn spend_for(engine: &Engine, task: &Task, profile: &str, rule_budget: Option<f64>, config: &BudgetConfig) -> Spend {
    let scope = RunScope { task_id: task.id, profile, repo: task.repo.as_deref(), task_budget: task.budget.or(rule_budget) };
    let budgets = config.budgets_for(&scope, chrono::Utc::now());
    if budgets.is_empty() {
        return Spend::default();
    }
    let spent = engine.store.ledger().task_spent(task.id).await.unwrap_or_else(|e| {
        tracing::error!(task = task.id, "cannot read what the task spent: {e}");
        0.0
    });
    Spend { reserve: config.reservation(&scope, spent), budgets }
}
