//! Budgets: the limits a run falls under, what a run reserves before it starts, and
//! when spend has crossed a limit or come near it. Amounts are US dollars; days and
//! months are UTC.
//!
//! ```toml
//! # <config-dir>/routing.toml
//! [budget]
//! daily = 20.00            # all agents
//! monthly = 300.00
//! [budget.profile.senior]
//! monthly = 200.00
//! per_run = 4.00           # what one run of it reserves (and may spend)
//! [budget.repo."~/code/payments"]
//! daily = 10.00
//! [budget.task]
//! default = 5.00           # per task unless `bosun add --budget`
//! ```
//!
//! The store sums the ledger and the live reservations; this module decides.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::task::TaskId;

/// What a usage event is charged, besides its tokens: carried with the event to the
/// store, which writes its ledger row in the same transaction ([`crate::event::NewEvent`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    /// The report's place in the run's output (its spool line), if it has one; else the
    /// event's seq is used. A report replayed after a crash has the same line and is
    /// counted once.
    pub line: Option<u64>,
    pub profile: String,
    pub repo: Option<String>,
    pub model: Option<String>,
    /// What the CLI said it cost.
    pub reported_usd: Option<f64>,
    /// The price table's figure.
    pub priced_usd: Option<f64>,
    /// Which of the two counts: `reported`, `priced` or `none`.
    pub counted: &'static str,
}

/// What `bosun cost` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostBy {
    Task,
    Profile,
    Repo,
    Model,
    Day,
    Month,
}

/// One line of a cost report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CostRow {
    /// The task id, profile, repo, model, day (`2026-03-14`) or month (`2026-03`); null
    /// for reports without one (no repo, no model).
    pub key: Option<String>,
    pub cost_usd: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    /// Usage reports counted.
    pub reports: u64,
}

/// Daily and monthly limits (and, for a profile, its per-run reservation).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub daily: Option<f64>,
    pub monthly: Option<f64>,
    /// Profiles only: what one run reserves.
    pub per_run: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskBudgets {
    pub default: Option<f64>,
}

/// The `[budget]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    pub daily: Option<f64>,
    pub monthly: Option<f64>,
    #[serde(default)]
    pub profile: BTreeMap<String, Limits>,
    #[serde(default)]
    pub repo: BTreeMap<String, Limits>,
    #[serde(default)]
    pub task: TaskBudgets,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    budget: BudgetConfig,
}

impl BudgetConfig {
    /// The `[budget]` table of a routing file (other keys are not budgets'). `home`
    /// expands repo keys starting with `~/`.
    pub fn parse(text: &str, home: Option<&str>) -> Result<BudgetConfig, String> {
        let mut config = toml::from_str::<File>(text).map_err(|e| format!("[budget]: {}", e.message().trim()))?.budget;
        let amounts = [config.daily, config.monthly, config.task.default]
            .into_iter()
            .chain(config.profile.values().chain(config.repo.values()).flat_map(|l| [l.daily, l.monthly, l.per_run]));
        if let Some(bad) = amounts.flatten().find(|a| !(a.is_finite() && *a >= 0.0)) {
            return Err(format!("[budget]: {bad} is not an amount of dollars"));
        }
        config.repo = std::mem::take(&mut config.repo)
            .into_iter()
            .map(|(k, v)| match (k.strip_prefix("~/"), home) {
                (Some(rest), Some(home)) => (format!("{}/{rest}", home.trim_end_matches('/')), v),
                _ => (k.trim_end_matches('/').to_string(), v),
            })
            .collect();
        Ok(config)
    }
}

/// Which spend a budget counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Scope {
    All,
    Profile(String),
    /// A repo root (tasks in it).
    Repo(String),
    Task(TaskId),
}

/// One budget: a scope, a period, a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Budget {
    /// How people name it: `daily`, `profile senior monthly`, `task T-4`.
    pub name: String,
    pub scope: Scope,
    /// Counts spend from this moment (None: all of it, a task's).
    pub since: Option<DateTime<Utc>>,
    pub limit: f64,
}

fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), now.day(), 0, 0, 0).single().unwrap_or(now)
}

fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now)
}

/// What a run is about: whose budgets it falls under.
#[derive(Debug, Clone)]
pub struct RunScope<'a> {
    pub task_id: TaskId,
    pub profile: &'a str,
    pub repo: Option<&'a str>,
    /// The task's own budget (`--budget`, a rule's), else the config's default.
    pub task_budget: Option<f64>,
}

impl BudgetConfig {
    /// Every budget a run of `run` falls under, at `now`.
    pub fn budgets_for(&self, run: &RunScope<'_>, now: DateTime<Utc>) -> Vec<Budget> {
        let mut out = Vec::new();
        let mut periodic = |name: String, scope: Scope, l: (Option<f64>, Option<f64>)| {
            if let Some(limit) = l.0 {
                out.push(Budget { name: format!("{name}daily"), scope: scope.clone(), since: Some(day_start(now)), limit });
            }
            if let Some(limit) = l.1 {
                out.push(Budget { name: format!("{name}monthly"), scope, since: Some(month_start(now)), limit });
            }
        };
        periodic(String::new(), Scope::All, (self.daily, self.monthly));
        if let Some(l) = self.profile.get(run.profile) {
            periodic(format!("profile {} ", run.profile), Scope::Profile(run.profile.into()), (l.daily, l.monthly));
        }
        if let Some(repo) = run.repo
            && let Some(l) = self.repo.get(repo)
        {
            periodic(format!("repo {repo} "), Scope::Repo(repo.into()), (l.daily, l.monthly));
        }
        if let Some(limit) = run.task_budget.or(self.task.default) {
            out.push(Budget { name: format!("task T-{}", run.task_id), scope: Scope::Task(run.task_id), since: None, limit });
        }
        out
    }

    /// Every budget the configuration sets (global, per profile, per repo), at `now`;
    /// task budgets are each task's.
    pub fn configured(&self, now: DateTime<Utc>) -> Vec<Budget> {
        let mut out = Vec::new();
        let mut periodic = |name: String, scope: Scope, daily: Option<f64>, monthly: Option<f64>| {
            if let Some(limit) = daily {
                out.push(Budget { name: format!("{name}daily"), scope: scope.clone(), since: Some(day_start(now)), limit });
            }
            if let Some(limit) = monthly {
                out.push(Budget { name: format!("{name}monthly"), scope, since: Some(month_start(now)), limit });
            }
        };
        periodic(String::new(), Scope::All, self.daily, self.monthly);
        for (p, l) in &self.profile {
            periodic(format!("profile {p} "), Scope::Profile(p.clone()), l.daily, l.monthly);
        }
        for (r, l) in &self.repo {
            periodic(format!("repo {r} "), Scope::Repo(r.clone()), l.daily, l.monthly);
        }
        out
    }

    /// What a run reserves: what is left of its task's budget, or its profile's
    /// `per_run`, whichever is less; 0 with neither (it may start while every budget
    /// has something left).
    pub fn reservation(&self, run: &RunScope<'_>, task_spent: f64) -> f64 {
        let task_left = run.task_budget.or(self.task.default).map(|b| (b - task_spent).max(0.0));
        let per_run = self.profile.get(run.profile).and_then(|l| l.per_run);
        match (task_left, per_run) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => 0.0,
        }
    }
}

/// A budget with what counts against it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetState {
    #[serde(flatten)]
    pub budget: Budget,
    pub spent: f64,
    /// What live runs may still spend (their reservations less what they spent).
    pub reserved: f64,
}

impl BudgetState {
    pub fn remaining(&self) -> f64 {
        (self.budget.limit - self.spent - self.reserved).max(0.0)
    }

    /// Whether a run reserving `amount` fits: nothing spent past the limit, and the
    /// reservations together with it within it.
    pub fn fits(&self, amount: f64) -> bool {
        self.spent < self.budget.limit && self.spent + self.reserved + amount <= self.budget.limit + 1e-9
    }

    /// Spend has reached the limit.
    pub fn crossed(&self) -> bool {
        self.spent >= self.budget.limit
    }

    /// Spend has reached 80 % of the limit.
    pub fn near(&self) -> bool {
        self.spent >= 0.8 * self.budget.limit
    }

    /// "budget `daily`: $18.00 spent + $3.00 reserved of $20.00".
    pub fn describe(&self) -> String {
        format!("budget `{}`: ${:.2} spent + ${:.2} reserved of ${:.2}", self.budget.name, self.spent, self.reserved, self.budget.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap()
    }

    const CONFIG: &str = r#"
[[route]]
when = {}
agent = "x"
[budget]
daily = 20.0
[budget.profile.senior]
monthly = 200
per_run = 4
[budget.repo."~/code/pay"]
daily = 10
[budget.task]
default = 5
"#;

    #[test]
    fn the_budgets_a_run_falls_under() {
        let c = BudgetConfig::parse(CONFIG, Some("/home/u")).unwrap();
        let run = RunScope { task_id: 3, profile: "senior", repo: Some("/home/u/code/pay"), task_budget: None };
        let names: Vec<String> = c.budgets_for(&run, now()).into_iter().map(|b| b.name).collect();
        assert_eq!(names, vec!["daily", "profile senior monthly", "repo /home/u/code/pay daily", "task T-3"]);
        let b = c.budgets_for(&run, now());
        assert_eq!(b[0].since, Some(Utc.with_ymd_and_hms(2026, 3, 14, 0, 0, 0).unwrap()));
        assert_eq!(b[1].since, Some(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()));
        assert_eq!((b[3].limit, b[3].since), (5.0, None));
        let own = RunScope { task_budget: Some(8.0), profile: "other", repo: None, ..run.clone() };
        let b = c.budgets_for(&own, now());
        assert_eq!(b.iter().map(|b| b.limit).collect::<Vec<_>>(), vec![20.0, 8.0], "--budget wins over the default");
    }

    #[test]
    fn reservations_are_what_is_left_or_the_per_run_cap() {
        let c = BudgetConfig::parse(CONFIG, None).unwrap();
        let senior = RunScope { task_id: 1, profile: "senior", repo: None, task_budget: None };
        assert_eq!(c.reservation(&senior, 0.0), 4.0, "per_run caps the task's 5");
        assert_eq!(c.reservation(&senior, 3.5), 1.5, "what is left of the task's budget");
        assert_eq!(c.reservation(&senior, 9.0), 0.0);
        let none = BudgetConfig::default();
        assert_eq!(none.reservation(&senior, 0.0), 0.0);
    }

    #[test]
    fn fits_crossed_near() {
        let b = Budget { name: "daily".into(), scope: Scope::All, since: None, limit: 10.0 };
        let s = |spent, reserved| BudgetState { budget: b.clone(), spent, reserved };
        assert!(s(0.0, 6.0).fits(4.0));
        assert!(!s(0.0, 6.5).fits(4.0), "reservations together may not exceed the limit");
        assert!(!s(10.0, 0.0).fits(0.0), "nothing starts on a spent budget");
        assert!(s(10.0, 0.0).crossed() && !s(9.99, 0.0).crossed());
        assert!(s(8.0, 0.0).near() && !s(7.9, 0.0).near());
        assert_eq!(s(18.0, 1.0).describe(), "budget `daily`: $18.00 spent + $1.00 reserved of $10.00");
        assert_eq!(s(8.0, 1.0).remaining(), 1.0);
    }

    #[test]
    fn bad_amounts_are_refused() {
        assert!(BudgetConfig::parse("[budget]\ndaily = -1\n", None).unwrap_err().contains("-1"));
        assert!(BudgetConfig::parse("[budget]\nweekly = 1\n", None).unwrap_err().contains("unknown field `weekly`"));
        assert_eq!(BudgetConfig::parse("", None).unwrap(), BudgetConfig::default());
    }
}
