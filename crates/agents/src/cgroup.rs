//! Each run in a cgroup of its own (cgroup v2), when the daemon may make them: killing
//! the cgroup ends every process of the run, even one that left the agent's process
//! group (`setsid`) *and* cleared its environment (`env -i`), which neither the group
//! nor the run's token can find.
//!
//! Where: under the daemon's own cgroup (`/proc/self/cgroup`, on the cgroup2 mount
//! `/proc/self/mountinfo` names), which must let us make children and move processes
//! into them: the daemon runs as root, or in a cgroup delegated to its user
//! (`systemd-run --user --scope -p Delegate=yes`). [`probe`] finds out at start-up.
//! The cgroup belongs to the run, not to the daemon: the holder starts the agent in it
//! (`clone3(CLONE_INTO_CGROUP)`, see [`crate::clone_into`]; where the kernel refuses
//! that, the agent moves itself in between `fork` and `exec`), so nothing the agent
//! starts can be outside it; the
//! holder itself stays out (it outlives its agent to tell the exit), and the path is
//! kept beside the run's spool so that a later daemon, in whatever cgroup it runs,
//! finds it. [`kill`] writes `cgroup.kill` (Linux 5.14+) or, before that, freezes the
//! cgroup and SIGKILLs each of its processes, then removes the emptied cgroup.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill as kill_pid};
use nix::unistd::Pid;

/// How often [`kill`] looks whether the cgroup has emptied (bounded by its wait).
const EMPTY_POLL: Duration = Duration::from_millis(10);
/// How long a killed cgroup may take to empty (SIGKILL cannot be ignored: it takes
/// milliseconds; this only bounds the wait).
pub(crate) const EMPTY_WAIT: Duration = Duration::from_secs(5);

/// Where run cgroups can go, as [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroups {
    /// The daemon's own cgroup directory: run cgroups are made in it.
    pub base: PathBuf,
    /// The kernel has `cgroup.kill`; otherwise a kill freezes, then signals each process.
    pub kill_file: bool,
}

impl Cgroups {
    /// One line for the log: which mechanism holds.
    pub fn describe(&self) -> String {
        let how = if self.kill_file { "cgroup.kill" } else { "freezing it and SIGKILLing each process" };
        format!("each run gets a cgroup of its own under {}; ending a run kills its cgroup ({how})", self.base.display())
    }
}

/// Whether this process may put runs in cgroups of their own, and where; or why not
/// (one line, for the log).
pub fn probe() -> Result<Cgroups, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    let (mount_root, mount_point) = cgroup2_mount(&mountinfo).ok_or("no cgroup2 file system is mounted")?;
    let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::")).ok_or("this process is in no cgroup v2 (cgroup v1 only)")?;
    let relative =
        Path::new(path).strip_prefix(&mount_root).map_err(|_| format!("this process's cgroup {path} is outside the cgroup2 mount"))?;
    let base = mount_point.join(relative);
    let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").map_err(|e| e.to_string())?);
    let refused = |what: &str, e: std::io::Error| {
        let who = if uid == 0 { "root".to_string() } else { format!("uid {uid}, and the cgroup is not delegated to it") };
        format!("cannot {what} {} ({who}): {e}", base.display())
    };
    // Moving a process needs write access to the cgroup both sides have in common.
    std::fs::OpenOptions::new().write(true).open(base.join("cgroup.procs")).map_err(|e| refused("move processes out of", e))?;
    let probe = base.join(format!("bosun-probe-{}", std::process::id()));
    std::fs::create_dir(&probe)
        .or_else(|e| if e.kind() == std::io::ErrorKind::AlreadyExists { Ok(()) } else { Err(e) })
        .map_err(|e| refused("make a cgroup in", e))?;
    let usable = probe.join("cgroup.procs").exists();
    let kill_file = probe.join("cgroup.kill").exists();
    let _ = std::fs::remove_dir(&probe);
    if !usable {
        return Err(format!("{} is not a cgroup v2 directory", base.display()));
    }
    Ok(Cgroups { base, kill_file })
}

/// The root and mount point of the cgroup2 mount in `mountinfo` (proc(5): fields
/// separated by spaces, optional fields up to `-`, then the file system type).
fn cgroup2_mount(mountinfo: &str) -> Option<(PathBuf, PathBuf)> {
    mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        if fs.split(' ').next() != Some("cgroup2") {
            return None;
        }
        let fields: Vec<&str> = mount.split(' ').collect();
        Some((PathBuf::from(unescape(fields.get(3)?)), PathBuf::from(unescape(fields.get(4)?))))
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space, and tab, newline, backslash).
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 4).and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(c) => {
                out.push(char::from(c));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A run's cgroup, made and opened: its directory (to start the agent in, see
/// [`crate::clone_into`]) and its `cgroup.procs` for writing (writing `0` there moves
/// the writer in, see [`enter_on_exec`]).
pub(crate) struct Opened {
    pub dir: OwnedFd,
    pub procs: OwnedFd,
}

/// Makes the run's cgroup `dir` (it may exist already) and opens it.
pub(crate) fn create(dir: &Path) -> std::io::Result<Opened> {
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let procs = std::fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs"))?.into();
    Ok(Opened { dir: std::fs::File::open(dir)?.into(), procs })
}

/// Has `cmd`'s process move itself into the cgroup whose `cgroup.procs` is `procs`
/// between `fork` and `exec`: the agent and everything it starts are in it from their
/// first instruction. A move the kernel refuses does not stop the agent (see
/// [`contains`]: the holder says so; the group and the token remain).
pub(crate) fn enter_on_exec(cmd: &mut std::process::Command, procs: OwnedFd) {
    // SAFETY: the closure only calls write(2) on a descriptor opened before the fork
    // (async-signal-safe, no allocation); it runs in the child alone.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, move || {
            let _ = nix::unistd::write(&procs, b"0");
            Ok(())
        });
    }
}

/// Whether the process `pid` is in the cgroup `dir`.
pub(crate) fn contains(dir: &Path, pid: u32) -> bool {
    pids(dir).contains(&(pid as i32))
}

/// Kills every process in the cgroup `dir` (and in cgroups an agent made below it),
/// waits (at most `wait`) until it is empty, then removes it. Returns how many
/// processes it held. A cgroup that is not there (already removed, never made) is
/// nothing to do. Blocking.
pub fn kill(dir: &Path, wait: Duration) -> usize {
    if !dir.join("cgroup.procs").exists() {
        return 0;
    }
    let held = pids(dir).len();
    let deadline = Instant::now() + wait;
    let by_kernel = populated(dir) && write(dir, "cgroup.kill", "1");
    while populated(dir) {
        if !by_kernel {
            freeze_and_kill(dir);
        }
        if Instant::now() >= deadline {
            tracing::warn!(cgroup = %dir.display(), "the run's cgroup did not empty in time");
            return held;
        }
        std::thread::sleep(EMPTY_POLL);
    }
    if let Err(e) = remove(dir) {
        tracing::warn!(cgroup = %dir.display(), "cannot remove the run's cgroup: {e}");
    }
    held
}

/// Without `cgroup.kill`: freeze the cgroup (nothing in it can fork meanwhile),
/// SIGKILL each process in it (a frozen process dies of SIGKILL), thaw.
fn freeze_and_kill(dir: &Path) {
    let frozen = write(dir, "cgroup.freeze", "1");
    for pid in pids(dir) {
        let _ = kill_pid(Pid::from_raw(pid), Signal::SIGKILL);
    }
    if frozen {
        write(dir, "cgroup.freeze", "0");
    }
}

/// The processes in the cgroup and in the cgroups below it.
fn pids(dir: &Path) -> Vec<i32> {
    let mut found: Vec<i32> = std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default();
    for child in children(dir) {
        found.extend(pids(&child));
    }
    found
}

/// The cgroups right below `dir`.
fn children(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect()
}

/// Removes an emptied cgroup, the ones below it first.
fn remove(dir: &Path) -> std::io::Result<()> {
    for child in children(dir) {
        remove(&child)?;
    }
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Whether anything lives in the cgroup or below it (`cgroup.events`).
fn populated(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.events")).is_ok_and(|events| events.lines().any(|l| l == "populated 1"))
}

fn write(dir: &Path, file: &str, value: &str) -> bool {
    std::fs::OpenOptions::new().write(true).open(dir.join(file)).and_then(|mut f| f.write_all(value.as_bytes())).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_in_a_hybrid_layout() {
        let info = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
                    32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
                    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(cgroup2_mount(info), Some((PathBuf::from("/"), PathBuf::from("/sys/fs/cgroup/unified"))));
        assert_eq!(cgroup2_mount("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"), None);
    }

    #[test]
    fn mount_points_with_spaces_are_unescaped() {
        assert_eq!(unescape(r"/mnt/my\040cgroups"), "/mnt/my cgroups");
        assert_eq!(unescape(r"/a\\b\0"), r"/a\\b\0");
    }

    /// A cgroup of our own for a test, with `sleep`s in it (one in a cgroup below);
    /// None (said why) where this process cannot make cgroups.
    fn populated_cgroup(name: &str) -> Option<(PathBuf, Vec<std::process::Child>)> {
        let base = match probe() {
            Ok(c) => c.base,
            Err(why) => {
                eprintln!("skipped: no cgroups here: {why}");
                return None;
            }
        };
        let dir = base.join(format!("bosun-test-{name}-{}", std::process::id()));
        let below = dir.join("made-by-the-agent");
        let mut children = Vec::new();
        for cg in [&dir, &below] {
            let procs = create(cg).unwrap().procs;
            let mut cmd = std::process::Command::new("sleep");
            cmd.arg("100");
            enter_on_exec(&mut cmd, procs);
            children.push(cmd.spawn().unwrap());
        }
        assert!(contains(&dir, children[0].id()) && contains(&below, children[1].id()));
        assert!(populated(&dir));
        Some((dir, children))
    }

    #[test]
    fn killing_a_cgroup_ends_everything_in_it_and_removes_it() {
        let Some((dir, mut children)) = populated_cgroup("kill") else { return };
        assert_eq!(kill(&dir, EMPTY_WAIT), 2, "two processes: {}", dir.display());
        assert!(!dir.exists(), "removed, the cgroup below it too");
        for child in &mut children {
            assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
        }
    }

    /// The way before Linux 5.14 (no `cgroup.kill`): freeze, SIGKILL each, thaw.
    #[test]
    fn freezing_and_killing_each_process_empties_a_cgroup() {
        let Some((dir, mut children)) = populated_cgroup("freeze") else { return };
        freeze_and_kill(&dir);
        for child in &mut children {
            assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
        }
        let deadline = Instant::now() + EMPTY_WAIT;
        while populated(&dir) && Instant::now() < deadline {
            std::thread::sleep(EMPTY_POLL);
        }
        assert!(!populated(&dir));
        remove(&dir).unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn a_cgroup_that_is_not_there_is_nothing_to_kill() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(kill(&dir.path().join("bosun-run-1"), Duration::from_millis(50)), 0);
    }
}
