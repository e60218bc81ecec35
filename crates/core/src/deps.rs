//! Task dependencies (`bosun add --after 12`): whether a task may start, must wait,
//! or is blocked by a dependency that went wrong, and refusing cycles.

use std::collections::{HashMap, HashSet};

use crate::task::{TaskId, TaskStatus};

/// What a task's dependencies allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepState {
    /// Every dependency is done (or there are none).
    Ready,
    /// A dependency is still on its way (queued, running, in review): the first one.
    Waiting { on: TaskId, status: TaskStatus },
    /// A dependency failed, was stopped, interrupted or discarded, or is itself blocked.
    Blocked { by: TaskId, status: TaskStatus },
}

impl DepState {
    /// The reason stored on a blocked task.
    pub fn reason(&self) -> Option<String> {
        match self {
            DepState::Blocked { by, status } => Some(format!("dependency T-{by} is {}", status.in_words())),
            _ => None,
        }
    }
}

/// Evaluates a task's dependencies from their current statuses.
pub fn dep_state(deps: &[(TaskId, TaskStatus)]) -> DepState {
    let mut waiting = None;
    for &(id, status) in deps {
        match status {
            TaskStatus::Done => {}
            TaskStatus::Failed | TaskStatus::Stopped | TaskStatus::Interrupted | TaskStatus::Blocked | TaskStatus::Discarded => {
                return DepState::Blocked { by: id, status };
            }
            TaskStatus::Queued | TaskStatus::Triage | TaskStatus::Running | TaskStatus::NeedsInput | TaskStatus::Review => {
                waiting = waiting.or(Some(DepState::Waiting { on: id, status }))
            }
        }
    }
    waiting.unwrap_or(DepState::Ready)
}

/// If making `task` depend on `deps` would close a cycle in `edges` (task -> its
/// dependencies), returns it as a path starting and ending with `task`.
pub fn find_cycle(task: TaskId, deps: &[TaskId], edges: &HashMap<TaskId, Vec<TaskId>>) -> Option<Vec<TaskId>> {
    for &start in deps {
        let mut path = vec![task];
        let mut seen = HashSet::new();
        if walk(start, task, edges, &mut path, &mut seen) {
            return Some(path);
        }
    }
    None
}

fn walk(node: TaskId, target: TaskId, edges: &HashMap<TaskId, Vec<TaskId>>, path: &mut Vec<TaskId>, seen: &mut HashSet<TaskId>) -> bool {
    path.push(node);
    if node == target {
        return true;
    }
    if seen.insert(node) {
        for &next in edges.get(&node).map(Vec::as_slice).unwrap_or_default() {
            if walk(next, target, edges, path, seen) {
                return true;
            }
        }
    }
    path.pop();
    false
}

/// Renders a cycle for an error message: `T-3 -> T-1 -> T-2 -> T-3`.
pub fn describe_cycle(cycle: &[TaskId]) -> String {
    cycle.iter().map(|id| format!("T-{id}")).collect::<Vec<_>>().join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskStatus as S;

    #[test]
    fn states() {
        assert_eq!(dep_state(&[]), DepState::Ready);
        assert_eq!(dep_state(&[(1, S::Done), (2, S::Done)]), DepState::Ready);
        assert_eq!(dep_state(&[(1, S::Done), (2, S::Review), (3, S::Running)]), DepState::Waiting { on: 2, status: S::Review });
        let blocked = dep_state(&[(1, S::Running), (2, S::Failed)]);
        assert_eq!(blocked, DepState::Blocked { by: 2, status: S::Failed });
        assert_eq!(blocked.reason().unwrap(), "dependency T-2 is failed");
        assert!(matches!(dep_state(&[(4, S::Blocked)]), DepState::Blocked { by: 4, .. }));
    }

    #[test]
    fn cycles() {
        // 2 depends on 1, 3 depends on 2.
        let edges = HashMap::from([(2, vec![1]), (3, vec![2])]);
        assert_eq!(find_cycle(4, &[3], &edges), None);
        assert_eq!(find_cycle(1, &[3], &edges), Some(vec![1, 3, 2, 1]));
        assert_eq!(describe_cycle(&[1, 3, 2, 1]), "T-1 -> T-3 -> T-2 -> T-1");
        assert_eq!(find_cycle(5, &[5], &edges), Some(vec![5, 5]), "a task cannot depend on itself");
    }
}
