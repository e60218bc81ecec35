//! The data dir's disk: full (a real 20 MB tmpfs an agent fills) — the run fails saying
//! so, requests are refused with 507 while it lasts, and bosun goes on by itself once
//! space is freed — and damaged (the store is checked after an unclean stop).

use std::process::Command;

use serde_json::json;

use crate::harness::{World, wait_for};

/// A tmpfs mounted on a path until dropped (unmounted first, so the world's temporary
/// directory can be removed).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// None where this process may not mount (not root): the test says it is skipped.
    fn mount(path: &std::path::Path, size: &str) -> Option<Tmpfs> {
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(path).output().ok()?;
        out.status.success().then(|| Tmpfs(path.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_full_disk_fails_the_run_refuses_writes_and_bosun_recovers_by_itself() {
    let mut w = World::new("app");
    let Some(_tmpfs) = Tmpfs::mount(&w.path("data"), "20m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let shared = w.path("shared");
    // Fills the disk from inside its scratch workspace (in the data dir), then prints a
    // line every 10 ms (each one an event to store) until bosun stops it.
    let script = format!(
        "trap 'touch {shared}/stopped; exit 143' TERM; until [ -e '{shared}/fill' ]; do sleep 0.01; done; \
         dd if=/dev/zero of=big bs=1M count=40 2>/dev/null; touch '{shared}/full'; \
         i=0; while :; do i=$((i+1)); echo line $i; sleep 0.01; done",
        shared = shared.display()
    );
    let command = serde_json::to_string(&["sh", "-c", &script]).unwrap();
    std::fs::write(w.path("config/agents/filler.md"), format!("---\nname: filler\nruntime: command\ncommand: {command}\n---\nFill.\n"))
        .unwrap();
    w.agent("writer", None, &[json!({"write": {"path": "after.txt", "content": "space again\n"}})]);
    w.start(&[]);
    let out = w.bosun(&["add", "--agent", "filler", "--", "Fill the disk"]);
    let id: i64 = out.lines().next().unwrap().trim().parse().unwrap();
    // Every credential was last seen long ago: authenticating would like to write that
    // it was seen now, which a full disk refuses — reads must work all the same.
    let sql = Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(w.path("data/bosun.db"))
        .arg("UPDATE credentials SET last_seen_at = 0")
        .output()
        .unwrap();
    assert!(sql.status.success(), "{sql:?}");
    std::fs::write(shared.join("fill"), "").unwrap();
    wait_for("the agent to fill the disk", || shared.join("full").exists().then_some(()));
    assert!(w.bosun(&["ls"]).contains("Fill the disk"), "reads work while the disk is full");

    // While the disk is full a new task is refused, saying why; nothing is half-made.
    let refused = wait_for("a write to be refused", || {
        let out = w.try_bosun(&["add", "--agent", "writer", "--", "During"]);
        (!out.status.success()).then_some(out)
    });
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("the disk holding bosun's data is full"), "{}", stderr(&refused));
    let titles: Vec<String> = w.json(&["ls"]).as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect();
    assert!(!titles.iter().any(|t| t == "During"), "a refused task is not shown: {titles:?}");

    // bosun cannot store the agent's lines: it stops the agent (whose task stays
    // `running` in the store, the only place it can say so, while the disk is full).
    wait_for("bosun to stop the agent", || shared.join("stopped").exists().then_some(()));
    assert_eq!(w.task(id)["status"], "running");

    // Space returns: the run ends failed saying the disk was full, and work goes on.
    std::fs::remove_file(w.path(&format!("data/workspaces/{id}-fill-the-disk/big"))).unwrap();
    let task = w.wait_status(id, "failed");
    let reason = task["status_reason"].as_str().unwrap_or_default().to_string();
    assert!(reason.contains("the disk holding bosun's data is full"), "{task}");
    let after = w.add("After", "writer");
    w.wait_status(after, "review");
    assert!(w.bosun(&["diff", &after.to_string()]).contains("+space again"));
    // The restarted daemon finds everything it showed.
    w.stop_daemon();
    w.start(&[]);
    assert_eq!(w.task(id)["status"], "failed");
    assert_eq!(w.task(after)["status"], "review");
}

#[test]
fn after_an_unclean_stop_the_store_is_checked_and_a_damaged_one_refused() {
    let mut w = World::new("app");
    w.agent("writer", None, &[json!({"write": {"path": "a.txt", "content": "a\n"}})]);
    w.start(&[]);
    let id = w.add("Something to keep", "writer");
    w.wait_status(id, "review");
    // The data dir (made 0755 by the test) is closed to other users once the daemon ran.
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(w.path("data")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    let log_path = w.path("daemon.log");
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    const CHECKED: &str = "the last daemon did not stop cleanly: the store checked out whole";

    // A clean stop: the next start has nothing to check.
    w.stop_daemon();
    w.start(&[]);
    assert!(!log().contains(CHECKED), "no check after a clean stop");
    // A kill: the next start checks, and the store is whole.
    w.kill_daemon();
    w.start(&[]);
    assert!(log().contains(CHECKED), "checked after a kill");
    assert_eq!(w.task(id)["status"], "review");

    // Damage: the database's pages overwritten after a kill (the clean stop before it
    // moved every page into the main file). The daemon refuses to run on it, says what
    // to do, and does not touch it.
    w.stop_daemon();
    w.start(&[]);
    w.kill_daemon();
    let db = w.path("data/bosun.db");
    for wal in ["bosun.db-wal", "bosun.db-shm"] {
        let _ = std::fs::remove_file(w.path(&format!("data/{wal}")));
    }
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() > 3 * page, "a database of several pages");
    let end = bytes.len() - 1;
    for b in &mut bytes[page + 8..end] {
        *b ^= 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = w.try_bosun(&["serve", "--addr", "127.0.0.1:0", "--data-dir", w.path("data").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("is damaged") && err.contains(".recover") && !err.contains("bosun serving"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "the damaged file is left as it was");
}
