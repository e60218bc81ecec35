//! Non-code work, through the real binary: a scratch task's files are its deliverables
//! (with sizes, and the descriptions the agent gave), a declared path that leaves the
//! workspace is refused, `open` prints one as delivered (a discard removes those copies), the API serves text as text
//! and HTML only as a download, `accept --to` copies them out (never overwriting
//! without `--force`) and closes the task, and a reply's changes are the review's diff.

use serde_json::{Value, json};

use crate::harness::World;

/// GET `path` on the daemon: status, headers, body.
fn get(w: &World, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let (url, token) = (format!("{}{path}", w.url), w.token());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let resp = crate::harness::authed(&token).get(url).send().await.unwrap();
        (resp.status().as_u16(), resp.headers().clone(), resp.bytes().await.unwrap().to_vec())
    })
}

fn get_json(w: &World, path: &str) -> Value {
    let (status, _, body) = get(w, path);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

const REPORT: &str = "# Pricing\n\nAcme is cheaper.\n\n<script>document.title = 'owned'</script>\n";

fn a_scratch_task_in_review(w: &mut World) -> (i64, String) {
    let deliver = |path: &str, description: Option<&str>| {
        let mut line = json!({"type": "deliverable", "path": path});
        if let Some(d) = description {
            line["description"] = json!(d);
        }
        json!({"emit": line})
    };
    w.agent(
        "analyst",
        None,
        &[
            json!({"write": {"path": "report.md", "content": REPORT}}),
            json!({"write": {"path": "data/prices.csv", "content": "vendor,price\nAcme,10\n"}}),
            json!({"write": {"path": "page.html", "content": "<script>alert(1)</script>"}}),
            json!({"write": {"path": ".scratch", "content": "hidden"}}),
            json!({"write": {"path": "node_modules/dep/index.js", "content": "x"}}),
            json!({"run": ["ln", "-s", "/etc/hostname", "leak.txt"]}),
            deliver("report.md", Some("The pricing analysis")),
            deliver("../escape.md", None),
            deliver("/etc/hostname", None),
            deliver("leak.txt", Some("a symlink out")),
        ],
    );
    w.start(&[]);
    let out = w.bosun(&["add", "Competitor pricing analysis", "--agent", "analyst"]);
    let id: i64 = out.trim().parse().unwrap();
    let task = w.wait_status(id, "review");
    (id, task["worktree"].as_str().unwrap().to_string())
}

#[test]
fn a_scratch_tasks_files_are_its_deliverables_and_accept_copies_them_out() {
    let mut w = World::new("app");
    let (id, ws) = a_scratch_task_in_review(&mut w);
    let t = id.to_string();

    let body = get_json(&w, &format!("/api/tasks/{id}/deliverables"));
    let latest: Vec<(&str, u64)> =
        body["latest"].as_array().unwrap().iter().map(|d| (d["path"].as_str().unwrap(), d["size"].as_u64().unwrap())).collect();
    assert_eq!(latest, vec![("data/prices.csv", 21), ("page.html", 25), ("report.md", REPORT.len() as u64)], "{body}");
    let report = body["latest"].as_array().unwrap().iter().find(|d| d["path"] == "report.md").unwrap();
    assert_eq!((report["mime"].as_str(), report["description"].as_str()), (Some("text/markdown"), Some("The pricing analysis")));
    assert_eq!((report["change"].as_str(), report["sha256"].as_str().map(str::len)), (Some("added"), Some(64)));

    // The refused ones say why, and none of them is recorded.
    let errors: Vec<String> =
        w.events(id).iter().filter(|e| e["type"] == "error").map(|e| e["message"].as_str().unwrap().to_string()).collect();
    assert!(errors.iter().any(|m| m.contains("refused a deliverable") && m.contains("../escape.md")), "{errors:?}");
    assert!(errors.iter().any(|m| m.contains("refused a deliverable") && m.contains("/etc/hostname")), "{errors:?}");
    assert!(errors.iter().any(|m| m.contains("\"leak.txt\"") && m.contains("not a regular file")), "{errors:?}");

    let show = w.bosun(&["show", &t]);
    assert!(show.contains("report.md") && show.contains(&format!("{} B", REPORT.len())) && show.contains("The pricing analysis"), "{show}");
    for absent in ["escape", "hostname", "leak.txt", "node_modules", ".scratch"] {
        assert!(!show.contains(absent), "{absent} listed:\n{show}");
    }

    // `open` prints it as delivered, even once the workspace's copy changed.
    std::fs::write(format!("{ws}/report.md"), "changed afterwards").unwrap();
    assert_eq!(w.bosun(&["open", &t, "report.md"]), REPORT);
    let refused = w.try_bosun(&["open", &t, "../escape.md"]);
    assert_eq!(refused.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(msg.contains("leaves the task's workspace") && msg.lines().count() == 1, "{msg}");
    let missing = w.try_bosun(&["open", &t, "nope.md"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("has no deliverable \"nope.md\""));

    // Text is sent as plain text; HTML only as a download of bytes.
    let (status, headers, bytes) = get(&w, &format!("/api/tasks/{id}/deliverables/data%2Fprices.csv"));
    assert_eq!((status, bytes.as_slice()), (200, b"vendor,price\nAcme,10\n".as_slice()));
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline; filename=\"prices.csv\""));
    let (_, headers, _) = get(&w, &format!("/api/tasks/{id}/deliverables/page.html"));
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"page.html\""));
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    let (status, _, _) = get(&w, &format!("/api/tasks/{id}/deliverables/..%2F..%2Fbosun.db"));
    assert_eq!(status, 400, "a path out of the workspace is refused");

    // A file already there: refused, nothing copied, the task still in review.
    let out = w.path("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), "mine").unwrap();
    let dest = out.to_str().unwrap();
    let refused = w.try_bosun(&["accept", &t, "--to", dest]);
    assert_eq!(refused.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(msg.contains("report.md") && msg.contains("--force"), "{msg}");
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "mine");
    assert!(!out.join("data").exists(), "nothing was copied");
    assert_eq!(w.task(id)["status"], "review");

    let accepted = w.json(&["accept", &t, "--to", dest, "--force"]);
    assert_eq!(accepted["task"]["status"], "done", "{accepted}");
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), REPORT);
    assert_eq!(std::fs::read_to_string(out.join("data/prices.csv")).unwrap(), "vendor,price\nAcme,10\n");
    let again = w.try_bosun(&["accept", &t]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("cannot accept a task that is done"));
}

#[test]
fn a_reply_shows_what_changed_in_the_deliverables_since_the_run_before() {
    let mut w = World::new("app");
    w.agent(
        "writer",
        None,
        &[
            json!({"append": {"path": "notes.md", "content": "one more line\n"}}),
            json!({"write": {"path": "same.txt", "content": "unchanged\n"}}),
        ],
    );
    w.start(&[]);
    let id: i64 = w.bosun(&["add", "Keep notes", "--agent", "writer"]).trim().parse().unwrap();
    w.wait_status(id, "review");
    w.bosun(&["reply", &id.to_string(), "another line, please"]);
    // The reply queued it: review again is the second run's end.
    let task = w.wait_status(id, "review");
    assert_eq!(task["runs"].as_array().unwrap().len(), 2);

    let files = get_json(&w, &format!("/api/tasks/{id}/files"));
    let notes = files["files"].as_array().unwrap().iter().find(|f| f["path"] == "notes.md").expect("notes.md listed");
    assert_eq!((notes["additions"].as_u64(), notes["deletions"].as_u64()), (Some(1), Some(0)), "{files}");
    let diff = get_json(&w, &format!("/api/tasks/{id}/files/diff?path=notes.md"));
    let diff = diff["diff"].as_str().unwrap();
    assert!(diff.contains("+one more line") && diff.contains(" one more line"), "{diff}");
    let cli = w.bosun(&["diff", &id.to_string()]);
    assert!(cli.contains("notes.md") && cli.contains("+one more line"), "{cli}");

    // same.txt was written again with the same content: delivered unchanged.
    let all = get_json(&w, &format!("/api/tasks/{id}/deliverables"));
    let change = |path: &str| all["latest"].as_array().unwrap().iter().find(|d| d["path"] == path).unwrap()["change"].clone();
    assert_eq!((change("notes.md"), change("same.txt")), (json!("modified"), json!("unchanged")), "{all}");
    assert!(w.bosun(&["show", &id.to_string()]).contains("(modified in run"));

    // Discarding the task removes the copies bosun kept of its deliverables.
    let kept = w.path(&format!("data/deliverables/{id}"));
    assert!(kept.join(format!("{}/notes.md", task["runs"][1]["id"])).is_file());
    w.bosun(&["discard", &id.to_string(), "--yes"]);
    assert!(!kept.exists());
}

/// The workspace as a run found it is kept on disk: a run taken back by the next
/// daemon delivers what it changed since its start, not what an earlier run left.
#[test]
fn a_run_taken_back_by_the_next_daemon_delivers_only_what_it_changed() {
    let mut w = World::new("app");
    let go = w.path("shared/go");
    w.agent(
        "writer",
        None,
        &[
            json!({"run": ["sh", "-c", "if [ -e first.md ]; then echo more > second.md; else echo one > first.md; fi"]}),
            json!({"print": "ready"}),
            json!({"wait_file": go}),
        ],
    );
    w.start(&[]);
    let id: i64 = w.bosun(&["add", "Two drafts", "--agent", "writer"]).trim().parse().unwrap();
    let readies = |w: &World| w.events(id).iter().filter(|e| e["type"] == "output" && e["line"] == "ready").count();
    crate::harness::wait_for("the first run to be ready", || (readies(&w) == 1).then_some(()));
    std::fs::write(&go, "").unwrap();
    w.wait_status(id, "review");
    std::fs::remove_file(&go).unwrap();

    w.bosun(&["reply", &id.to_string(), "a second draft"]);
    crate::harness::wait_for("the second run to be ready", || (readies(&w) == 2).then_some(()));
    w.kill_daemon();
    w.start(&[]);
    std::fs::write(&go, "").unwrap();
    let task = w.wait_status(id, "review");
    let runs: Vec<i64> = task["runs"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let all = get_json(&w, &format!("/api/tasks/{id}/deliverables"))["all"].clone();
    let seen: Vec<(i64, &str)> =
        all.as_array().unwrap().iter().map(|d| (d["run_id"].as_i64().unwrap(), d["path"].as_str().unwrap())).collect();
    assert_eq!(seen, vec![(runs[0], "first.md"), (runs[1], "second.md")], "{all}");
}

/// On a repo task only what the agent declares is a deliverable; its work is its
/// branch, so it is merged, never accepted (a done task's branch counts as merged).
#[test]
fn a_repo_task_lists_what_it_declares_and_is_merged_not_accepted() {
    let mut w = World::new("app");
    w.agent(
        "coder",
        None,
        &[
            json!({"write": {"path": "src/lib.rs", "content": "pub fn f() {}\n"}}),
            json!({"write": {"path": "docs/summary.md", "content": "# What changed\n"}}),
            json!({"emit": {"type": "deliverable", "path": "docs/summary.md", "description": "the summary"}}),
        ],
    );
    w.start(&[]);
    let id = w.add("Add f", "coder");
    w.wait_status(id, "review");
    let latest = get_json(&w, &format!("/api/tasks/{id}/deliverables"))["latest"].clone();
    let paths: Vec<&str> = latest.as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["docs/summary.md"], "only what it declared: {latest}");
    assert_eq!(w.bosun(&["open", &id.to_string(), "docs/summary.md"]), "# What changed\n");
    let refused = w.try_bosun(&["accept", &id.to_string(), "--to", w.path("out").to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains(&format!("bosun merge {id}")));
    assert!(!w.path("out").exists());
    assert_eq!(w.task(id)["status"], "review");
}
