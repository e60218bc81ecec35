//! Tasks as last read, with their JSON, so that listing many tasks costs a filter
//! and a concatenation instead of re-reading and re-encoding every row (10,000 tasks:
//! ~120 ms through sqlx, a few ms from here). [`crate::CachedStore`] keeps it.
//!
//! Valid because every write of the store it caches reports the tasks it touched
//! ([`crate::Change`]), and the cache drops those entries before it answers. A drop
//! is stamped with an epoch, so a refresh that raced with a write never keeps the
//! older copy: it only fills entries dropped before the refresh began.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bosun_core::Task;
use bosun_core::task::TaskId;

use crate::TaskFilter;

#[derive(Default)]
pub struct TaskCache {
    /// A std mutex: held to look up, insert or drop entries, never across an await.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// False until a full load; until then everything is read from the database.
    loaded: bool,
    epoch: u64,
    tasks: BTreeMap<TaskId, (Arc<Task>, Arc<str>)>,
    /// Tasks whose entry was dropped (or that are new), with the epoch of the drop.
    stale: HashMap<TaskId, u64>,
}

/// What a refresh has to read.
pub enum Need {
    Nothing,
    Everything { epoch: u64 },
    These { ids: Vec<TaskId>, epoch: u64 },
}

impl TaskCache {
    pub fn invalidate(&self, id: TaskId) {
        let mut s = self.state.lock().unwrap();
        s.epoch += 1;
        let epoch = s.epoch;
        s.tasks.remove(&id);
        s.stale.insert(id, epoch);
    }

    pub fn invalidate_all(&self) {
        let mut s = self.state.lock().unwrap();
        *s = State { epoch: s.epoch + 1, ..State::default() };
    }

    pub fn need(&self) -> Need {
        let s = self.state.lock().unwrap();
        if !s.loaded {
            Need::Everything { epoch: s.epoch }
        } else if s.stale.is_empty() {
            Need::Nothing
        } else {
            Need::These { ids: s.stale.keys().copied().collect(), epoch: s.epoch }
        }
    }

    /// Stores what a refresh that began at `epoch` read (`ids` were asked for; absent
    /// from `tasks` means gone). Entries dropped since `epoch` stay stale.
    pub fn fill(&self, epoch: u64, full: bool, ids: &[TaskId], tasks: Vec<Task>) {
        let mut s = self.state.lock().unwrap();
        if full {
            if s.epoch != epoch {
                return; // written to while loading: try again next time
            }
            s.loaded = true;
        }
        for task in tasks {
            if s.stale.get(&task.id).is_some_and(|e| *e > epoch) {
                continue;
            }
            s.stale.remove(&task.id);
            let json: Arc<str> = serde_json::to_string(&task).expect("tasks serialize").into();
            s.tasks.insert(task.id, (Arc::new(task), json));
        }
        for id in ids {
            if s.stale.get(id).is_some_and(|e| *e <= epoch) {
                s.stale.remove(id);
            }
        }
    }

    /// The JSON array of the tasks `filter` selects, if the cache is complete.
    pub fn list_json(&self, filter: &TaskFilter) -> Option<String> {
        let s = self.state.lock().unwrap();
        if !s.loaded || !s.stale.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(s.tasks.len() * 600 + 2);
        out.push('[');
        let start = filter.after_id.map(|a| a + 1).unwrap_or(TaskId::MIN);
        let limit = filter.limit.map(|l| l.max(0) as usize).unwrap_or(usize::MAX);
        let mut n = 0;
        for (task, json) in s.tasks.range(start..).map(|(_, v)| v) {
            if n >= limit {
                break;
            }
            if !matches(task, filter) {
                continue;
            }
            if n > 0 {
                out.push(',');
            }
            out.push_str(json);
            n += 1;
        }
        out.push(']');
        Some(out)
    }
}

fn matches(task: &Task, f: &TaskFilter) -> bool {
    (f.statuses.is_empty() || f.statuses.contains(&task.status))
        && f.repo.as_ref().is_none_or(|r| task.repo.as_ref() == Some(r))
        && f.agent.as_ref().is_none_or(|a| task.agent.as_ref() == Some(a))
        && f.tag.as_ref().is_none_or(|t| task.tags.contains(t))
        && f.archived.is_none_or(|a| task.archived_at.is_some() == a)
}
