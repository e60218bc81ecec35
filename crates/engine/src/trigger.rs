//! Everything that can make the dispatcher look at the queue, in one closed enum.

use bosun_core::task::TaskId;

#[derive(Debug)]
pub enum Trigger {
    Startup,
    /// A task was created or changed status: it, and the tasks that depend on it,
    /// may now be ready, waiting or blocked.
    TaskChanged(TaskId),
    /// A run ended: its slot is free.
    RunFinished(TaskId),
    /// The user's routing rules, budgets or profiles changed on disk.
    ConfigChanged,
    Shutdown,
}
