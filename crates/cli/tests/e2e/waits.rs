//! What a task waits for, said everywhere it is shown: a queued task's reason (its
//! profile's limit, a dependency, the daemon's global limit, its start) in `ls`, `show`
//! and `--json`; a needs_input task's asks in `show` and `approvals`.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{World, wait_for};

/// Waits until `id`'s `waiting.text` is `text`, and returns the task.
fn wait_reason(w: &World, id: i64, text: &str) -> Value {
    wait_for(&format!("T-{id} to wait for `{text}`"), || {
        let t = w.task(id);
        (t["waiting"]["text"] == text).then_some(t)
    })
}

/// The `ls` row of `id`.
fn ls_row(w: &World, id: i64) -> String {
    let out = w.bosun(&["ls"]);
    out.lines().find(|l| l.starts_with(&format!("T-{id} "))).unwrap_or_else(|| panic!("T-{id} in {out}")).to_string()
}

fn add_after(w: &World, title: &str, agent: &str, dep: i64) -> i64 {
    let repo = w.repo.to_str().unwrap();
    w.bosun(&["add", "--repo", repo, "--agent", agent, "--after", &dep.to_string(), "--", title]).trim().parse().unwrap()
}

fn sqlite(w: &World, sql: &str) {
    let out =
        Command::new("sqlite3").args(["-cmd", ".timeout 10000"]).arg(w.path("data/bosun.db")).arg(sql).output().expect("sqlite3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_queued_task_says_whether_it_waits_for_its_profile_or_a_dependency() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("solo", Some(1), &[json!({"wait_file": gate}), json!({"say": "done"})]);
    w.start(&[]);
    let first = w.add("First", "solo");
    w.wait_status(first, "running");
    assert_eq!(w.task(first)["waiting"], Value::Null, "a running task waits for nothing");
    let second = w.add("Second", "solo");
    let t = wait_reason(&w, second, "solo 1/1 running");
    assert_eq!(t["waiting"], json!({"kind": "profile_limit", "profile": "solo", "running": 1, "limit": 1, "text": "solo 1/1 running"}));
    let row = ls_row(&w, second);
    assert!(row.contains("queued") && row.contains("solo 1/1 running"), "{row}");
    let shown = w.bosun(&["show", &second.to_string()]);
    assert!(shown.contains("waiting:   solo 1/1 running"), "{shown}");

    let third = add_after(&w, "After the first", "solo", first);
    let t = wait_reason(&w, third, &format!("after T-{first}, which is running"));
    assert_eq!((t["waiting"]["kind"].as_str(), t["waiting"]["task"].as_i64()), (Some("dependency"), Some(first)));
    assert!(ls_row(&w, third).contains(&format!("after T-{first}, which is running")));

    // The first finishes: the second starts (and waits no more), the third waits on
    // the first's review.
    std::fs::write(&gate, "").unwrap();
    w.wait_status(first, "review");
    wait_reason(&w, third, &format!("after T-{first}, which is in review"));
    let shown = w.bosun(&["show", &third.to_string()]);
    assert!(shown.contains(&format!("waiting:   after T-{first}, which is in review")), "{shown}");
    let t = w.wait_status(second, "review");
    assert_eq!(t["waiting"], Value::Null);
    w.bosun(&["merge", &first.to_string()]);
    let t = w.wait_status(third, "review");
    assert_eq!(t["waiting"], Value::Null);
}

#[test]
fn a_queued_task_says_when_it_waits_for_the_global_limit_or_its_start() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("gated", None, &[json!({"wait_file": gate})]);
    w.start(&["--max-concurrent", "1"]);
    let first = w.add("First", "gated");
    w.wait_status(first, "running");
    let second = w.add("Second", "gated");
    let t = wait_reason(&w, second, "global limit: 1/1 running");
    assert_eq!(t["waiting"]["kind"], "global_limit");
    assert!(ls_row(&w, second).contains("global limit: 1/1 running"));

    // A run the store cannot start yet: the task has been picked and says it is
    // starting until it does.
    sqlite(&w, "CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END;");
    std::fs::write(&gate, "").unwrap();
    w.wait_status(first, "review");
    let t = wait_reason(&w, second, "starting");
    assert_eq!(t["status"], "queued");
    assert!(ls_row(&w, second).contains("starting"));
    sqlite(&w, "DROP TRIGGER no_runs;");
    let t = w.wait_status(second, "review");
    assert_eq!(t["waiting"], Value::Null);
}

#[test]
fn a_task_that_needs_input_shows_its_asks_and_how_to_answer_them() {
    let mut w = World::new("app");
    w.agent_with(
        "careful",
        "interactive: true\n",
        &[json!({"read_prompt": true}), json!({"ask": {"id": "a1", "tool": "Bash", "kind": "command", "command": "rm -rf build"}})],
    );
    w.start(&[]);
    let id = w.add("Careful work", "careful");
    w.wait_status(id, "needs_input");
    let pending = w.json(&["approvals"]);
    let approval = pending[0]["id"].as_i64().unwrap();

    let shown = w.bosun(&["show", &id.to_string()]);
    let waiting = shown.lines().find(|l| l.starts_with("waiting:")).unwrap_or_else(|| panic!("{shown}"));
    assert!(waiting.contains(&format!("approval #{approval} (")) && waiting.ends_with("ago): Bash rm -rf build"), "{waiting}");
    assert!(shown.contains(&format!("bosun approve {id} / bosun deny {id}")), "{shown}");
    let row = ls_row(&w, id);
    assert!(row.contains("needs_input") && row.contains("asks Bash rm -rf build"), "{row}");

    let listed = w.bosun(&["approvals"]);
    let mut lines = listed.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["TASK", "APPROVAL", "AGE", "AGENT", "ASK"]);
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    // The task id leads: it is what approve and deny take.
    assert_eq!(row[..2], [format!("T-{id}").as_str(), &format!("#{approval}")]);
    assert!(row[2].ends_with('s') || row[2].ends_with('m'), "an age like 3s or 3m: {row:?}");
    assert_eq!(row[3..7], ["careful", "Bash", "rm", "-rf"]);
    assert_eq!(lines.next().unwrap().trim(), format!("answer: bosun approve {id} / bosun deny {id}"));
    w.bosun(&["approve", &id.to_string()]);
    w.wait_status(id, "review");
}

/// A command with a second line is shown with its line break, on one line: the
/// second line cannot hide behind a harmless first one.
#[test]
fn a_multi_line_command_is_shown_with_its_line_breaks() {
    let mut w = World::new("app");
    let command = "echo hello\nrm -rf ~/important";
    w.agent_with(
        "sly",
        "interactive: true\n",
        &[json!({"read_prompt": true}), json!({"ask": {"id": "a1", "tool": "Bash", "kind": "command", "command": command}})],
    );
    w.start(&[]);
    let id = w.add("Sly work", "sly");
    w.wait_status(id, "needs_input");
    let shown = r"Bash echo hello\nrm -rf ~/important";
    for args in [vec!["approvals"], vec!["show", &id.to_string()], vec!["logs", &id.to_string()]] {
        let out = w.bosun(&args);
        assert!(out.contains(shown), "{args:?}: {out}");
    }
    assert_eq!(w.json(&["approvals"])[0]["command"], command, "--json keeps it exact");
}
