//! Watching the user's configuration directory (inotify): a change to `routing.toml`
//! or to a profile in `agents/` wakes the dispatcher, which reads rules, budgets and
//! profiles at every look. So an edit counts at once, without polling: a budget raised
//! in routing.toml starts the tasks it blocked. (A repo's `.bosun/` is read at every
//! look too, but only watched through the tasks that change.)

use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::io::unix::AsyncFd;

use crate::Engine;
use crate::state::until_closing;
use crate::trigger::Trigger;

/// The inotify instance, for tokio's readiness (it wants `AsRawFd`).
struct Watch(Inotify);

impl AsRawFd for Watch {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Whether a changed name in the config dir (or in `agents/`) is one bosun reads.
fn matters(name: Option<&OsStr>) -> bool {
    let Some(name) = name.and_then(OsStr::to_str) else { return true };
    name == "routing.toml" || name == "agents" || name.ends_with(".md")
}

/// Runs until the engine closes; a config dir that cannot be watched is logged once
/// (then an edit counts at the dispatcher's next look).
pub async fn config(engine: Arc<Engine>) {
    let dir = engine.config.config_dir.clone();
    let flags = AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE;
    let inotify = match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
        Ok(i) => i,
        Err(e) => return tracing::warn!("cannot watch {} for changes: {e}", dir.display()),
    };
    if let Err(e) = inotify.add_watch(&dir, flags) {
        return tracing::warn!("cannot watch {} for changes: {e}", dir.display());
    }
    let agents = engine.config.user_agents_dir();
    let mut watching_agents = inotify.add_watch(&agents, flags).is_ok();
    // SAFETY: `Watch` owns the inotify descriptor, open until the AsyncFd drops it, and
    // always answers that same descriptor.
    let fd = match unsafe { AsyncFd::register(Watch(inotify)) } {
        Ok(fd) => fd,
        Err(e) => return tracing::warn!("cannot watch {} for changes: {e}", dir.display()),
    };
    let mut closing = engine.closing();
    loop {
        // It holds the engine: it lets go of it when the engine closes (shutdown waits
        // for every handle on the hub).
        let ready = tokio::select! {
            ready = fd.readable() => ready,
            _ = until_closing(&mut closing) => return,
        };
        let Ok(mut ready) = ready else { return };
        let events = match ready.try_io(|w| w.get_ref().0.read_events().map_err(std::io::Error::from)) {
            Ok(Ok(events)) => events,
            Ok(Err(e)) => return tracing::warn!("stopped watching {}: {e}", dir.display()),
            Err(_would_block) => continue,
        };
        if !watching_agents && events.iter().any(|e| e.name.as_deref() == Some(OsStr::new("agents"))) {
            watching_agents = fd.get_ref().0.add_watch(&agents, flags).is_ok();
        }
        if events.iter().any(|e| matters(e.name.as_deref())) {
            tracing::debug!("configuration changed: looking at the queue again");
            engine.trigger(Trigger::ConfigChanged);
        }
    }
}
