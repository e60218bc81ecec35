//! What the engine's operations answer when they refuse or fail ([`OpError`]), and
//! why the engine could not start ([`StartError`]). Each variant says who is at
//! fault, so a caller (the HTTP server, a connector) can map it without reading the
//! message: the input, the task's state, a service bosun depends on, or bosun itself.

use std::path::PathBuf;

use bosun_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// No such task (or approval, ...).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is wrong (a bad name, an unknown strategy, a cycle).
    #[error("{0}")]
    Invalid(String),
    /// The request is valid, but the task's (or the repo's) state refuses it.
    #[error("{0}")]
    Refused(String),
    /// A service bosun depends on (GitHub) failed or could not be reached; the
    /// message names it.
    #[error("{message}")]
    Unavailable { service: &'static str, message: String },
    /// The disk holding bosun's data is full: nothing was done, and the same request
    /// works once space is freed.
    #[error("{0}")]
    StorageFull(String),
    /// bosun's own failure (the store); the detail is for the log, not the user.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TaskNotFound(_)
            | StoreError::RunNotFound(_)
            | StoreError::ApprovalNotFound(_)
            | StoreError::RuleNotFound(_)
            | StoreError::ChannelNotFound(_)
            | StoreError::SourceNotFound(_) => OpError::NotFound(e.to_string()),
            StoreError::CredentialNotFound(id) => OpError::NotFound(format!("no token or device with id {id} (see `bosun devices`)")),
            StoreError::DuplicateName(name) => {
                OpError::Refused(format!("a token named `{name}` already exists; choose another name or revoke it first"))
            }
            StoreError::StatusChanged { .. }
            | StoreError::Transition(_)
            | StoreError::AlreadyAnswered { .. }
            | StoreError::OverBudget(_) => OpError::Refused(e.to_string()),
            StoreError::Full => OpError::StorageFull(e.to_string()),
            StoreError::Backend(_) | StoreError::Corrupt(_) | StoreError::Damaged(_) => OpError::Internal(e.to_string()),
        }
    }
}

impl From<bosun_core::TransitionError> for OpError {
    fn from(e: bosun_core::TransitionError) -> Self {
        OpError::Refused(e.to_string())
    }
}

/// Git refused or failed on the user's repo: its state is why (a vanished repo, a
/// branch that is gone, a lock another git holds).
impl From<bosun_git::GitError> for OpError {
    fn from(e: bosun_git::GitError) -> Self {
        OpError::Refused(e.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create {}: {source}", path.display())]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("another bosun daemon ({holder}) is using {}", data_dir.display())]
    Locked { data_dir: PathBuf, holder: String },
    #[error("{}: {message}", path.display())]
    Prices { path: PathBuf, message: String },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the database {} is damaged ({problem}{}); bosun will not run on it. Keep a copy of it, then try `sqlite3 bosun.db .recover | sqlite3 recovered.db` and put recovered.db in its place",
        path.display(),
        if *more > 0 { format!(", and {more} more problems") } else { String::new() }
    )]
    Damaged { path: PathBuf, problem: String, more: usize },
}
