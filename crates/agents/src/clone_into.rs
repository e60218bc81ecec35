//! Starting the agent straight inside its run's cgroup with `clone3(CLONE_INTO_CGROUP)`
//! (Linux 5.7+), instead of forking it and having the child move itself in.
//!
//! Why: moving a process between cgroups (a write to `cgroup.procs`) takes the kernel's
//! cgroup thread-group lock for writing, which waits for an RCU grace period whenever
//! no other move happened just before — 5–15 ms, measured on every task that starts on
//! a quiet daemon (BENCHMARKS.md, issue 17). A child born in the cgroup is never moved.
//!
//! The child does only what `std::process::Command` does between its `fork` and `exec`,
//! with async-signal-safe calls on memory prepared before the clone: its own process
//! group, the default signal mask and `SIGPIPE`, the pipes on 0/1/2, `execvp` (the
//! holder's environment and working directory are the agent's). Whatever it could not
//! exec is written back on a close-on-exec pipe as an errno, so the caller gets the
//! same "cannot start" error as from `Command::spawn`. Where the kernel refuses the
//! clone itself (too old, no permission, not a cgroup), [`Error::Unsupported`] says so
//! and the caller falls back to moving the child in after `fork`.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `clone(2)`: put the child in the cgroup `clone_args.cgroup` refers to.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// `clone(2)`: return a pidfd for the child in `clone_args.pidfd`.
const CLONE_PIDFD: u64 = 0x1000;

/// Why the agent did not start.
#[derive(Debug)]
pub(crate) enum Error {
    /// The kernel refused the clone: start it the other way.
    Unsupported(std::io::Error),
    /// The agent's program could not be started (not found, not executable…).
    Exec(std::io::Error),
}

/// A child started by [`spawn`]: its pid, a pidfd to wait on, and the parent's ends of
/// its pipes.
pub(crate) struct Child {
    pub pid: u32,
    pub pidfd: OwnedFd,
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Starts `argv` as the leader of a new process group, born in the cgroup whose
/// directory `cgroup` is open on, with piped stdin, stdout and stderr.
pub(crate) fn spawn(argv: &[String], cgroup: &OwnedFd) -> Result<Child, Error> {
    // Everything the child touches is made here, before the clone.
    let args: Vec<CString> = argv
        .iter()
        .map(|a| {
            CString::new(a.as_bytes()).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "an argument holds a NUL byte"))
        })
        .collect::<Result<_, _>>()
        .map_err(Error::Exec)?;
    let Some(program) = args.first() else {
        return Err(Error::Exec(std::io::Error::new(std::io::ErrorKind::InvalidInput, "no program given")));
    };
    let mut pointers: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());
    // Close-on-exec both ends (std's pipes are): the child's copies go at its exec.
    let pipe = || std::io::pipe().map(|(r, w)| (OwnedFd::from(r), OwnedFd::from(w))).map_err(Error::Exec);
    let (stdin_r, stdin_w) = pipe()?;
    let (stdout_r, stdout_w) = pipe()?;
    let (stderr_r, stderr_w) = pipe()?;
    let (fail_r, fail_w) = pipe()?;
    let child_fds = [(stdin_r.as_raw_fd(), 0), (stdout_w.as_raw_fd(), 1), (stderr_w.as_raw_fd(), 2)];
    let fail = fail_w.as_raw_fd();

    let mut pidfd: libc::c_int = -1;
    // SAFETY: clone_args is plain data; all-zero is its documented default.
    let mut clone_args: libc::clone_args = unsafe { std::mem::zeroed() };
    clone_args.flags = CLONE_INTO_CGROUP | CLONE_PIDFD;
    clone_args.pidfd = &raw mut pidfd as u64;
    clone_args.exit_signal = libc::SIGCHLD as u64;
    clone_args.cgroup = cgroup.as_raw_fd() as u64;
    // SAFETY: without CLONE_VM this is a fork: the child gets a copy of this address
    // space, with only this thread. Until it execs or exits, it calls only
    // async-signal-safe functions on memory made above (no allocation, no lock).
    let ret = unsafe { libc::syscall(libc::SYS_clone3, &raw mut clone_args, std::mem::size_of::<libc::clone_args>()) };
    if ret == 0 {
        // SAFETY: the child, see above.
        unsafe { child(program, &pointers, &child_fds, fail) }
    }
    if ret < 0 {
        return Err(Error::Unsupported(std::io::Error::last_os_error()));
    }
    let pid = ret as u32;
    // SAFETY: the kernel wrote a fresh descriptor, owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    drop((stdin_r, stdout_w, stderr_w, fail_w));
    match exec_result(&fail_r) {
        None => Ok(Child { pid, pidfd, stdin: stdin_w, stdout: stdout_r, stderr: stderr_r }),
        Some(e) => {
            // The child exited at once: reap it.
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None);
            Err(Error::Exec(e))
        }
    }
}

/// Reads the child's report: EOF (the close-on-exec pipe closed) is a successful exec,
/// four bytes are the errno it failed with.
fn exec_result(fail: &OwnedFd) -> Option<std::io::Error> {
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fail, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Some(e.into()),
        }
    }
    (got == buf.len()).then(|| std::io::Error::from_raw_os_error(i32::from_ne_bytes(buf)))
}

/// The child between clone and exec. Never returns.
///
/// # Safety
/// Only in the child of a fork-like clone; `argv` is NUL-terminated and points at live
/// C strings, `fds` are open descriptors.
unsafe fn child(program: &CString, argv: &[*const libc::c_char], fds: &[(libc::c_int, libc::c_int)], fail: libc::c_int) -> ! {
    // SAFETY (whole body): async-signal-safe calls only (signal-safety(7)), on memory
    // the parent made before the clone.
    unsafe {
        libc::setpgid(0, 0);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        // Rust ignores SIGPIPE in its own processes; the agent gets the default.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        for &(from, to) in fds {
            let ok = if from == to { libc::fcntl(to, libc::F_SETFD, 0) } else { libc::dup2(from, to) };
            if ok < 0 {
                report(fail);
            }
        }
        libc::execvp(program.as_ptr(), argv.as_ptr());
        report(fail)
    }
}

/// Writes errno to the parent and exits, from the child.
///
/// # Safety
/// As [`child`].
unsafe fn report(fail: libc::c_int) -> ! {
    // SAFETY: async-signal-safe calls on a local.
    unsafe {
        let errno = *libc::__errno_location();
        libc::write(fail, (&raw const errno).cast(), std::mem::size_of::<libc::c_int>());
        libc::_exit(127)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// A fresh cgroup for a test, or None (said why) where this process cannot make one.
    fn test_cgroup(name: &str) -> Option<(std::path::PathBuf, OwnedFd)> {
        let base = match crate::cgroup::probe() {
            Ok(c) => c.base,
            Err(why) => {
                eprintln!("skipped: no cgroups here: {why}");
                return None;
            }
        };
        let dir = base.join(format!("bosun-test-clone-{name}-{}", std::process::id()));
        let opened = crate::cgroup::create(&dir).unwrap();
        Some((dir, opened.dir))
    }

    #[test]
    fn the_child_is_born_in_the_cgroup_leads_its_group_and_talks_through_its_pipes() {
        let Some((dir, fd)) = test_cgroup("born") else { return };
        let script = "read x; echo \"got $x\"; cat /proc/self/cgroup; cut -d' ' -f5 /proc/$$/stat; echo oops >&2";
        let argv = ["sh", "-c", script].map(String::from);
        let child = spawn(&argv, &fd).unwrap_or_else(|e| panic!("{e:?}"));
        let mut stdin = std::fs::File::from(child.stdin);
        stdin.write_all(b"hello\n").unwrap();
        drop(stdin);
        let mut out = String::new();
        std::fs::File::from(child.stdout).read_to_string(&mut out).unwrap();
        let mut err = String::new();
        std::fs::File::from(child.stderr).read_to_string(&mut err).unwrap();
        let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child.pid as i32), None).unwrap();
        assert_eq!(status, nix::sys::wait::WaitStatus::Exited(nix::unistd::Pid::from_raw(child.pid as i32), 0));
        let name = dir.file_name().unwrap().to_str().unwrap();
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("got hello"));
        assert!(out.lines().any(|l| l.starts_with("0::") && l.ends_with(name)), "in {name}: {out}");
        assert_eq!(lines.last().map(str::trim), Some(child.pid.to_string().as_str()), "its own group: {out}");
        assert_eq!(err, "oops\n");
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn a_program_that_is_not_there_is_an_exec_error() {
        let Some((dir, fd)) = test_cgroup("missing") else { return };
        match spawn(&["bosun-no-such-program".to_string()], &fd) {
            Err(Error::Exec(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
            Err(Error::Unsupported(e)) => panic!("unsupported: {e}"),
            Ok(_) => panic!("started a program that is not there"),
        }
        std::fs::remove_dir(&dir).unwrap();
    }
}
