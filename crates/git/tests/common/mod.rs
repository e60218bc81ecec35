//! What the git tests share: git sealed from this machine's config and identity, a
//! throwaway identity for setup, and a fixture repo.
#![allow(dead_code)] // each test file uses its own part

use std::path::Path;
use std::process::Command;
use std::sync::Once;

use bosun_git::{Repo, Worktree};
use tempfile::TempDir;

/// Seal git from this machine's config and identity. Every test calls this before anything
/// else, so the `Once` orders these writes before any thread reads the environment.
pub fn sealed() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: see above; no test thread reads the environment before this completes.
        unsafe {
            std::env::set_var("GIT_CONFIG_GLOBAL", "/dev/null");
            std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
            for var in ["EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"] {
                std::env::remove_var(var);
            }
        }
    });
}

/// Run git for test setup/inspection (with a throwaway identity); returns trimmed stdout.
pub fn sh(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

pub fn write(dir: &Path, file: &str, content: &str) {
    std::fs::write(dir.join(file), content).unwrap();
}

pub fn commit_file(dir: &Path, file: &str, content: &str) -> String {
    write(dir, file, content);
    sh(dir, &["add", "--", file]);
    sh(dir, &["commit", "-q", "-m", &format!("edit {file}")]);
    sh(dir, &["rev-parse", "HEAD"])
}

/// A repository at `dir` on branch `main` with one commit (a.txt, b.txt).
pub async fn init_at(dir: &Path, identity: bool) -> Repo {
    sealed();
    std::fs::create_dir_all(dir).unwrap();
    sh(dir, &["init", "-q", "-b", "main"]);
    if identity {
        sh(dir, &["config", "user.name", "Repo User"]);
        sh(dir, &["config", "user.email", "user@example.com"]);
    } else {
        // Make git refuse to guess an identity, so only bosun's fallback can save a commit.
        sh(dir, &["config", "user.useConfigOnly", "true"]);
    }
    write(dir, "a.txt", "a\n");
    write(dir, "b.txt", "b\n");
    sh(dir, &["add", "."]);
    sh(dir, &["commit", "-q", "-m", "init"]);
    let repo = Repo::open(dir).await.unwrap();
    assert_eq!(repo.root(), dir.canonicalize().unwrap());
    repo
}

pub struct Fixture {
    pub tmp: TempDir,
    pub repo: Repo,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_identity(true).await
    }
    pub async fn with_identity(identity: bool) -> Self {
        let tmp = TempDir::new().unwrap();
        let repo = init_at(&tmp.path().join("repo"), identity).await;
        Fixture { tmp, repo }
    }
    pub fn root(&self) -> &Path {
        self.repo.root()
    }
    /// A task worktree on a new branch `name` from main, with `file` set to `content` and committed.
    pub async fn task(&self, name: &str, file: &str, content: &str) -> Worktree {
        let path = self.tmp.path().join(format!("wt-{name}"));
        self.repo.worktree_add(&path, name, "main").await.unwrap();
        let wt = Worktree::new(path);
        write(wt.path(), file, content);
        assert!(wt.commit_all(&format!("task {name}"), &[]).await.unwrap().is_some());
        wt
    }
    pub fn show(&self, rev: &str, file: &str) -> String {
        sh(self.root(), &["show", &format!("{rev}:{file}")])
    }
    pub fn sha(&self, rev: &str) -> String {
        sh(self.root(), &["rev-parse", rev])
    }
}
