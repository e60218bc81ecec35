//! One file per CLI verb: its clap `Args` (whose doc comments are the help) and its
//! `run` function.

pub mod add;
pub mod after;
pub mod agents;
pub mod approvals;
pub mod archive;
pub mod diff;
pub mod discard;
pub mod gc;
pub mod hold;
pub mod interrupt;
pub mod logs;
pub mod ls;
pub mod merge;
pub mod notify;
pub mod pr;
pub mod rebase;
pub mod reply;
pub mod repos;
pub mod retry;
pub mod rm;
pub mod rules;
pub mod say;
pub mod serve;
pub mod show;
pub mod stop;
