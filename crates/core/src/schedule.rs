//! The dispatcher's decisions, without the dispatching: which profile a task goes to,
//! which queued tasks may start now given the concurrency limits, and why the others
//! wait ([`Wait`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::profile::AgentProfile;
use crate::task::{TaskId, TaskStatus};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown agent `{name}`: no profile of that name in {searched}")]
    UnknownAgent { name: String, searched: String },
    #[error("no agent profile matches this task (tags: {tags}); name one with --agent (profiles: {known})")]
    NoMatch { tags: String, known: String },
}

/// Picks the profile for a task: the one it names, else the first profile (by name)
/// sharing a tag with it, else the only profile there is. Built-in profiles (an
/// installed CLI's, [`AgentProfile::built_in`]) are taken by name, or when there is
/// no other profile at all: then the first of them (claude, codex, gemini).
pub fn route<'a>(
    agent: Option<&str>,
    tags: &[String],
    profiles: &'a [AgentProfile],
    searched: &str,
) -> Result<&'a AgentProfile, RouteError> {
    if let Some(name) = agent {
        return profiles
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| RouteError::UnknownAgent { name: name.to_string(), searched: searched.to_string() });
    }
    let mut sorted: Vec<&AgentProfile> = profiles.iter().filter(|p| !p.builtin).collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(p) = sorted.iter().find(|p| p.tags.iter().any(|t| tags.contains(t))) {
        return Ok(p);
    }
    if let [only] = sorted.as_slice() {
        return Ok(only);
    }
    if sorted.is_empty()
        && let Some(first) = profiles.iter().find(|p| p.builtin)
    {
        return Ok(first);
    }
    let known: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    Err(RouteError::NoMatch {
        tags: if tags.is_empty() { "none".into() } else { tags.join(", ") },
        known: if known.is_empty() { "none found".into() } else { known.join(", ") },
    })
}

/// A queued task that could start, with the profile routing chose for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub task_id: TaskId,
    pub priority: i64,
    pub profile: String,
    pub profile_limit: Option<u32>,
}

/// Why a queued task has not started: what the dispatcher decided (the limits, in
/// [`pick`]; dependencies, in [`crate::deps::dep_state`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Wait {
    /// Its profile already runs as many as its `max_concurrent` allows.
    ProfileLimit { profile: String, running: usize, limit: u32 },
    /// A dependency is not done (merged) yet.
    Dependency { task: TaskId, status: TaskStatus },
    /// This daemon already runs as many agents as its global limit allows.
    GlobalLimit { running: usize, limit: usize },
    /// Picked: its run is being started.
    Starting,
    /// Its run's reservation does not fit a budget: it starts once reservations are
    /// released (or the budget is raised).
    Budget { budget: String, detail: String },
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wait::ProfileLimit { profile, running, limit } => write!(f, "{profile} {running}/{limit} running"),
            Wait::Dependency { task, status } => write!(f, "after T-{task}, which is {}", status.in_words()),
            Wait::GlobalLimit { running, limit } => write!(f, "global limit: {running}/{limit} running"),
            Wait::Starting => f.write_str("starting"),
            Wait::Budget { detail, .. } => write!(f, "blocked by {detail}"),
        }
    }
}

/// A queued task's [`Wait`] as served: the reason and the same for a human
/// (`"claude 3/3 running"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Waiting {
    #[serde(flatten)]
    pub on: Wait,
    pub text: String,
}

impl From<Wait> for Waiting {
    fn from(on: Wait) -> Waiting {
        Waiting { text: on.to_string(), on }
    }
}

/// What [`pick`] decided: who starts now, and why each of the others waits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Picked {
    pub start: Vec<Candidate>,
    pub wait: Vec<(TaskId, Wait)>,
}

/// Which candidates start now: highest priority first, then oldest; never more than
/// `global_limit` runs in all, nor more than a profile's limit for that profile. A
/// task whose profile is full does not hold back tasks of other profiles. Every
/// candidate that does not start is told why.
pub fn pick(
    mut candidates: Vec<Candidate>,
    running_total: usize,
    running_per_profile: &HashMap<String, usize>,
    global_limit: usize,
) -> Picked {
    candidates.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.task_id.cmp(&b.task_id)));
    let mut total = running_total;
    let mut per_profile = running_per_profile.clone();
    let mut picked = Picked::default();
    for c in candidates {
        if total >= global_limit {
            picked.wait.push((c.task_id, Wait::GlobalLimit { running: total, limit: global_limit }));
            continue;
        }
        let n = per_profile.entry(c.profile.clone()).or_insert(0);
        if let Some(limit) = c.profile_limit
            && *n >= limit as usize
        {
            picked.wait.push((c.task_id, Wait::ProfileLimit { profile: c.profile.clone(), running: *n, limit }));
            continue;
        }
        *n += 1;
        total += 1;
        picked.start.push(c);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Runtime;

    fn profile(name: &str, tags: &[&str]) -> AgentProfile {
        let mut p = AgentProfile::new(name, Runtime::Command { command: vec!["true".into()], interactive: false });
        p.tags = tags.iter().map(|t| t.to_string()).collect();
        p
    }

    fn cand(id: TaskId, priority: i64, profile: &str, limit: Option<u32>) -> Candidate {
        Candidate { task_id: id, priority, profile: profile.into(), profile_limit: limit }
    }

    #[test]
    fn routing() {
        let ps = vec![profile("writer", &["docs"]), profile("coder", &["backend"])];
        assert_eq!(route(Some("writer"), &[], &ps, "x").unwrap().name, "writer");
        assert_eq!(route(None, &["backend".into()], &ps, "x").unwrap().name, "coder");
        let err = route(Some("ghost"), &[], &ps, "/r/.bosun/agents").unwrap_err();
        assert_eq!(err.to_string(), "unknown agent `ghost`: no profile of that name in /r/.bosun/agents");
        assert!(matches!(route(None, &[], &ps, "x"), Err(RouteError::NoMatch { .. })));
        let one = vec![profile("solo", &[])];
        assert_eq!(route(None, &[], &one, "x").unwrap().name, "solo");
    }

    #[test]
    fn built_in_profiles_are_taken_by_name_or_when_there_is_no_other() {
        let codex = AgentProfile::built_in("codex", Runtime::Codex);
        let claude = AgentProfile::built_in("claude", Runtime::ClaudeCode);
        let solo = profile("solo", &[]);
        let ps = vec![solo.clone(), claude.clone(), codex.clone()];
        assert_eq!(route(None, &[], &ps, "x").unwrap().name, "solo", "a user's only profile still takes untagged work");
        assert_eq!(route(Some("codex"), &[], &ps, "x").unwrap().name, "codex");
        let none = vec![claude, codex];
        assert_eq!(route(None, &[], &none, "x").unwrap().name, "claude", "zero configuration: the first installed CLI");
        assert!(route(None, &[], &[], "x").is_err());
    }

    #[test]
    fn limits_and_order() {
        let cands = vec![cand(1, 0, "a", Some(2)), cand(2, 0, "a", Some(2)), cand(3, 5, "a", Some(2)), cand(4, 0, "b", None)];
        let ids = |p: &Picked| p.start.iter().map(|c| c.task_id).collect::<Vec<_>>();
        let p = pick(cands.clone(), 0, &HashMap::new(), 10);
        assert_eq!(ids(&p), vec![3, 1, 4], "priority first, then age; profile a capped at 2");
        assert_eq!(p.wait, vec![(2, Wait::ProfileLimit { profile: "a".into(), running: 2, limit: 2 })]);
        let running = HashMap::from([("a".to_string(), 2)]);
        assert_eq!(ids(&pick(cands.clone(), 2, &running, 10)), vec![4], "a full profile does not block others");
        let p = pick(cands, 9, &HashMap::new(), 10);
        assert_eq!(ids(&p), vec![3], "global limit");
        let global = Wait::GlobalLimit { running: 10, limit: 10 };
        assert_eq!(p.wait, vec![(1, global.clone()), (2, global.clone()), (4, global)]);
    }

    #[test]
    fn waits_say_why() {
        let w = |on: Wait| Waiting::from(on).text;
        assert_eq!(w(Wait::ProfileLimit { profile: "claude".into(), running: 3, limit: 3 }), "claude 3/3 running");
        assert_eq!(w(Wait::Dependency { task: 4, status: TaskStatus::NeedsInput }), "after T-4, which is waiting for input");
        assert_eq!(w(Wait::GlobalLimit { running: 8, limit: 8 }), "global limit: 8/8 running");
        let json = serde_json::to_value(Waiting::from(Wait::Dependency { task: 4, status: TaskStatus::Review })).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "dependency", "task": 4, "status": "review", "text": "after T-4, which is in review"}));
        assert_eq!(serde_json::from_value::<Waiting>(json).unwrap().on, Wait::Dependency { task: 4, status: TaskStatus::Review });
    }
}
