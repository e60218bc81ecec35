//! bosun-git's worktrees against real repositories in temp dirs: add, list, remove and
//! prune, a crash's leftovers, rebase in a worktree, discard, and the warm pool's
//! hand-over.

use bosun_git::{GitError, RebaseOutcome, Repo, Worktree};

mod common;
use common::*;

#[tokio::test]
async fn worktree_add_clears_registrations_whose_directory_is_gone() {
    let f = Fixture::new().await;
    let path = f.tmp.path().join("wt");
    // A branch and a worktree of a task whose directory went away (a data dir removed).
    f.repo.worktree_add(&path, "bosun/1-x", "main").await.unwrap();
    std::fs::remove_dir_all(&path).unwrap();
    f.repo.worktree_add(&path, "bosun/1-x", "main").await.unwrap();
    assert_eq!(Worktree::new(&path).branch().await.unwrap().as_deref(), Some("bosun/1-x"));
    // The path registered to another branch, its directory gone: the new branch is made there.
    std::fs::remove_dir_all(&path).unwrap();
    f.repo.worktree_add(&path, "bosun/2-y", "main").await.unwrap();
    assert_eq!(Worktree::new(&path).branch().await.unwrap().as_deref(), Some("bosun/2-y"));
}

#[tokio::test]
async fn worktree_add_list_remove_prune() {
    let f = Fixture::new().await;
    let (one, two) = (f.tmp.path().join("one"), f.tmp.path().join("two"));
    f.repo.worktree_add(&one, "task/one", "main").await.unwrap();
    f.repo.worktree_add(&two, "task/two", "main").await.unwrap();
    assert!(f.repo.branch_exists("task/one").await.unwrap());
    assert!(!f.repo.branch_exists("task/nope").await.unwrap());
    assert_eq!(f.repo.rev_parse("task/one").await.unwrap(), f.sha("main"));

    let list = f.repo.worktrees().await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].path, f.root());
    assert_eq!(list[0].branch.as_deref(), Some("main"));
    let entry = list.iter().find(|w| w.branch.as_deref() == Some("task/one")).unwrap();
    assert_eq!(entry.path, one.canonicalize().unwrap());
    assert_eq!(entry.head.as_deref(), Some(f.sha("main").as_str()));
    assert!(entry.locked.is_none() && !entry.prunable);

    // Dirty worktrees need force to go.
    write(&one, "scratch", "x");
    assert!(f.repo.worktree_remove(&one, false).await.is_err());
    f.repo.worktree_remove(&one, true).await.unwrap();
    assert!(!one.exists());
    // A worktree whose directory vanished is prunable, then pruned.
    std::fs::remove_dir_all(&two).unwrap();
    let list = f.repo.worktrees().await.unwrap();
    assert!(list.iter().any(|w| w.branch.as_deref() == Some("task/two") && w.prunable));
    f.repo.worktree_prune().await.unwrap();
    assert_eq!(f.repo.worktrees().await.unwrap().len(), 1);

    // Branches survive their worktrees; deleting an unmerged one needs force.
    let task = f.tmp.path().join("three");
    f.repo.worktree_add(&task, "task/three", "main").await.unwrap();
    write(&task, "c.txt", "c\n");
    Worktree::new(&task).commit_all("work", &[]).await.unwrap().unwrap();
    f.repo.worktree_remove(&task, false).await.unwrap();
    assert!(f.repo.delete_branch("task/three", false).await.is_err());
    f.repo.delete_branch("task/three", true).await.unwrap();
    f.repo.delete_branch("task/one", false).await.unwrap();
    assert!(!f.repo.branch_exists("task/one").await.unwrap());
}

#[tokio::test]
async fn worktree_add_reuses_an_existing_branch_after_a_crash() {
    let f = Fixture::new().await;
    let wt = f.task("retry", "c.txt", "kept\n").await;
    let tip = f.sha("retry");
    // Already there: a no-op.
    f.repo.worktree_add(wt.path(), "retry", "main").await.unwrap();
    // Worktree gone, branch left behind: re-attached, commits kept.
    f.repo.worktree_remove(wt.path(), true).await.unwrap();
    f.repo.worktree_add(wt.path(), "retry", "main").await.unwrap();
    assert_eq!(wt.head().await.unwrap(), tip);
    assert_eq!(std::fs::read_to_string(wt.path().join("c.txt")).unwrap(), "kept\n");
}

#[tokio::test]
async fn worktree_rebase_onto_a_moved_base_is_linear() {
    for identity in [true, false] {
        let f = Fixture::with_identity(identity).await;
        let wt = f.task("t", "c.txt", "task\n").await;
        assert_eq!(wt.rebase("main").await.unwrap(), RebaseOutcome::UpToDate);
        let old = wt.head().await.unwrap();
        let base = commit_file(f.root(), "a.txt", "base moved\n");
        assert_eq!(f.repo.unmerged_commits("t", "main").await.unwrap(), 1);

        let RebaseOutcome::Rebased { head } = wt.rebase("main").await.unwrap() else { panic!("not rebased") };
        assert_eq!(head, f.sha("t"));
        assert_ne!(head, old);
        assert_eq!(sh(wt.path(), &["log", "-1", "--format=%P"]), base);
        assert!(f.repo.is_ancestor(&base, "t").await.unwrap());
        assert_eq!(f.repo.unmerged_commits("t", "main").await.unwrap(), 0);
        assert_eq!(f.repo.unmerged_commits("main", "t").await.unwrap(), 1);
        assert_eq!(f.show("t", "c.txt"), "task");
        assert_eq!(std::fs::read_to_string(wt.path().join("a.txt")).unwrap(), "base moved\n");
        assert!(!wt.rebase_in_progress().await.unwrap());
        assert!(wt.dirty_files().await.unwrap().is_empty());
        assert_eq!(wt.rebase("main").await.unwrap(), RebaseOutcome::UpToDate);
        assert_eq!(wt.head().await.unwrap(), head);
    }
}

#[tokio::test]
async fn worktree_rebase_conflict_is_left_in_progress_until_aborted() {
    let f = Fixture::new().await;
    let wt = f.task("t", "a.txt", "task version\n").await;
    // A hook that would fail must not run.
    let hook = f.root().join(".git/hooks/pre-rebase");
    std::fs::write(&hook, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    commit_file(f.root(), "a.txt", "base version\n");
    let tip = f.sha("t");
    assert!(!wt.rebase_in_progress().await.unwrap());

    let out = wt.rebase("main").await.unwrap();
    assert_eq!(out, RebaseOutcome::Conflicted { files: vec!["a.txt".into()] });
    assert!(wt.rebase_in_progress().await.unwrap());
    let text = std::fs::read_to_string(wt.path().join("a.txt")).unwrap();
    assert!(text.contains("<<<<<<<") && text.contains("base version") && text.contains("task version"), "{text}");
    let err = wt.rebase("main").await.unwrap_err();
    assert!(matches!(err, GitError::Refused { .. }), "{err:?}");
    assert!(err.to_string().contains("rebase is already in progress"), "{err}");
    // What bosun checks before an agent runs here, and before it commits.
    let left = wt.unfinished().await.unwrap().expect("unfinished");
    assert_eq!((left.operation, left.conflicted.clone()), (Some("rebase"), vec!["a.txt".to_string()]));
    assert_eq!(left.describe(), "mid-rebase with conflicts in: a.txt");
    assert_eq!(wt.branch().await.unwrap(), None, "detached mid-rebase");
    let files = ["a.txt".to_string(), "b.txt".to_string(), "gone.txt".to_string()];
    assert_eq!(wt.with_conflict_markers(&files).await, ["a.txt"]);

    wt.abort_rebase().await.unwrap();
    assert!(!wt.rebase_in_progress().await.unwrap());
    assert_eq!(wt.unfinished().await.unwrap(), None);
    assert_eq!(wt.branch().await.unwrap().as_deref(), Some("t"));
    assert!(wt.with_conflict_markers(&files).await.is_empty());
    assert_eq!(wt.head().await.unwrap(), tip);
    assert_eq!(f.sha("t"), tip);
    assert_eq!(sh(wt.path(), &["symbolic-ref", "--short", "HEAD"]), "t");
    assert_eq!(std::fs::read_to_string(wt.path().join("a.txt")).unwrap(), "task version\n");
    assert!(wt.abort_rebase().await.is_err());
}

#[tokio::test]
async fn worktree_rebase_refuses_uncommitted_changes() {
    let f = Fixture::new().await;
    let wt = f.task("t", "c.txt", "task\n").await;
    commit_file(f.root(), "a.txt", "base moved\n");
    let tip = f.sha("t");
    for file in ["c.txt", "untracked.txt"] {
        write(wt.path(), file, "uncommitted edit\n");
        let err = wt.rebase("main").await.unwrap_err();
        assert!(matches!(err, GitError::Refused { .. }), "{err:?}");
        assert!(err.to_string().contains(&format!("uncommitted changes in: {file}")), "{err}");
        assert_eq!(std::fs::read_to_string(wt.path().join(file)).unwrap(), "uncommitted edit\n");
        assert_eq!(f.sha("t"), tip);
        assert!(!wt.rebase_in_progress().await.unwrap());
        sh(wt.path(), &["stash", "-q", "-u"]);
    }
    assert!(matches!(wt.rebase("no-such-branch").await, Err(GitError::Failed { .. })));
}

#[tokio::test]
async fn worktree_discard_clears_locked_and_half_made_worktrees() {
    let f = Fixture::new().await;
    let repo = Repo::open(f.root()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A worktree left locked the way an interrupted `git worktree add` leaves it.
    let locked = dir.path().join("locked");
    repo.worktree_add(&locked, "t-locked", "main").await.unwrap();
    sh(f.root(), &["worktree", "lock", "--reason", "initializing", locked.to_str().unwrap()]);
    let entry = repo.worktrees().await.unwrap().into_iter().find(|w| w.branch.as_deref() == Some("t-locked")).unwrap();
    assert_eq!(entry.locked.as_deref(), Some("initializing"));
    repo.worktree_discard(&locked).await.unwrap();
    // A registration whose directory is gone, locked too (prune alone keeps it).
    let gone = dir.path().join("gone");
    repo.worktree_add(&gone, "t-gone", "main").await.unwrap();
    sh(f.root(), &["worktree", "lock", gone.to_str().unwrap()]);
    std::fs::remove_dir_all(&gone).unwrap();
    repo.worktree_discard(&gone).await.unwrap();
    let left = repo.worktrees().await.unwrap();
    assert_eq!(left.len(), 1, "only the main worktree is left: {left:?}");
    assert!(!locked.exists());
    // The branches stay: discarding a worktree is not deleting work.
    assert!(repo.branch_exists("t-locked").await.unwrap() && repo.branch_exists("t-gone").await.unwrap());
}

#[tokio::test]
async fn a_pool_worktree_is_handed_over_only_at_the_bases_head_and_moved_in_place() {
    let f = Fixture::new().await;
    let root = f.repo.root().to_path_buf();
    let head = f.repo.rev_parse("main").await.unwrap();
    let (pooled, task) = (f.tmp.path().join("pool-1"), f.tmp.path().join("7-task"));
    f.repo.worktree_add_detached(&pooled, &head).await.unwrap();
    let wt = Worktree::new(&pooled);
    assert_eq!(wt.branch().await.unwrap(), None, "detached: no placeholder branch");
    // The base moves: the hand-over refuses and changes nothing.
    let moved = commit_file(&root, "c.txt", "c\n");
    let stale = wt.take_as_branch("bosun/7-task", &head, "main").await;
    assert!(matches!(stale, Err(bosun_git::TakeError::Stale)), "{stale:?}");
    assert!(!f.repo.branch_exists("bosun/7-task").await.unwrap());
    assert_eq!(wt.branch().await.unwrap(), None);
    // Moved forward, it is handed over at the new head.
    wt.fast_forward(&moved).await.unwrap();
    wt.take_as_branch("bosun/7-task", &moved, "main").await.unwrap();
    assert_eq!(wt.branch().await.unwrap().as_deref(), Some("bosun/7-task"));
    assert_eq!(f.repo.rev_parse("bosun/7-task").await.unwrap(), moved);
    assert!(pooled.join("c.txt").exists());
    // A branch that exists already is refused, not overwritten.
    let again = Worktree::new(&pooled).take_as_branch("bosun/7-task", &moved, "main").await;
    assert!(matches!(again, Err(bosun_git::TakeError::Git(_))), "{again:?}");
    // Relocated without git, git still knows it, at its new place, whole.
    f.repo.worktree_relocate(&pooled, &task).await.unwrap();
    let listed = f.repo.worktrees().await.unwrap();
    let entry = listed.iter().find(|w| w.path == task).unwrap_or_else(|| panic!("{listed:?}"));
    assert!(!entry.prunable && entry.branch.as_deref() == Some("bosun/7-task"), "{entry:?}");
    assert!(!pooled.exists());
    assert_eq!(Worktree::new(&task).dirty_files().await.unwrap(), Vec::<String>::new());
}
