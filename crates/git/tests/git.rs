//! bosun-git against real repositories in temp dirs, with the user's global and system
//! git config sealed off so results never depend on the machine running them.

use std::path::Path;
use std::process::Command;

use bosun_git::{GitError, MergeError, MergeStrategy, Repo, Worktree};
use tempfile::TempDir;

const STRATEGIES: [MergeStrategy; 3] = [MergeStrategy::Squash, MergeStrategy::Merge, MergeStrategy::Rebase];

mod common;
use common::*;

#[tokio::test]
async fn open_resolves_subdirs_and_linked_worktrees_to_the_main_root() {
    let f = Fixture::new().await;
    std::fs::create_dir(f.root().join("sub")).unwrap();
    assert_eq!(Repo::open(&f.root().join("sub")).await.unwrap(), f.repo);
    let wt = f.tmp.path().join("linked");
    f.repo.worktree_add(&wt, "linked", "main").await.unwrap();
    assert_eq!(Repo::open(&wt).await.unwrap().root(), f.root());
}

#[tokio::test]
async fn open_rejects_a_plain_directory_and_a_missing_one() {
    sealed();
    let tmp = TempDir::new().unwrap();
    for path in [tmp.path().to_owned(), tmp.path().join("missing")] {
        let err = Repo::open(&path).await.unwrap_err();
        assert!(matches!(err, GitError::NotARepo { .. }), "{err:?}");
        assert_eq!(err.to_string(), format!("not a git repository: {}", path.display()));
    }
}

#[tokio::test]
async fn current_branch_is_none_when_detached() {
    let f = Fixture::new().await;
    assert_eq!(f.repo.current_branch().await.unwrap().as_deref(), Some("main"));
    sh(f.root(), &["checkout", "-q", "--detach"]);
    assert_eq!(f.repo.current_branch().await.unwrap(), None);
}

/// Sets the mtime of the repo's `.git/HEAD` and `.git/config` an hour back, as if they
/// had not changed for long: the repo's facts are then remembered.
fn age_git_dir(root: &Path) {
    let git_dir = root.join(".git");
    let out =
        Command::new("touch").args(["-m", "-d", "1 hour ago"]).arg(git_dir.join("HEAD")).arg(git_dir.join("config")).output().unwrap();
    assert!(out.status.success());
}

#[tokio::test]
async fn remembered_repo_facts_follow_a_checkout() {
    let f = Fixture::new().await;
    age_git_dir(f.root());
    assert_eq!(Repo::open(f.root()).await.unwrap(), f.repo);
    assert_eq!(f.repo.current_branch().await.unwrap().as_deref(), Some("main"));
    // Remembered now; git changing HEAD makes a new HEAD file, which the next look sees.
    sh(f.root(), &["checkout", "-q", "-b", "other"]);
    assert_eq!(f.repo.current_branch().await.unwrap().as_deref(), Some("other"));
    age_git_dir(f.root());
    assert_eq!(f.repo.current_branch().await.unwrap().as_deref(), Some("other"));
    sh(f.root(), &["checkout", "-q", "--detach"]);
    assert_eq!(f.repo.current_branch().await.unwrap(), None);
    // A repo gone is not a repo, whatever was remembered.
    age_git_dir(f.root());
    assert_eq!(Repo::open(f.root()).await.unwrap(), f.repo);
    std::fs::remove_dir_all(f.root().join(".git")).unwrap();
    assert!(matches!(Repo::open(f.root()).await, Err(GitError::NotARepo { .. })));
}

#[tokio::test]
async fn branch_names_are_checked_as_git_checks_them() {
    let f = Fixture::new().await;
    let names = [
        "main",
        "feat/x-1",
        "a.b",
        "@x",
        "x@y",
        "ünï",
        "bosun/12-fix",
        "HEAD",
        "@",
        "/a",
        "a/",
        "a//b",
        "a.",
        "a..b",
        "a@{1}",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[b",
        "a\\b",
        "a\x01",
        "a\x7f",
        ".a",
        "a/.b",
        "a.lock",
        "a.lock/b",
        "a/b.lock/c",
        "x.lock.y",
        "-",
        "a-",
        "a/-b",
        "@{u}",
        "a@",
        "{a}",
        "a\tb",
    ];
    let mut differ = vec![];
    for name in names {
        let git = Command::new("git").args(["check-ref-format", "--branch", name]).current_dir(f.root()).output().unwrap();
        let ours = f.repo.check_branch_name(name).await;
        if ours.is_ok() != git.status.success() {
            differ.push(format!("{name:?}: ours {ours:?}, git {}", String::from_utf8_lossy(&git.stderr)));
        }
    }
    // `--branch` reads `@` as "the current branch" and answers with its name; bosun
    // names a branch, so `@` is refused.
    assert!(f.repo.check_branch_name("@").await.is_err());
    assert_eq!(differ, vec![format!("{:?}: ours {:?}, git ", "@", f.repo.check_branch_name("@").await)]);
}

#[tokio::test]
async fn names_starting_with_a_dash_never_reach_git() {
    let f = Fixture::new().await;
    let path = f.tmp.path().join("wt");
    fn invalid<T>(r: Result<T, GitError>) -> bool {
        matches!(r, Err(GitError::InvalidName { .. }))
    }
    assert!(invalid(f.repo.check_branch_name("-f").await));
    assert!(invalid(f.repo.check_branch_name("bad..name").await));
    assert!(invalid(f.repo.worktree_add(&path, "--force", "main").await));
    assert!(invalid(f.repo.worktree_add(&path, "ok", "--orphan").await));
    assert!(invalid(f.repo.branch_exists("--all").await));
    assert!(invalid(f.repo.rev_parse("--git-dir").await));
    assert!(invalid(f.repo.delete_branch("-D", true).await));
    assert!(invalid(f.repo.diff("main", "--output=/tmp/x").await));
    assert!(invalid(f.repo.unmerged_commits("--all", "main").await));
    assert!(invalid(f.repo.unmerged_commits("main", "-n1").await));
    assert!(invalid(f.repo.remote_url("-v").await));
    assert!(invalid(f.repo.push("--mirror", "main").await));
    assert!(invalid(f.repo.push("origin", "--force").await));
    assert!(invalid(f.repo.fetch("--all").await));
    assert!(invalid(Worktree::new(f.root()).rebase("--root").await));
    let merge = f.repo.merge("main", "--help", MergeStrategy::Merge, "m").await;
    assert!(matches!(merge, Err(MergeError::Git(GitError::InvalidName { .. }))));
    f.repo.check_branch_name("feat/ok-1").await.unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn paths_with_spaces_and_quotes_work() {
    sealed();
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("x").join("my \"quoted\" repo's dir");
    let repo = init_at(&dir, true).await;
    let wt_path = dir.join("task's \"tree\"");
    repo.worktree_add(&wt_path, "task", "main").await.unwrap();
    let wt = Worktree::new(&wt_path);
    write(&wt_path, "spaced \"name\" é.txt", "hi\n");
    assert_eq!(wt.dirty_files().await.unwrap(), ["spaced \"name\" é.txt"]);
    wt.commit_all("add", &[]).await.unwrap().unwrap();
    assert_eq!(repo.changed_files("main", "task").await.unwrap(), ["spaced \"name\" é.txt"]);
    repo.merge("main", "task", MergeStrategy::Squash, "squash").await.unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("spaced \"name\" é.txt")).unwrap(), "hi\n");
    repo.worktree_remove(&wt_path, false).await.unwrap();
}

#[tokio::test]
async fn commit_all_commits_everything_or_reports_nothing() {
    let f = Fixture::new().await;
    let wt = Worktree::new(f.root());
    assert_eq!(wt.commit_all("nothing", &[]).await.unwrap(), None);
    // Excluded globs are never staged, even when nothing else is.
    std::fs::write(wt.path().join(".env.local"), "SECRET=1").unwrap();
    assert_eq!(wt.commit_all("secret", &[".env*".to_string()]).await.unwrap(), None);
    assert_eq!(wt.dirty_files().await.unwrap(), vec![".env.local".to_string()]);
    std::fs::remove_file(wt.path().join(".env.local")).unwrap();
    assert!(wt.dirty_files().await.unwrap().is_empty());

    // A hook that would fail the commit must not run.
    let hook = f.root().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    write(f.root(), "a.txt", "changed\n");
    std::fs::remove_file(f.root().join("b.txt")).unwrap();
    std::fs::create_dir(f.root().join("new dir")).unwrap();
    write(&f.root().join("new dir"), "c.txt", "c\n");
    let mut dirty = wt.dirty_files().await.unwrap();
    dirty.sort();
    assert_eq!(dirty, ["a.txt", "b.txt", "new dir/c.txt"]);
    let sha = wt.commit_all("task: work", &[]).await.unwrap().unwrap();
    assert_eq!(sha, f.sha("HEAD"));
    assert_eq!(wt.head().await.unwrap(), sha);
    assert!(wt.dirty_files().await.unwrap().is_empty());
    assert_eq!(sh(f.root(), &["log", "-1", "--format=%s|%an"]), "task: work|Repo User");
    assert_eq!(f.show("HEAD", "new dir/c.txt"), "c");
}

#[tokio::test]
async fn commits_and_merges_work_without_any_identity() {
    let f = Fixture::with_identity(false).await;
    let wt = f.task("anon", "c.txt", "c\n").await;
    assert_eq!(sh(wt.path(), &["log", "-1", "--format=%an <%ae>"]), "bosun <bosun@localhost>");
    let out = f.repo.merge("main", "anon", MergeStrategy::Merge, "land anon").await.unwrap();
    assert_eq!(sh(f.root(), &["log", "-1", "--format=%cn <%ce>", &out.commit]), "bosun <bosun@localhost>");
}

#[tokio::test]
async fn diff_shows_the_added_file() {
    let f = Fixture::new().await;
    f.task("t", "added.txt", "hello\n").await;
    commit_file(f.root(), "a.txt", "base moved\n"); // not part of the task's diff
    let diff = f.repo.diff("main", "t").await.unwrap();
    assert!(diff.contains("diff --git a/added.txt b/added.txt"), "{diff}");
    assert!(diff.contains("+hello"), "{diff}");
    assert!(!diff.contains("a.txt b/a.txt"), "{diff}");
    assert_eq!(f.repo.changed_files("main", "t").await.unwrap(), ["added.txt"]);
    assert!(f.repo.is_ancestor("main~1", "t").await.unwrap());
    assert!(!f.repo.is_ancestor("t", "main").await.unwrap());
}

/// Merge a one-file task with each strategy and check the change is on main and the
/// task branch is untouched.
async fn merge_each_strategy(checked_out: bool) {
    for strategy in STRATEGIES {
        let f = Fixture::new().await;
        if !checked_out {
            sh(f.root(), &["checkout", "-q", "-b", "elsewhere"]);
        }
        f.task("t", "added.txt", "from task\n").await;
        let (old, tip) = (f.sha("main"), f.sha("t"));
        let out = f.repo.merge("main", "t", strategy, "land t").await.unwrap();
        assert_eq!(out.strategy, strategy);
        assert_eq!(out.commit, f.sha("main"), "{strategy}");
        assert_eq!(f.show("main", "added.txt"), "from task", "{strategy}");
        assert_eq!(f.sha("t"), tip, "task branch moved by {strategy}");
        let parents = sh(f.root(), &["log", "-1", "--format=%P", "main"]);
        match strategy {
            MergeStrategy::Merge => assert_eq!(parents, format!("{old} {tip}")),
            MergeStrategy::Squash => {
                assert_eq!(parents, old);
                assert_eq!(sh(f.root(), &["log", "-1", "--format=%s", "main"]), "land t");
            }
            MergeStrategy::Rebase => assert!(out.fast_forward && out.commit == tip),
        }
        let expected = if checked_out { "from task\n" } else { "" };
        let on_disk = std::fs::read_to_string(f.root().join("added.txt")).unwrap_or_default();
        assert_eq!(on_disk, expected, "main worktree follows main only when it has it checked out");
        assert!(Worktree::new(f.root()).dirty_files().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn every_strategy_lands_on_a_checked_out_base() {
    merge_each_strategy(true).await;
}

#[tokio::test]
async fn every_strategy_lands_on_a_base_checked_out_nowhere() {
    merge_each_strategy(false).await;
}

#[tokio::test]
async fn a_conflict_changes_nothing() {
    for strategy in STRATEGIES {
        let f = Fixture::new().await;
        f.task("t", "a.txt", "task version\n").await;
        commit_file(f.root(), "a.txt", "base version\n");
        let (base, tip) = (f.sha("main"), f.sha("t"));
        match f.repo.merge("main", "t", strategy, "m").await {
            Err(MergeError::Conflict { files }) => assert_eq!(files, ["a.txt"], "{strategy}"),
            other => panic!("{strategy}: expected a conflict, got {other:?}"),
        }
        assert_eq!((f.sha("main"), f.sha("t")), (base, tip));
        assert!(Worktree::new(f.root()).dirty_files().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_dirty_checkout_touching_merged_files_is_refused_and_kept() {
    for strategy in STRATEGIES {
        let f = Fixture::new().await;
        f.task("t", "a.txt", "task version\n").await;
        let edit = "user's \u{0}precious\r\n edit without newline";
        write(f.root(), "a.txt", edit);
        let base = f.sha("main");
        let err = f.repo.merge("main", "t", strategy, "m").await.unwrap_err();
        let MergeError::DirtyCheckout { path, files } = &err else { panic!("{strategy}: {err:?}") };
        assert_eq!((path.as_path(), files.as_slice()), (f.root(), &["a.txt".to_owned()][..]));
        assert!(err.to_string().contains("a.txt"), "{err}");
        assert_eq!(std::fs::read(f.root().join("a.txt")).unwrap(), edit.as_bytes());
        assert_eq!(f.sha("main"), base);
        assert_eq!(f.show("t", "a.txt"), "task version");
    }
}

#[tokio::test]
async fn an_unrelated_dirty_checkout_survives_a_merge() {
    for strategy in STRATEGIES {
        let f = Fixture::new().await;
        f.task("t", "a.txt", "task version\n").await;
        write(f.root(), "b.txt", "unrelated edit\n");
        write(f.root(), "untracked.txt", "mine\n");
        f.repo.merge("main", "t", strategy, "m").await.unwrap();
        assert_eq!(std::fs::read_to_string(f.root().join("a.txt")).unwrap(), "task version\n");
        assert_eq!(std::fs::read_to_string(f.root().join("b.txt")).unwrap(), "unrelated edit\n");
        assert_eq!(std::fs::read_to_string(f.root().join("untracked.txt")).unwrap(), "mine\n");
        assert_eq!(f.show("main", "b.txt"), "b");
    }
}

#[tokio::test]
async fn rebase_onto_a_moved_base_is_linear_and_keeps_authors() {
    let f = Fixture::new().await;
    let wt = f.task("t", "c.txt", "one\n").await;
    write(wt.path(), "d.txt", "two\n");
    sh(wt.path(), &["add", "d.txt"]);
    let author = ["-c", "user.name=Agent Smith", "-c", "user.email=agent@example.com"];
    let commit = [&author[..], &["commit", "-q", "-m", "second\n\nwith body", "--date=2001-02-03T04:05:06+07:00"]].concat();
    sh(wt.path(), &commit);
    let old_base = commit_file(f.root(), "a.txt", "base moved\n");
    let tip = f.sha("t");

    let out = f.repo.merge("main", "t", MergeStrategy::Rebase, "ignored").await.unwrap();
    assert!(!out.fast_forward);
    assert_eq!(out.commit, f.sha("main"));
    assert_eq!(sh(f.root(), &["rev-list", "--count", "--merges", "main"]), "0");
    assert_eq!(sh(f.root(), &["log", "-1", "--format=%P", "main"]), f.sha("main~1"));
    assert_eq!(f.sha("main~2"), old_base);
    assert!(f.repo.is_ancestor(&old_base, "main").await.unwrap());
    let top = sh(f.root(), &["log", "-1", "--format=%an|%ae|%aI|%B", "main"]);
    assert_eq!(top, "Agent Smith|agent@example.com|2001-02-03T04:05:06+07:00|second\n\nwith body");
    for (file, content) in [("a.txt", "base moved"), ("c.txt", "one"), ("d.txt", "two")] {
        assert_eq!(f.show("main", file), content);
    }
    assert_eq!(f.sha("t"), tip);
}

#[tokio::test]
async fn nothing_to_merge() {
    use bosun_git::Nothing::{AlreadyInBase, NoChanges};
    let f = Fixture::new().await;
    let path = f.tmp.path().join("empty");
    f.repo.worktree_add(&path, "empty", "main").await.unwrap();
    for strategy in STRATEGIES {
        let r = f.repo.merge("main", "empty", strategy, "m").await;
        assert!(matches!(r, Err(MergeError::NothingToMerge(NoChanges))), "{strategy}: {r:?}");
        let r = f.repo.merge("main", "main", strategy, "m").await;
        assert!(matches!(r, Err(MergeError::NothingToMerge(_))), "{strategy}: {r:?}");
    }
    // Changed, then changed back: still no changes, even once base has moved on.
    let wt = f.task("undone", "c.txt", "c\n").await;
    sh(wt.path(), &["rm", "-q", "c.txt"]);
    sh(wt.path(), &["commit", "-qm", "undo"]);
    commit_file(f.root(), "e.txt", "base moved\n");
    for strategy in STRATEGIES {
        let r = f.repo.merge("main", "undone", strategy, "m").await;
        assert!(matches!(r, Err(MergeError::NothingToMerge(NoChanges))), "{strategy}: {r:?}");
    }
    // Already merged: the branch is behind base.
    f.task("done", "c.txt", "c\n").await;
    f.repo.merge("main", "done", MergeStrategy::Rebase, "m").await.unwrap();
    for strategy in STRATEGIES {
        let r = f.repo.merge("main", "done", strategy, "m").await;
        assert!(matches!(r, Err(MergeError::NothingToMerge(AlreadyInBase))), "{strategy}: {r:?}");
    }
    // The same change landed on base independently: nothing left to add, and no empty
    // merge commit either.
    f.task("dup", "d.txt", "same\n").await;
    let base = commit_file(f.root(), "d.txt", "same\n");
    for strategy in STRATEGIES {
        let r = f.repo.merge("main", "dup", strategy, "m").await;
        assert!(matches!(r, Err(MergeError::NothingToMerge(AlreadyInBase))), "{strategy}: {r:?}");
        assert_eq!(f.sha("main"), base);
    }
}

#[tokio::test]
async fn a_modify_delete_conflict_names_the_file_once() {
    let f = Fixture::new().await;
    let wt = f.task("t", "c.txt", "c\n").await;
    std::fs::remove_file(wt.path().join("b.txt")).unwrap();
    wt.commit_all("delete b", &[]).await.unwrap().unwrap();
    commit_file(f.root(), "b.txt", "changed on base\n");
    for strategy in STRATEGIES {
        match f.repo.merge("main", "t", strategy, "m").await {
            Err(MergeError::Conflict { files }) => assert_eq!(files, ["b.txt"], "{strategy}"),
            other => panic!("{strategy}: expected a conflict, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn push_sends_the_branch_to_a_bare_remote() {
    let f = Fixture::new().await;
    let bare = f.tmp.path().join("bare.git");
    sh(f.tmp.path(), &["init", "-q", "--bare", "bare.git"]);
    assert_eq!(f.repo.remote_url("origin").await.unwrap(), None);
    let url = bare.to_str().unwrap();
    sh(f.root(), &["remote", "add", "origin", url]);
    assert_eq!(f.repo.remote_url("origin").await.unwrap().as_deref(), Some(url));

    f.task("t", "c.txt", "task\n").await;
    f.repo.push("origin", "t").await.unwrap();
    assert_eq!(sh(&bare, &["rev-parse", "refs/heads/t"]), f.sha("t"));
    assert_eq!(sh(&bare, &["for-each-ref", "--format=%(refname)"]), "refs/heads/t", "only the branch is pushed");

    // Fetch sees what others pushed; a diverged branch is refused, never forced.
    let other = f.tmp.path().join("other");
    sh(f.tmp.path(), &["clone", "-q", "-b", "t", url, "other"]);
    let theirs = commit_file(&other, "c.txt", "theirs\n");
    sh(&other, &["push", "-q", "origin", "HEAD:refs/heads/t"]);
    f.repo.fetch("origin").await.unwrap();
    assert_eq!(f.sha("origin/t"), theirs);
    assert_eq!(f.repo.unmerged_commits("t", "origin/t").await.unwrap(), 1);
    commit_file(&f.tmp.path().join("wt-t"), "c.txt", "ours\n");
    let err = f.repo.push("origin", "t").await.unwrap_err().to_string();
    assert!(err.contains("rejected"), "{err}");
    assert_eq!(sh(&bare, &["rev-parse", "refs/heads/t"]), theirs);

    let err = f.repo.push("nowhere", "t").await.unwrap_err();
    assert!(matches!(err, GitError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("'nowhere' does not appear to be a git repository"), "{err}");
    assert!(f.repo.fetch("nowhere").await.is_err());
    assert!(f.repo.push("origin", "no-such-branch").await.is_err());
}
