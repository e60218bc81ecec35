//! The domain operations, one file each, as methods on [`Engine`](crate::Engine):
//! what a user (through the HTTP API, a connector or an agent) can ask bosun to do.
//! Each checks the request against the task's state, acts, publishes what changed,
//! and answers with a wire type of `bosun-api` or a typed [`OpError`](crate::OpError).

mod accept;
pub mod act;
mod after;
mod agents;
mod answer;
mod archive;
mod auth;
mod budget_raise;
mod cost;
mod create;
mod deliverables;
mod delivered_diff;
pub use deliverables::DeliverableContent;
mod devices;
mod diff;
mod discard;
mod edit;
mod files;
mod gc;
mod interrupt;
mod loss;
mod merge;
mod notify_channels;
mod notify_test;
pub mod pairing;
pub(crate) mod pr;
mod push;
pub(crate) use push::{load_or_create_link_key, load_or_create_vapid};
mod rebase;
mod reply;
mod repos;
mod retry;
mod rm;
mod route;
mod rules;
mod say;
mod sources;
mod stop;
mod tokens;
pub mod webhook;

/// The door of every verb that starts a run in an existing worktree (`reply`, `retry`,
/// `say` continuing a task): no agent starts where a rebase or merge stopped half-way —
/// it would work on conflict markers and commit them on a detached HEAD — unless it is
/// asked to resolve them (`resolve`, `reply --resolve`), which needs something to resolve.
async fn check_worktree(task: &bosun_core::Task, resolve: bool) -> Result<(), crate::OpError> {
    use crate::OpError::Refused;
    let id = task.id;
    let dir = task.worktree.as_deref().map(std::path::Path::new);
    let left = match dir {
        Some(dir) => crate::workspace::unfinished(task, dir).await?,
        None => None,
    };
    match (left, resolve) {
        (None, true) => Err(Refused(format!("T-{id}'s worktree has no conflicts to resolve; reply without --resolve"))),
        (Some(left), false) => {
            let wt = dir.map(|d| d.display().to_string()).unwrap_or_default();
            let reply = task.status.apply(bosun_core::TaskEvent::Reopened).is_ok();
            let or = if reply { format!(", or `bosun reply {id} --resolve \"...\"` to have the agent do it") } else { String::new() };
            Err(Refused(format!(
                "T-{id}'s worktree {wt} is {}: no agent runs in it until that is done; {}{or}",
                left.describe(),
                left.how_to_finish()
            )))
        }
        _ => Ok(()),
    }
}

/// Longest message a human may send an agent (`say`, `reply`).
const MAX_TEXT: usize = 64 * 1024;

fn check_text(text: &str) -> Result<(), crate::OpError> {
    if text.trim().is_empty() || text.len() > MAX_TEXT {
        return Err(crate::OpError::Invalid("text must be between 1 byte and 64 KiB".into()));
    }
    Ok(())
}
