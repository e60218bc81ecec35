//! The user's day from the foundation issue, through the real CLI.

use serde_json::json;

use crate::harness::{World, git};

#[test]
fn add_follow_review_diff_merge() {
    let mut w = World::new("app");
    w.agent(
        "echoer",
        None,
        &[
            json!({"read_stdin": true}),
            json!({"echo_env": ["BOSUN_TASK_ID"]}),
            json!({"write": {"path": "hello.txt", "content": "hello from the agent\n"}}),
            json!({"commit": "Add hello.txt"}),
            json!({"write": {"path": "notes.txt", "content": "left uncommitted\n"}}),
            json!({"usage": {"input_tokens": 120, "output_tokens": 30, "cached_tokens": 10, "cost_usd": 0.0125}}),
            json!({"say": "done"}),
        ],
    );
    w.start(&[]);
    let id = w.add("Add a greeting", "echoer");
    assert_eq!(id, 1);

    // logs -f follows until the run ends, then exits 0.
    let followed = w.bosun(&["logs", "1", "-f"]);
    assert!(followed.contains("prompt: Standing instructions for echoer."), "{followed}");
    assert!(followed.contains("BOSUN_TASK_ID=1"), "{followed}");
    assert!(followed.contains("write    hello.txt"), "{followed}");
    assert!(followed.contains("review"), "{followed}");

    let task = w.wait_status(id, "review");
    assert_eq!(task["branch"], "bosun/1-add-a-greeting");
    assert_eq!(task["base"], "main");
    assert_eq!(task["agent"], "echoer");
    let worktree = task["worktree"].as_str().unwrap().to_string();
    assert!(worktree.starts_with(w.path("data").to_str().unwrap()), "worktree under the data dir: {worktree}");
    let run = &task["runs"][0];
    assert_eq!((run["status"].as_str(), run["exit_code"].as_i64()), (Some("succeeded"), Some(0)));
    assert_eq!((run["input_tokens"].as_i64(), run["output_tokens"].as_i64()), (Some(120), Some(30)));
    // The agent printed a cost of 0.0125: a `command` agent's own figure is not what
    // bosun charges, and its profile names no model to price the tokens by.
    assert_eq!(run["cost_usd"], serde_json::Value::Null, "{run}");
    assert!(run["started_at"].is_string() && run["ended_at"].is_string());

    // The normalized events, in order, with sequence numbers.
    let events = w.events(id);
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert!(events.iter().any(|e| e["type"] == "tool_call" && e["kind"] == "write" && e["path"] == "hello.txt"));
    assert!(events.iter().any(|e| e["type"] == "file_change" && e["path"] == "hello.txt" && e["change"] == "added"));
    assert!(events.iter().any(|e| e["type"] == "usage" && e["input_tokens"] == 120));
    assert_eq!(events.last().unwrap()["type"], "status");
    assert_eq!(events.last().unwrap()["status"], "review");

    // The uncommitted file was committed by bosun; the user's checkout is untouched.
    assert!(!w.repo.join("hello.txt").exists());
    assert_eq!(git(&w.repo, &["status", "--porcelain"]), "");
    let log = git(&w.repo, &["log", "--format=%s", "bosun/1-add-a-greeting"]);
    assert!(log.starts_with("bosun T-1: Add a greeting\nAdd hello.txt\ninitial"), "{log}");

    let diff = w.bosun(&["diff", "1"]);
    assert!(diff.contains("+++ b/hello.txt") && diff.contains("+hello from the agent"), "{diff}");
    assert!(diff.contains("+++ b/notes.txt"), "{diff}");

    let human = w.bosun(&["show", "1"]);
    assert!(human.contains("status:    review") && human.contains("bosun/1-add-a-greeting"), "{human}");
    let table = w.bosun(&["ls"]);
    assert!(table.lines().any(|l| l.starts_with("T-1") && l.contains("review") && l.contains("echoer")), "{table}");

    let merged = w.json(&["merge", "1"]);
    assert_eq!(merged["task"]["status"], "done");
    assert_eq!(std::fs::read_to_string(w.repo.join("hello.txt")).unwrap(), "hello from the agent\n");
    assert_eq!(git(&w.repo, &["log", "-1", "--format=%s"]), "Add a greeting (bosun T-1)");
    assert!(!std::path::Path::new(&worktree).exists(), "the merged worktree is cleaned up");
    let ls = w.json(&["ls"]);
    assert_eq!(ls.as_array().unwrap().len(), 1);
    assert_eq!(ls[0]["status"], "done");

    // Merging again is refused with a reason and exit status 1.
    let again = w.try_bosun(&["merge", "1"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("cannot merge a task that is done"));
}

#[test]
fn a_task_without_a_repo_gets_a_scratch_workspace() {
    let mut w = World::new("app");
    w.agent("writer", None, &[json!({"write": {"path": "brief.md", "content": "# Brief\n"}})]);
    w.start(&[]);
    let out = w.bosun(&["add", "Draft the pricing brief", "--agent", "writer"]);
    let id: i64 = out.trim().parse().unwrap();
    let task = w.wait_status(id, "review");
    assert!(task["repo"].is_null() && task["branch"].is_null());
    let ws = task["worktree"].as_str().unwrap();
    assert!(ws.starts_with(w.path("data/workspaces").to_str().unwrap()));
    assert_eq!(std::fs::read_to_string(format!("{ws}/brief.md")).unwrap(), "# Brief\n");
    assert!(w.bosun(&["diff", &id.to_string()]).contains("brief.md"));
    assert_eq!(w.json(&["merge", &id.to_string()])["task"]["status"], "done");
}

#[test]
fn merge_strategies_and_refusals() {
    let mut w = World::new("app");
    w.agent("editor", None, &[json!({"write": {"path": "README.md", "content": "# app, edited by the agent\n"}})]);
    w.start(&[]);
    let id = w.add("Edit the readme", "editor");
    w.wait_status(id, "review");

    // The user has an uncommitted edit of the same file: refused, the edit survives.
    std::fs::write(w.repo.join("README.md"), "# my local edit\n").unwrap();
    let refused = w.try_bosun(&["merge", &id.to_string(), "--strategy", "merge"]);
    assert_eq!(refused.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(msg.contains("README.md"), "{msg}");
    assert_eq!(std::fs::read_to_string(w.repo.join("README.md")).unwrap(), "# my local edit\n");
    assert_eq!(w.task(id)["status"], "review");
    git(&w.repo, &["checkout", "--", "README.md"]);

    // The base moved in a conflicting way: refused naming the file; the branch stays.
    std::fs::write(w.repo.join("README.md"), "# app, edited by the user\n").unwrap();
    git(&w.repo, &["commit", "-qam", "user edit"]);
    let branch_tip = git(&w.repo, &["rev-parse", "bosun/1-edit-the-readme"]);
    let refused = w.try_bosun(&["merge", &id.to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("README.md"));
    assert_eq!(git(&w.repo, &["rev-parse", "bosun/1-edit-the-readme"]), branch_tip);
    git(&w.repo, &["reset", "-q", "--hard", "HEAD~1"]);

    // A real merge commit with --strategy merge; the merged branch is deleted.
    let merged = w.json(&["merge", &id.to_string(), "--strategy", "merge"]);
    assert_eq!(merged["strategy"], "merge");
    assert_eq!(git(&w.repo, &["log", "-1", "--format=%p"]).split(' ').count(), 2);
    assert_eq!(std::fs::read_to_string(w.repo.join("README.md")).unwrap(), "# app, edited by the agent\n");
    assert_eq!(git(&w.repo, &["branch", "--list", "bosun/*"]), "");
}

/// `bosun logs 1 | head -1`: the CLI ends quietly when its reader goes away.
#[test]
fn a_closed_pipe_ends_the_cli_quietly() {
    let mut w = World::new("app");
    w.agent("chatty", None, &[json!({"repeat": {"times": 3000, "every_ms": 0, "step": {"say": "a line long enough to fill a pipe {i}"}}})]);
    w.start(&[]);
    let id = w.add("Talk a lot", "chatty");
    w.wait_status(id, "review");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' logs {id} | head -1", crate::harness::BOSUN))
        .env("BOSUN_URL", &w.url)
        .env("BOSUN_DATA_DIR", w.path("data"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// `ls --repo .` and `agents` work from anywhere inside the repo, as a user types them.
#[test]
fn relative_repo_paths_and_the_current_repo() {
    let mut w = World::new("app");
    std::fs::create_dir_all(w.repo.join(".bosun/agents")).unwrap();
    std::fs::write(w.repo.join(".bosun/agents/local.md"), "---\nname: local\nruntime: command\ncommand: [\"true\"]\n---\n").unwrap();
    w.agent("quick", None, &[json!({"say": "hi"})]);
    w.start(&[]);
    let id = w.add("Something", "quick");
    w.wait_status(id, "review");
    let sub = w.repo.join("src");
    std::fs::create_dir_all(&sub).unwrap();
    let in_sub = |args: &[&str]| {
        let out = std::process::Command::new(crate::harness::BOSUN)
            .args(args)
            .current_dir(&sub)
            .env("BOSUN_URL", &w.url)
            .env("BOSUN_DATA_DIR", w.path("data"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let listed = in_sub(&["ls", "--repo", ".", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let agents = in_sub(&["agents", "--json"]);
    let names: Vec<&str> = agents["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"local"), "the current repo's profiles are listed: {names:?}");
}

/// Terminal colour codes in an agent's output are not stored in its events (the raw
/// run log keeps them), and the daemon's own log has none when it is not a terminal.
#[test]
fn colour_codes_stay_out_of_the_events() {
    let mut w = World::new("app");
    w.agent(
        "colourful",
        None,
        &[json!({"stderr": "\u{1b}[31merror:\u{1b}[0m it is red"}), json!({"print": "\u{1b}[1mbold\u{1b}[0m plain"})],
    );
    w.start(&[]);
    let id = w.add("Colour", "colourful");
    w.wait_status(id, "review");
    let mut lines: Vec<String> =
        w.events(id).iter().filter(|e| e["type"] == "output").map(|e| e["line"].as_str().unwrap().to_string()).collect();
    lines.sort(); // stdout and stderr are read apart: their order is not the point
    assert_eq!(lines, ["bold plain", "error: it is red"]);
    let raw = std::fs::read_to_string(w.path("data/logs/1/1.log")).unwrap();
    assert!(raw.contains("\u{1b}[31merror:"), "the raw log keeps what the agent printed: {raw:?}");
    let daemon_log = std::fs::read_to_string(w.path("daemon.log")).unwrap();
    assert!(!daemon_log.contains('\u{1b}'), "the daemon's log is plain text when not a terminal");
}

/// `serve --help` offers only what serve takes; every client verb keeps `--server`
/// and `--json`.
#[test]
fn serve_help_offers_only_what_serve_takes() {
    let w = World::new("app");
    let help = |args: &[&str]| String::from_utf8(w.try_bosun(args).stdout).unwrap();
    let serve = help(&["serve", "--help"]);
    assert!(serve.contains("--data-dir") && serve.contains("--addr"), "{serve}");
    assert!(!serve.contains("--server") && !serve.contains("--json"), "{serve}");
    for verb in ["ls", "show", "rules", "approvals"] {
        let h = help(&[verb, "--help"]);
        assert!(h.contains("--server") && h.contains("--json"), "{verb}: {h}");
    }
    let out = w.try_bosun(&["serve", "--json", "--data-dir", w.path("data").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--json is for the client verbs, not for serve"), "{out:?}");
}

/// A YAML error in a profile names the line of the file, not of its front matter.
#[test]
fn a_profile_yaml_error_names_the_line_of_the_file() {
    let mut w = World::new("app");
    // Line 5 of the file (the fourth of the front matter) has an unknown field.
    std::fs::write(w.path("config/agents/typo.md"), "---\nname: typo\nruntime: command\ncommand: [\"true\"]\nmodle: x\n---\n").unwrap();
    w.start(&[]);
    let agents = w.json(&["agents"]);
    let error = agents["broken"][0]["error"].as_str().unwrap();
    assert!(error.contains("unknown field `modle`") && error.contains("at line 5 column 1"), "{error}");
    let out = w.try_bosun(&["add", "--repo", w.repo.to_str().unwrap(), "--agent", "typo", "Typo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("typo.md is invalid: invalid front matter: unknown field `modle`"), "{out:?}");
}

/// Dollars are rounded wherever the CLI shows them (and a tiny cost is never shown as
/// zero); `--json` keeps the full figure.
#[test]
fn costs_are_rounded_for_display() {
    let mut w = World::new("app");
    // gpt-5 prices: 1.25 in, 10 out per million tokens.
    let usage = |input: u64, output: u64| json!({"usage": {"input_tokens": input, "output_tokens": output}});
    w.agent_with("priced", "model: gpt-5.5\n", &[usage(1000, 0), usage(0, 521), usage(10, 0)]);
    w.start(&[]);
    let id = w.add("Spend a little", "priced");
    let t = w.wait_status(id, "review");
    let full = t["runs"][0]["cost_usd"].as_f64().unwrap();
    assert!((full - 0.0064725).abs() < 1e-12, "--json keeps the full figure: {full}");
    let ls = w.bosun(&["ls"]);
    assert!(ls.contains(" $0.0065 "), "{ls}");
    let show = w.bosun(&["show", &id.to_string()]);
    assert!(show.contains("cached, $0.0065\n") && show.contains(" $0.0065\n"), "{show}");
    let logs = w.bosun(&["logs", &id.to_string()]);
    for shown in ["1000 in, 0 out, 0 cached, $0.0013", "0 in, 521 out, 0 cached, $0.0052", "10 in, 0 out, 0 cached, <$0.0001"] {
        assert!(logs.contains(shown), "{shown}: {logs}");
    }
    assert!(!format!("{ls}{show}{logs}").contains("0.00647"), "no unrounded figure");
}

/// `/api/agents` asks each CLI its version once (it takes seconds), keeps the answer
/// while the program's file is unchanged, and asks again when it changes (an upgrade).
#[test]
fn agent_versions_are_asked_once_and_again_when_the_binary_changes() {
    let mut w = World::new("app");
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let claude = bin.join("claude");
    let asked = w.path("shared/asked");
    let write_cli = |version: &str| {
        let script = format!("#!/bin/sh\necho asked >> '{}'\necho 'fake-claude {version}'\n", asked.display());
        std::fs::write(&claude, script).unwrap();
        std::fs::set_permissions(&claude, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    };
    write_cli("1.0");
    std::fs::write(w.path("config/agents/cc.md"), "---\nname: cc\nruntime: claude-code\n---\n").unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    w.start_with_env(&[], &[("PATH", &path)]);
    let version = || {
        let agents = w.json(&["agents"]);
        let cc = agents["agents"].as_array().unwrap().iter().find(|a| a["name"] == "cc").unwrap().clone();
        assert_eq!(cc["installed"]["path"], claude.to_str().unwrap(), "{cc}");
        cc["installed"]["version"].as_str().unwrap_or_default().to_string()
    };
    let times_asked = || std::fs::read_to_string(&asked).unwrap_or_default().lines().count();
    // The daemon asks at start-up; after that, every listing is answered from memory.
    crate::harness::wait_for("the start-up probe", || (times_asked() == 1).then_some(()));
    for _ in 0..3 {
        assert_eq!(version(), "fake-claude 1.0");
    }
    assert_eq!(times_asked(), 1, "asked once");
    // An upgrade: new contents, a new modification time.
    write_cli("2.0");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options().write(true).open(&claude).unwrap().set_modified(later).unwrap();
    crate::harness::wait_for("the new version", || (version() == "fake-claude 2.0").then_some(()));
    assert_eq!(version(), "fake-claude 2.0");
    assert_eq!(times_asked(), 2, "asked once more, for the changed file");
}
