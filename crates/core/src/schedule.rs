//! The dispatcher's decisions, without the dispatching: which profile a task goes to,
//! and which queued tasks may start now given the concurrency limits.

use std::collections::HashMap;

use crate::profile::AgentProfile;
use crate::task::TaskId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown agent `{name}`: no profile of that name in {searched}")]
    UnknownAgent { name: String, searched: String },
    #[error("no agent profile matches this task (tags: {tags}); name one with --agent (profiles: {known})")]
    NoMatch { tags: String, known: String },
}

/// Picks the profile for a task: the one it names, else the first profile (by name)
/// sharing a tag with it, else the only profile there is.
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
    let mut sorted: Vec<&AgentProfile> = profiles.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(p) = sorted.iter().find(|p| p.tags.iter().any(|t| tags.contains(t))) {
        return Ok(p);
    }
    if let [only] = sorted.as_slice() {
        return Ok(only);
    }
    let known: Vec<&str> = sorted.iter().map(|p| p.name.as_str()).collect();
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

/// Which candidates start now: highest priority first, then oldest; never more than
/// `global_limit` runs in all, nor more than a profile's limit for that profile. A
/// task whose profile is full does not hold back tasks of other profiles.
pub fn pick(
    mut candidates: Vec<Candidate>,
    running_total: usize,
    running_per_profile: &HashMap<String, usize>,
    global_limit: usize,
) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.task_id.cmp(&b.task_id)));
    let mut total = running_total;
    let mut per_profile = running_per_profile.clone();
    let mut chosen = Vec::new();
    for c in candidates {
        if total >= global_limit {
            break;
        }
        let n = per_profile.entry(c.profile.clone()).or_insert(0);
        if let Some(limit) = c.profile_limit
            && *n >= limit as usize
        {
            continue;
        }
        *n += 1;
        total += 1;
        chosen.push(c);
    }
    chosen
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
    fn limits_and_order() {
        let cands = vec![cand(1, 0, "a", Some(2)), cand(2, 0, "a", Some(2)), cand(3, 5, "a", Some(2)), cand(4, 0, "b", None)];
        let got: Vec<TaskId> = pick(cands.clone(), 0, &HashMap::new(), 10).iter().map(|c| c.task_id).collect();
        assert_eq!(got, vec![3, 1, 4], "priority first, then age; profile a capped at 2");
        let running = HashMap::from([("a".to_string(), 2)]);
        let got: Vec<TaskId> = pick(cands.clone(), 2, &running, 10).iter().map(|c| c.task_id).collect();
        assert_eq!(got, vec![4], "a full profile does not block others");
        let got: Vec<TaskId> = pick(cands, 9, &HashMap::new(), 10).iter().map(|c| c.task_id).collect();
        assert_eq!(got, vec![3], "global limit");
    }
}
