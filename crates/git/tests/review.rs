//! What a reviewer reads of a task branch (per-file line counts, one file's diff, the
//! files that would conflict), against real repositories in temp dirs with the
//! machine's git config sealed off.

use std::path::Path;
use std::process::Command;

use bosun_git::{FileStat, Repo};

fn sh(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn commit(dir: &Path, files: &[(&str, &[u8])], message: &str) {
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    sh(dir, &["add", "-A"]);
    sh(dir, &["commit", "-qm", message]);
}

/// A repo on `main` (a.txt with three lines) and a branch `t` that edits a.txt, adds a
/// binary file and a file whose name looks like a pathspec pattern.
async fn fixture(dir: &Path) -> Repo {
    sh(dir, &["init", "-q", "-b", "main"]);
    commit(dir, &[("a.txt", b"one\ntwo\nthree\n")], "init");
    sh(dir, &["checkout", "-qb", "t"]);
    commit(dir, &[("a.txt", b"one\n2\nthree\nfour\n"), ("img.bin", b"\0\x01\x02"), ("src/*.rs", b"x\n")], "task");
    sh(dir, &["checkout", "-q", "main"]);
    Repo::open(dir).await.unwrap()
}

#[tokio::test]
async fn file_stats_count_lines_per_file_and_mark_binaries() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = fixture(tmp.path()).await;
    let stats = repo.file_stats("main", "t").await.unwrap();
    assert_eq!(
        stats,
        [
            FileStat { path: "a.txt".into(), lines: Some((2, 1)) },
            FileStat { path: "img.bin".into(), lines: None },
            FileStat { path: "src/*.rs".into(), lines: Some((1, 0)) },
        ]
    );
}

#[tokio::test]
async fn one_files_diff_is_that_file_alone_taken_literally() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = fixture(tmp.path()).await;
    let diff = repo.file_diff("main", "t", "a.txt").await.unwrap();
    assert!(diff.starts_with("diff --git a/a.txt b/a.txt"), "{diff}");
    assert!(diff.contains("-two\n+2\n") && diff.contains("+four"), "{diff}");
    assert!(!diff.contains("img.bin"), "{diff}");
    // A name with `*` is not a glob: it matches itself only.
    let star = repo.file_diff("main", "t", "src/*.rs").await.unwrap();
    assert!(star.contains("b/src/*.rs") && !star.contains("a.txt"), "{star}");
    assert_eq!(repo.file_diff("main", "t", "src/nothing.rs").await.unwrap(), "");
}

#[tokio::test]
async fn merge_conflicts_name_the_files_that_would_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = fixture(tmp.path()).await;
    assert!(repo.merge_conflicts("main", "t").await.unwrap().is_empty(), "merges cleanly");
    commit(tmp.path(), &[("a.txt", b"one\nTWO\nthree\n")], "the base edits the same line");
    assert_eq!(repo.merge_conflicts("main", "t").await.unwrap(), ["a.txt"]);
}
