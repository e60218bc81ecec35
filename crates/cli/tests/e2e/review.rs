//! Reviewing like a pull request, through the API the board uses and the CLI: the
//! files list with line counts, one file's diff, what would conflict with the base,
//! line comments that become the agent's next turn (`reply --file`), and a merge with
//! an edited commit message.

use serde_json::{Value, json};

use crate::harness::{World, git};

fn get(w: &World, path: &str) -> (u16, Value) {
    let (url, token) = (format!("{}{path}", w.url), w.token());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let resp = crate::harness::authed(&token).get(url).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    })
}

/// A task in review that rewrote README.md (one line out, two in) and added src/a.rs.
fn a_task_in_review() -> World {
    let mut w = World::new("app");
    w.agent(
        "coder",
        None,
        &[
            json!({"write": {"path": "README.md", "content": "# app\nmore\n"}}),
            json!({"write": {"path": "src/a.rs", "content": "fn a() {}\nfn b() {}\nfn c() {}\n"}}),
            json!({"write": {"path": "Cargo.lock", "content": "# generated\n"}}),
        ],
    );
    w.start(&[]);
    let id = w.add("Write code", "coder");
    w.wait_status(id, "review");
    w
}

#[test]
fn the_files_list_counts_lines_and_one_files_diff_is_served() {
    let w = a_task_in_review();
    let (status, files) = get(&w, "/api/tasks/1/files");
    assert_eq!(status, 200, "{files}");
    let entry = |path: &str| files["files"].as_array().unwrap().iter().find(|f| f["path"] == path).cloned().unwrap();
    assert_eq!((entry("README.md")["additions"].as_u64(), entry("README.md")["deletions"].as_u64()), (Some(1), Some(0)), "{files}");
    assert_eq!(entry("src/a.rs")["additions"], 3);
    assert_eq!((entry("Cargo.lock")["generated"].as_bool(), entry("src/a.rs")["generated"].as_bool()), (Some(true), Some(false)));
    assert_eq!((files["additions"].as_u64(), files["deletions"].as_u64()), (Some(5), Some(0)));
    assert_eq!(files["conflicts"], json!([]));

    let (status, one) = get(&w, "/api/tasks/1/files/diff?path=src/a.rs");
    assert_eq!(status, 200, "{one}");
    let diff = one["diff"].as_str().unwrap();
    assert!(diff.starts_with("diff --git a/src/a.rs b/src/a.rs") && diff.contains("+fn c() {}") && !diff.contains("README"), "{diff}");
    // A path the branch does not change is not served, whatever it names.
    let (status, body) = get(&w, "/api/tasks/1/files/diff?path=../../etc/passwd");
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("does not change"), "{body}");

    // The base moves on the same file: the list names the conflict before any merge.
    std::fs::write(w.repo.join("README.md"), "# the user's app\n").unwrap();
    git(&w.repo, &["commit", "-qam", "the user edits the readme"]);
    let (_, files) = get(&w, "/api/tasks/1/files");
    assert_eq!(files["conflicts"], json!(["README.md"]), "{files}");
    // Both sides of the conflict: the base's change since the fork, and the branch's.
    let (status, theirs) = get(&w, "/api/tasks/1/files/diff?path=README.md&side=base");
    assert_eq!(status, 200, "{theirs}");
    assert!(theirs["diff"].as_str().unwrap().contains("+# the user's app"), "{theirs}");
    let (status, _) = get(&w, "/api/tasks/1/files/diff?path=src/a.rs&side=base");
    assert_eq!(status, 404, "the base never touched src/a.rs");
    let (status, body) = get(&w, "/api/tasks/1/files/diff?path=README.md&side=sideways");
    assert_eq!(status, 400, "{body}");
}

#[test]
fn a_line_comment_from_the_cli_reaches_the_agent_with_its_file_and_line() {
    let w = a_task_in_review();
    w.agent("coder", None, &[json!({"echo_env": ["BOSUN_PROMPT"]})]);
    w.bosun(&["reply", "1", "--file", "src/a.rs:2", "rename b to beta"]);
    w.wait_status(1, "review");
    let prompt = w.events(1).iter().filter_map(|e| e["text"].as_str().map(str::to_owned)).find(|t| t.starts_with("BOSUN_PROMPT="));
    let prompt = prompt.expect("the second run echoed its prompt");
    assert!(prompt.contains("src/a.rs:2:\n> fn b() {}\nrename b to beta"), "{prompt}");

    // A bad place is refused at the door, in one line, and nothing is sent.
    let out = w.try_bosun(&["reply", "1", "--file", "src/a.rs:0", "x"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses it");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not FILE:LINE"));
}

#[test]
fn a_merge_takes_the_edited_commit_message() {
    let w = a_task_in_review();
    let merged = w.json(&["merge", "1", "--strategy", "merge", "--message", "Land the code\n\nReviewed on the board."]);
    assert_eq!(merged["result"], "merged", "{merged}");
    assert_eq!(git(&w.repo, &["log", "-1", "--format=%B"]).trim(), "Land the code\n\nReviewed on the board.");
    assert_eq!(git(&w.repo, &["rev-list", "--parents", "-n1", "HEAD"]).split(' ').count(), 3, "a merge commit");
}

#[test]
fn editing_a_queued_tasks_agent_changes_who_runs_it_and_a_started_one_is_refused() {
    let mut w = World::new("app");
    let gate = w.path("gate");
    w.agent("slow", Some(1), &[json!({"say": "holding"}), json!({"wait_file": gate.to_str().unwrap()})]);
    w.agent("quick", None, &[json!({"say": "quick did it"})]);
    w.start(&[]);
    let holder = w.add("Hold the slot", "slow");
    w.wait_status(holder, "running");
    let id = w.add("Wait behind it", "slow");
    assert_eq!(w.task(id)["status"], "queued");

    let edited = w.json(&["edit", &id.to_string(), "--agent", "quick", "--title", "Done by quick", "--tag", "fast", "--priority", "-2"]);
    assert_eq!(
        (edited["title"].as_str(), edited["tags"].clone(), edited["priority"].as_i64()),
        (Some("Done by quick"), json!(["fast"]), Some(-2))
    );
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"][0]["agent"], "quick", "{t}");

    // No longer queued: refused in one line, nothing changed.
    let out = w.try_bosun(&["edit", &holder.to_string(), "--title", "too late"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only a queued task can be edited"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.task(holder)["title"], "Hold the slot");
    // An unknown agent is refused at the door, as `add` refuses it.
    let queued = w.add("Another in line", "slow");
    let out = w.try_bosun(&["edit", &queued.to_string(), "--agent", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
    std::fs::write(&gate, "").unwrap();
    w.wait_status(holder, "review");
}
