//! Finding and killing an agent's leftover processes after a daemon crash.
//!
//! A crashed daemon cannot signal its children's process groups any more, and a
//! stored pid may by now belong to someone else. What identifies our processes for
//! sure is the `BOSUN_RUN_TOKEN=<token>` entry in their environment, which every
//! descendant inherits. This scans `/proc` for it.

use std::path::Path;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Pids of live processes whose environment holds `BOSUN_RUN_TOKEN=<token>` for one
/// of `tokens`.
pub fn find(tokens: &[String]) -> Vec<(u32, String)> {
    find_in(Path::new("/proc"), tokens)
}

fn find_in(proc_dir: &Path, tokens: &[String]) -> Vec<(u32, String)> {
    if tokens.is_empty() {
        return Vec::new();
    }
    let needles: Vec<Vec<u8>> = tokens.iter().map(|t| format!("BOSUN_RUN_TOKEN={t}").into_bytes()).collect();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(proc_dir) else { return found };
    let me = std::process::id();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        for var in environ.split(|&b| b == 0) {
            if let Some(i) = needles.iter().position(|n| n.as_slice() == var) {
                found.push((pid, tokens[i].clone()));
                break;
            }
        }
    }
    found
}

/// Kills (SIGKILL) every process carrying one of `tokens`. Returns how many.
pub fn kill_all(tokens: &[String]) -> usize {
    let found = find(tokens);
    for (pid, token) in &found {
        tracing::warn!(pid, token, "killing a leftover agent process");
        let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
    }
    found.len()
}
