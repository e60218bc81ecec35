//! Hostile titles and paths: data, never shell, never outside the data dir.

use serde_json::json;

use crate::harness::{World, git};

#[test]
fn hostile_titles_and_a_repo_path_with_spaces_and_quotes() {
    let mut w = World::new(r#"my "quoted" repo's dir"#);
    w.agent("echoer", None, &[json!({"write": {"path": "out.txt", "content": "ok\n"}})]);
    w.start(&[]);
    let pwned = w.path("PWNED");
    let titles = [
        "\"; rm -rf ~".to_string(),
        "../../etc/passwd".to_string(),
        format!("$(touch {}) `touch {}`", pwned.display(), pwned.display()),
        "日本語のタスク ✨ émoji".to_string(),
        "--force -rf".to_string(),
        "a ".repeat(250).trim_end().to_string(),
    ];
    let data = w.path("data");
    for title in &titles {
        let id = w.add(title, "echoer");
        let t = w.wait_status(id, "review");
        assert_eq!(t["title"].as_str().unwrap(), title.trim(), "the title is stored verbatim");
        let branch = t["branch"].as_str().unwrap();
        let prefix = format!("bosun/{id}-");
        assert!(branch.starts_with(&prefix), "{branch}");
        assert!(branch[prefix.len()..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{branch}");
        let wt = std::path::PathBuf::from(t["worktree"].as_str().unwrap());
        assert_eq!(wt.parent().unwrap(), data.join("worktrees"), "worktree directly under the data dir: {}", wt.display());
        assert_eq!(git(&w.repo, &["show", &format!("{branch}:out.txt")]), "ok");
    }
    assert!(!pwned.exists(), "a title never reaches a shell");
    assert!(std::path::Path::new("/etc/passwd").exists());
    assert_eq!(git(&w.repo, &["status", "--porcelain"]), "", "the user's checkout is untouched");

    // Too long is refused with a reason, exit status 1, nothing queued.
    let long = "x".repeat(501);
    let out = w.try_bosun(&["add", &long, "--agent", "echoer"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("title is longer than 500"));
    assert_eq!(w.json(&["ls"]).as_array().unwrap().len(), titles.len());

    // A hostile base branch never reaches git as an option.
    let out = w.try_bosun(&["add", "x", "--repo", w.repo.to_str().unwrap(), "--base=--upload-pack=touch /tmp/x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid base branch"));
}

#[test]
fn usage_errors_exit_2_and_refusals_exit_1() {
    let mut w = World::new("app");
    w.start(&[]);
    assert_eq!(w.try_bosun(&["show", "not-an-id"]).status.code(), Some(2));
    assert_eq!(w.try_bosun(&["frobnicate"]).status.code(), Some(2));
    let out = w.try_bosun(&["show", "T-42"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "bosun: task 42 not found");
    let out = w.try_bosun(&["add", "x", "--repo", w.path("home").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"), "{out:?}");
    let out = w.try_bosun(&["--server", "http://127.0.0.1:9", "ls"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is `bosun serve` running?"));
}

/// A symlink planted where the next task's workspace will be (a scratch dir, a
/// worktree) does not send the agent to its target: the run fails saying why, and
/// nothing is written there.
#[test]
fn a_planted_symlink_is_not_taken_for_a_workspace() {
    let mut w = World::new("app");
    w.agent("writer", None, &[json!({"write": {"path": "out.txt", "content": "written\n"}})]);
    let target = w.path("elsewhere");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::create_dir_all(w.path("data/workspaces")).unwrap();
    std::fs::create_dir_all(w.path("data/worktrees")).unwrap();
    std::os::unix::fs::symlink(&target, w.path("data/workspaces/1-scratch-job")).unwrap();
    std::os::unix::fs::symlink(&target, w.path("data/worktrees/2-repo-job")).unwrap();
    w.start(&[]);
    let scratch: i64 = w.bosun(&["add", "--agent", "writer", "--", "Scratch job"]).lines().next().unwrap().trim().parse().unwrap();
    let repo_task = w.add("Repo job", "writer");
    for id in [scratch, repo_task] {
        let t = w.wait_status(id, "failed");
        let reason = t["status_reason"].as_str().unwrap();
        assert!(reason.contains("is not a directory bosun made"), "{reason}");
    }
    assert!(!target.join("out.txt").exists(), "nothing was written through the symlink");
}

/// An agent's terminal escapes and NUL bytes are shown, not obeyed, by `bosun logs`
/// and `bosun show`; `--json` keeps them exact.
#[test]
fn terminal_escapes_in_agent_output_are_shown_not_obeyed() {
    let mut w = World::new("app");
    let nasty = "\u{1b}[2J\u{1b}]0;owned\u{7} cleared\u{0}";
    w.agent("noisy", None, &[json!({"print": nasty}), json!({"stderr": nasty}), json!({"exit": 1})]);
    w.start(&[]);
    let id = w.add("Noise", "noisy");
    w.wait_status(id, "failed");
    for verb in ["logs", "show"] {
        let out = w.bosun(&[verb, &id.to_string()]);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{0}') && !out.contains('\u{7}'), "{verb}: {out:?}");
        assert!(out.contains("\\x1b[2J\\x1b]0;owned\\x07 cleared\\x00"), "{verb}: {out}");
    }
    let json = w.bosun(&["logs", &id.to_string(), "--json"]);
    assert!(json.contains(r#"\u001b[2J\u001b]0;owned\u0007 cleared\u0000"#), "--json keeps the text exact: {json}");
}

/// Absurd usage reports (u64::MAX tokens, a 1e308 cost) are not counted: each is an
/// error event saying why, and the run's totals hold what was believable.
#[test]
fn absurd_usage_reports_are_refused() {
    let mut w = World::new("app");
    w.agent(
        "liar",
        None,
        &[
            json!({"usage": {"input_tokens": 100, "output_tokens": 10, "cost_usd": 0.5}}),
            json!({"usage": {"input_tokens": u64::MAX, "output_tokens": u64::MAX}}),
            json!({"usage": {"input_tokens": 1, "cost_usd": 1e308}}),
        ],
    );
    w.start(&[]);
    let id = w.add("Lie about usage", "liar");
    let t = w.wait_status(id, "review");
    let run = &t["runs"][0];
    assert_eq!((run["input_tokens"].as_u64(), run["output_tokens"].as_u64()), (Some(100), Some(10)), "{run}");
    assert!(run["cost_usd"].is_null(), "a command agent's own cost is never charged: {run}");
    let errors: Vec<String> =
        w.events(id).iter().filter(|e| e["type"] == "error").map(|e| e["message"].as_str().unwrap().to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("tokens is more than one report can count") && errors[1].contains("is not between 0 and"), "{errors:?}");
}

/// Clients that trickle their headers in (slowloris) are cut off after the header
/// timeout, and the daemon answers others meanwhile.
#[test]
fn clients_that_trickle_their_headers_are_cut_off() {
    use std::io::{Read, Write};
    let mut w = World::new("app");
    w.start(&["--header-timeout", "1"]);
    let addr = w.url.trim_start_matches("http://").to_string();
    let mut slow: Vec<std::net::TcpStream> = (0..200)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    assert!(w.try_bosun(&["ls"]).status.success(), "the daemon answers while they hang");
    for s in &mut slow {
        s.set_read_timeout(Some(crate::harness::TIMEOUT)).unwrap();
        let mut buf = [0u8; 512];
        // The server closes the connection (perhaps after a 408): never a read timeout.
        match s.read(&mut buf) {
            Ok(n) => assert!(n == 0 || buf.starts_with(b"HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(&buf[..n])),
            Err(e) => assert!(e.kind() == std::io::ErrorKind::ConnectionReset, "the connection was left open: {e}"),
        }
    }
}

/// A task's own workspace (where its agent may have written `.bosun/setup` or a
/// profile, and made a repo of it) is refused as another task's repo, also through a
/// symlink, and so is a linked worktree of a task.
#[test]
fn a_task_workspace_is_refused_as_a_repo() {
    let mut w = World::new("app");
    w.agent(
        "writer",
        None,
        &[json!({"write": {"path": ".bosun/setup", "content": "#!/bin/sh\ntouch PWNED\n"}}), json!({"run": ["git", "init", "-q"]})],
    );
    w.start(&[]);
    let scratch: i64 = w.bosun(&["add", "--agent", "writer", "--", "Scratch"]).lines().next().unwrap().trim().parse().unwrap();
    let scratch_dir = w.wait_status(scratch, "review")["worktree"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&scratch_dir).join(".git").exists(), "the agent made a repo of its workspace");
    let id = w.add("In the repo", "writer");
    let worktree = w.wait_status(id, "review")["worktree"].as_str().unwrap().to_string();
    let link = w.path("innocent");
    std::os::unix::fs::symlink(&scratch_dir, &link).unwrap();
    for repo in [scratch_dir.as_str(), link.to_str().unwrap(), worktree.as_str()] {
        let out = w.try_bosun(&["add", "--repo", repo, "--agent", "writer", "--", "Second"]);
        assert_eq!(out.status.code(), Some(1), "{repo}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("is inside bosun's data dir"), "{out:?}");
    }
    assert_eq!(w.json(&["ls"]).as_array().unwrap().len(), 2, "nothing more was queued");
}
