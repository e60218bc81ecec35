//! bosun's pure domain: the vocabulary every other crate speaks.
//!
//! Tasks, runs, normalized events, agent profiles, the task state machine, branch
//! slugs and the scheduling decision live here. Nothing in this crate performs I/O:
//! no files, no processes, no clock (callers pass `now`), no async runtime. That keeps
//! every rule of the product testable with plain unit tests and shared verbatim by
//! the daemon, the store and the CLI.

pub mod approval;
pub mod auth;
pub mod budget;
pub mod deliverable;
pub mod deps;
pub mod event;
pub mod notify;
pub mod policy;
pub mod pricing;
pub mod profile;
pub mod repo_config;
pub mod review;
pub mod route;
pub mod schedule;
pub mod slug;
pub mod source;
pub mod task;
pub mod usage;

/// "1 commit", "2 commits": `n` and `noun`, plural when `n` is not 1 (regular nouns).
pub fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

pub use approval::{Approval, ApprovalStatus, NewApproval};
pub use event::{Event, EventKind, FileChangeKind, NewEvent, OutputStream, Source, ToolKind};
pub use profile::{AgentProfile, ApiProvider, ApiRuntime, Permissions, ProfileError, Runtime};
pub use task::{NewTask, PrState, PullRequest, Run, RunStatus, Task, TaskEvent, TaskId, TaskStatus, TransitionError, Usage};
