//! The one wrapper around the git CLI that bosun uses, so that every git invocation
//! is spawned the same safe way (argument vector, never a shell; C locale; no prompts;
//! no stdin) and every failure names the action, the path and git's own message.
//!
//! [`Repo`] is a repository seen from its main worktree (refs, worktrees, diffs,
//! merges, remotes); [`Worktree`] is one checked-out directory (status, commits, rebases).

mod conflict;
mod facts;
mod merge;
mod pool;
mod rebase;
mod refname;
mod remote;
mod review;
mod worktree;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub use conflict::Unfinished;
pub use merge::{MergeError, MergeOutcome, MergeStrategy, Nothing};
pub use pool::TakeError;
pub use rebase::RebaseOutcome;
pub use refname::branch_name_problem;
pub use review::{FileStat, compare_files};
pub use worktree::{Worktree, WorktreeInfo};

/// Everything that can go wrong talking to git (merge-specific outcomes live in [`MergeError`]).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not a git repository: {}", path.display())]
    NotARepo { path: PathBuf },
    #[error("invalid branch or revision name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("could not run `git {action}` in {}: {source}", path.display())]
    Spawn { action: String, path: PathBuf, source: std::io::Error },
    #[error("`git {action}` failed in {}: {stderr}", path.display())]
    Failed { action: String, path: PathBuf, stderr: String },
    #[error("unexpected result from `git {action}` in {}: {detail}", path.display())]
    Unexpected { action: String, path: PathBuf, detail: String },
    /// Not attempted, because it could lose or tangle work (e.g. uncommitted changes).
    #[error("refusing to `git {action}` in {}: {reason}", path.display())]
    Refused { action: String, path: PathBuf, reason: String },
}

/// Environment variables that would make git look at another repository than `current_dir`
/// (e.g. when bosun itself is started from a git hook).
const REPO_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// One git invocation under construction.
pub(crate) struct Cmd {
    dir: PathBuf,
    config: Vec<String>,
    args: Vec<OsString>,
    env: Vec<(&'static str, String)>,
    /// What git reads on stdin (`update-ref --stdin`); none: stdin is null.
    input: Option<String>,
}

/// Start building `git <args>` to run in `dir`.
pub(crate) fn git<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(dir: &Path, args: I) -> Cmd {
    let args = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    Cmd { dir: dir.to_owned(), config: vec!["core.quotepath=false".into()], args, env: vec![], input: None }
}

impl Cmd {
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Add `-c key=value` (placed before the subcommand).
    pub(crate) fn config(mut self, kvs: impl IntoIterator<Item = String>) -> Self {
        self.config.extend(kvs);
        self
    }

    pub(crate) fn env(mut self, key: &'static str, value: &str) -> Self {
        self.env.push((key, value.to_owned()));
        self
    }

    /// Give git `text` on its stdin.
    pub(crate) fn stdin(mut self, text: String) -> Self {
        self.input = Some(text);
        self
    }

    /// Run and return the output whatever the exit code (Err only if git could not run).
    pub(crate) async fn output(self) -> Result<Output, GitError> {
        let action = self.args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
        let mut cmd = tokio::process::Command::new("git");
        for kv in &self.config {
            cmd.arg("-c").arg(kv);
        }
        cmd.args(&self.args)
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_EDITOR", "true")
            .stdin(Stdio::null());
        for var in REPO_ENV {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        tracing::debug!(dir = %self.dir.display(), "git {action}");
        let spawn_error = |source| GitError::Spawn { action: action.clone(), path: self.dir.clone(), source };
        let out = match self.input {
            None => cmd.output().await.map_err(spawn_error)?,
            Some(text) => {
                use tokio::io::AsyncWriteExt;
                cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
                let mut child = cmd.spawn().map_err(spawn_error)?;
                let mut stdin = child.stdin.take().expect("stdin is piped");
                // A short input, read whole before git answers. Should git stop early,
                // its exit status says why, not the broken pipe.
                let _ = stdin.write_all(text.as_bytes()).await;
                drop(stdin);
                child.wait_with_output().await.map_err(spawn_error)?
            }
        };
        Ok(Output {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            action,
            dir: self.dir,
        })
    }

    /// Run and require success.
    pub(crate) async fn run(self) -> Result<Output, GitError> {
        let out = self.output().await?;
        if out.code == Some(0) { Ok(out) } else { Err(out.error()) }
    }
}

/// What a finished git process printed.
pub(crate) struct Output {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
    action: String,
    dir: PathBuf,
}

impl Output {
    /// stdout as text without the trailing newline.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end_matches('\n').to_owned()
    }

    /// stdout split on NUL (for `-z` output), empty entries dropped.
    pub(crate) fn nul_list(&self) -> Vec<String> {
        self.stdout.split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
    }

    /// For commands that answer yes/no with exit status 0/1.
    pub(crate) fn yes_no(&self) -> Result<bool, GitError> {
        match self.code {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.error()),
        }
    }

    /// The failure of this invocation as an error naming action, path and stderr.
    pub(crate) fn error(&self) -> GitError {
        let stderr = match (&self.stderr, self.code) {
            (s, _) if !s.is_empty() => s.clone(),
            (_, Some(code)) => format!("exit status {code}"),
            (_, None) => "killed by a signal".into(),
        };
        GitError::Failed { action: self.action.clone(), path: self.dir.clone(), stderr }
    }

    pub(crate) fn unexpected(&self, detail: impl Into<String>) -> GitError {
        GitError::Unexpected { action: self.action.clone(), path: self.dir.clone(), detail: detail.into() }
    }
}

/// Refuse names git could mistake for options (or that are empty) before they reach git.
pub(crate) fn plain_name(name: &str) -> Result<&str, GitError> {
    if name.is_empty() || name.starts_with('-') {
        return Err(GitError::InvalidName { name: name.to_owned(), reason: "must not be empty or start with '-'".into() });
    }
    Ok(name)
}

pub(crate) fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    return PathBuf::from(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes));
    #[cfg(not(unix))]
    return PathBuf::from(String::from_utf8_lossy(bytes).into_owned());
}

/// A repository, addressed through its main worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    root: PathBuf,
}

impl Repo {
    /// Open the repository containing `path` (any directory inside it). From inside a linked
    /// worktree this resolves to the main worktree.
    ///
    /// A main worktree's top level is remembered (see `facts.rs`): opening it again
    /// while its `.git` is unchanged runs no git process.
    pub async fn open(path: &Path) -> Result<Repo, GitError> {
        let stamp = facts::stamp(path);
        if stamp.is_some_and(|now| facts::known_root(path, now)) {
            return Ok(Repo { root: path.to_path_buf() });
        }
        let repo = Repo::open_uncached(path).await?;
        if let Some(stamp) = stamp.filter(|_| repo.root == path) {
            facts::remember_root(path, stamp);
        }
        Ok(repo)
    }

    async fn open_uncached(path: &Path) -> Result<Repo, GitError> {
        let not_repo = || GitError::NotARepo { path: path.to_owned() };
        if !tokio::fs::metadata(path).await.is_ok_and(|m| m.is_dir()) {
            return Err(not_repo());
        }
        let args = ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-dir", "--git-common-dir"];
        let out = git(path, args).output().await?;
        if out.code != Some(0) {
            tracing::debug!(path = %path.display(), stderr = %out.stderr, "not a git repository");
            return Err(not_repo());
        }
        let lines: Vec<&[u8]> = out.stdout.split(|&b| b == b'\n').collect();
        let [top, git_dir, common_dir, ..] = lines[..] else {
            return Err(out.unexpected("expected toplevel, git dir and common dir"));
        };
        let repo = Repo { root: bytes_to_path(top) };
        if git_dir == common_dir {
            return Ok(repo);
        }
        // A linked worktree: `worktree list` always lists the main worktree first.
        let main = repo.worktrees().await?.into_iter().next().filter(|w| !w.bare && w.path.is_dir());
        Ok(main.map(|w| Repo { root: w.path }).unwrap_or(repo))
    }

    /// The main worktree's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn git<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Cmd {
        git(&self.root, args)
    }

    /// The branch checked out in the main worktree; `None` if HEAD is detached.
    /// Remembered like the top level while the repo's `.git` is unchanged.
    pub async fn current_branch(&self) -> Result<Option<String>, GitError> {
        if let Some(branch) = facts::known_branch(&self.root) {
            return Ok(branch);
        }
        let stamp = facts::stamp(&self.root);
        let out = self.git(["symbolic-ref", "-q", "HEAD"]).output().await?;
        let branch = out.yes_no()?.then(|| out.text().trim_start_matches("refs/heads/").to_owned());
        facts::remember_branch(&self.root, stamp, branch.clone());
        Ok(branch)
    }

    pub async fn branch_exists(&self, name: &str) -> Result<bool, GitError> {
        let refname = format!("refs/heads/{}", plain_name(name)?);
        self.git(["show-ref", "--verify", "--quiet", &refname]).output().await?.yes_no()
    }

    /// Check that `name` is a valid new branch name (git's `check-ref-format --branch`
    /// rules, checked in-process: [`branch_name_problem`]).
    pub async fn check_branch_name(&self, name: &str) -> Result<(), GitError> {
        plain_name(name)?;
        match branch_name_problem(name) {
            None => Ok(()),
            Some(reason) => Err(GitError::InvalidName { name: name.to_owned(), reason: reason.into() }),
        }
    }

    /// Full sha of the commit `rev` names.
    pub async fn rev_parse(&self, rev: &str) -> Result<String, GitError> {
        let spec = format!("{}^{{commit}}", plain_name(rev)?);
        Ok(self.git(["rev-parse", "--verify", "--end-of-options", &spec]).run().await?.text())
    }

    pub async fn delete_branch(&self, name: &str, force: bool) -> Result<(), GitError> {
        let flag = if force { "-D" } else { "-d" };
        self.git(["branch", flag, "--", plain_name(name)?]).run().await?;
        Ok(())
    }

    pub async fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
        let args = ["merge-base", "--is-ancestor", plain_name(ancestor)?, plain_name(descendant)?];
        self.git(args).output().await?.yes_no()
    }

    /// How many commits `branch` has that `base` does not (`git rev-list --count base..branch`).
    pub async fn unmerged_commits(&self, base: &str, branch: &str) -> Result<usize, GitError> {
        let range = format!("{}..{}", plain_name(base)?, plain_name(branch)?);
        let out = self.git(["rev-list", "--count", &range, "--"]).run().await?;
        out.text().parse().map_err(|_| out.unexpected("expected a commit count"))
    }

    /// The patch `branch` adds since it forked from `base` (`git diff base...branch`).
    pub async fn diff(&self, base: &str, branch: &str) -> Result<String, GitError> {
        let range = format!("{}...{}", plain_name(base)?, plain_name(branch)?);
        let args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/"];
        Ok(String::from_utf8_lossy(&self.git(args).arg(range).arg("--").run().await?.stdout).into_owned())
    }

    /// Paths `branch` changed since it forked from `base` (renames listed as delete + add).
    pub async fn changed_files(&self, base: &str, branch: &str) -> Result<Vec<String>, GitError> {
        let range = format!("{}...{}", plain_name(base)?, plain_name(branch)?);
        let args = ["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", &range, "--"];
        Ok(self.git(args).run().await?.nul_list())
    }
}

/// `-c` settings that supply a commit identity when the repository has none configured,
/// so commits never fail on a machine where the user never ran `git config user.*`.
pub(crate) async fn fallback_identity(dir: &Path) -> Result<Vec<String>, GitError> {
    let out = git(dir, ["config", "--get-regexp", r"^user\.(name|email)$"]).output().await?;
    out.yes_no()?;
    let text = out.text();
    let has = |key: &str| text.lines().any(|l| l.strip_prefix(key).is_some_and(|v| !v.trim().is_empty()));
    let mut config = vec![];
    if !has("user.name") {
        config.push("user.name=bosun".to_owned());
    }
    if !has("user.email") && std::env::var_os("EMAIL").is_none() {
        config.push("user.email=bosun@localhost".to_owned());
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_like_names_are_refused() {
        assert!(plain_name("-b").is_err());
        assert!(plain_name("--help").is_err());
        assert!(plain_name("").is_err());
        assert_eq!(plain_name("feat/x-1").unwrap(), "feat/x-1");
    }
}
