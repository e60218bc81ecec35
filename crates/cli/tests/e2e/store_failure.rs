//! A store that fails for good while a run's events arrive: nothing that was not
//! stored is shown to anyone, the run fails saying why, and the daemon (and every
//! other task) goes on. The failure is real: a trigger in the daemon's own SQLite
//! file refuses one task's events, as a full disk or a corrupt page would.

use std::process::{Command, Stdio};

use serde_json::json;

use crate::harness::{World, wait_for};

#[test]
fn events_that_cannot_be_stored_are_never_shown_and_the_run_fails() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent(
        "chatty",
        None,
        &[
            json!({"say": "before the failure"}),
            json!({"wait_file": gate}),
            json!({"repeat": {"times": 20, "every_ms": 20, "step": {"say": "after {i}"}}}),
            json!({"wait_file": w.path("shared/never")}),
        ],
    );
    w.agent("fine", None, &[json!({"say": "all good"})]);
    w.start(&[]);
    let id = w.add("Talk", "chatty");
    wait_for("the first message", || w.events(id).iter().any(|e| e["text"] == "before the failure").then_some(()));

    // A live follower, subscribed before the failure.
    let follower = Command::new(env!("CARGO_BIN_EXE_bosun"))
        .args(["logs", &id.to_string(), "-f", "--json"])
        .env("BOSUN_URL", &w.url)
        .env("BOSUN_DATA_DIR", w.path("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let db = w.path("data/bosun.db");
    let poison = format!(
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.task_id = {id} BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END;"
    );
    let out = Command::new("sqlite3").args(["-cmd", ".timeout 10000"]).arg(&db).arg(poison).output().expect("sqlite3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&gate, "").unwrap();

    let task = w.wait_status(id, "failed");
    let reason = task["status_reason"].as_str().unwrap();
    assert!(reason.contains("cannot store this run's events") && reason.contains("disk full (test)"), "{reason}");
    let stored = w.events(id);
    assert!(stored.iter().all(|e| !e["text"].as_str().unwrap_or("").starts_with("after ")), "nothing unstored was stored: {stored:?}");
    let seqs: Vec<i64> = stored.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gaps");

    // The follower saw only what is stored, and ended with the task.
    let out = follower.wait_with_output().unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(seen.contains("before the failure"), "{seen}");
    assert!(!seen.contains("\"after "), "a live follower was shown an event that was never stored: {seen}");

    // Once the store works again, the task runs again: its next run starts afresh.
    let out = Command::new("sqlite3").args(["-cmd", ".timeout 10000"]).arg(&db).arg("DROP TRIGGER poison;").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.bosun(&["retry", &id.to_string()]);
    wait_for("the retried run to log", || {
        let after = w.events(id).iter().filter(|e| e["text"].as_str().is_some_and(|t| t.starts_with("after "))).count();
        (after == 20).then_some(())
    });
    assert_eq!(w.task(id)["status"], "running", "the retry is not failed by the old storage failure");
    w.bosun(&["stop", &id.to_string()]);

    // The daemon goes on: it answers, and another task runs to review with its log.
    let other = w.add("Fine", "fine");
    w.wait_status(other, "review");
    assert!(w.events(other).iter().any(|e| e["text"] == "all good"));
}
