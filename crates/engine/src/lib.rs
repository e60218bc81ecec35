//! bosun's engine: the dispatcher, run supervision, the event log writer, workspaces,
//! crash recovery, and one function per domain operation ([`ops`]). It knows nothing
//! of HTTP: the server, and later connectors, the MCP server and worker nodes, call
//! the same operations.
//!
//! # Theory of operation
//!
//! Everything that can make work happen is a [`trigger::Trigger`] sent to one
//! dispatcher task: a task was queued, a run ended, a task was retried. On each
//! trigger the dispatcher reads the queued tasks from the store, routes each to an
//! agent profile, asks [`bosun_core::schedule::pick`] which may start under the
//! global and per-profile limits, and starts those. There is no polling loop.
//!
//! Starting a run is a sequence of persisted steps: the store moves the task to
//! `running` and creates the run in `starting` (one transaction), the workspace is
//! recorded then created, the process is spawned and its pid recorded. A
//! [`supervisor`] task per run then owns the process: it forwards every output line
//! to the event writer, obeys stop requests, and when the process is gone commits
//! what the agent left uncommitted, writes the final status event, and only then
//! finishes the run in the store.
//!
//! Events flow through one writer task ([`hub`]): it stores events in batches (the
//! store numbers them) and only after they are stored broadcasts them to
//! subscribers. A subscriber replays from the store and then follows the broadcast,
//! de-duplicating by sequence number, so it never misses an event.
//!
//! On start, runs the store still holds as live belong to a daemon that died: they
//! become `interrupted`, and leftover processes are found by their run token and
//! killed ([`recovery`]). On shutdown every live run's process group is terminated
//! and its task marked `interrupted`, so nothing is orphaned.
//!
//! # Layers
//!
//! `config`, `error`, `trigger`, `hub` and `repo_config` sit at the bottom, `state`
//! (the [`Engine`]) on them; `profiles` (then `routing` on it), `workspace`, `cleanup`, `forge` and `detect`
//! use those (and `repo_config`); `pool` uses `workspace`; `supervisor`, `dispatch` and `recovery` use those; [`ops`] uses all of
//! them; `lifecycle` (start and shutdown) wires them together. No module imports one
//! above it.

mod cleanup;
pub mod config;
mod crash;
mod deliverables;
mod detect;
mod dispatch;
mod error;
mod forge;
mod hub;
mod lifecycle;
pub mod ops;
mod pool;
mod profiles;
mod recovery;
mod repo_config;
mod routing;
pub mod secret;
mod sender;
mod sources;
mod state;
mod supervisor;
mod trigger;
mod watch;
mod workspace;

pub use config::Config;
pub use detect::detect;
pub use error::{OpError, StartError};
pub use lifecycle::Running;
pub use ops::act::{ActError, ActView};
pub use ops::webhook::{HookAnswer, HookRefusal};
pub use state::{Engine, until_closing};
