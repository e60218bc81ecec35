//! Test-only crash points. With `BOSUN_TEST_CRASH_AT=<point>` in its environment, the
//! daemon SIGKILLs itself the first time it reaches `<point>`: how the kill -9 matrix
//! (`crates/cli/tests/e2e/matrix.rs`) cuts in at an exact window instead of hoping a
//! timed kill lands in it. Not for users; unset, a point costs one comparison. The
//! points: `run-stored` (the run row exists, no workspace yet), `workspace-made` (no
//! agent yet), `agent-spawned` (its pid not yet recorded), `run-final-event` (stored,
//! the run's end not yet), `merge-base-moved` (the task not yet done),
//! `delivery-claimed` (not yet sent), `delivery-accepted` (not yet marked sent),
//! `pool-claimed` (a task's claim of a pool worktree stored, nothing done in git),
//! `pool-branched` (its branch made, not yet moved into place), `pool-made` (a refill's
//! checkout made, its entry not yet ready).

use std::sync::OnceLock;

/// The variable that names the point to die at.
const VAR: &str = "BOSUN_TEST_CRASH_AT";

/// Dies here (SIGKILL, as `kill -9` would) if `name` is the point the test named.
pub(crate) fn point(name: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    if AT.get_or_init(|| std::env::var(VAR).ok()).as_deref() == Some(name) {
        tracing::warn!("{VAR}={name}: the daemon kills itself here (a test's crash point)");
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
