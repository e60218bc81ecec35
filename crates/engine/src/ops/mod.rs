//! The domain operations, one file each, as methods on [`Engine`](crate::Engine):
//! what a user (through the HTTP API, a connector or an agent) can ask bosun to do.
//! Each checks the request against the task's state, acts, publishes what changed,
//! and answers with a wire type of `bosun-api` or a typed [`OpError`](crate::OpError).

mod after;
mod agents;
mod answer;
mod archive;
mod create;
mod diff;
mod discard;
mod gc;
mod interrupt;
mod loss;
mod merge;
pub(crate) mod pr;
mod rebase;
mod reply;
mod repos;
mod retry;
mod rm;
mod rules;
mod say;
mod stop;

/// Longest message a human may send an agent (`say`, `reply`).
const MAX_TEXT: usize = 64 * 1024;

fn check_text(text: &str) -> Result<(), crate::OpError> {
    if text.trim().is_empty() || text.len() > MAX_TEXT {
        return Err(crate::OpError::Invalid("text must be between 1 byte and 64 KiB".into()));
    }
    Ok(())
}
