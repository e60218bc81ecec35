//! Work that survives the daemon: agents keep running under their holders while the
//! daemon is down (SIGTERM for an upgrade, SIGKILL for a crash), and the next daemon
//! takes them back — same processes, every line once and in order, a pending ask
//! still answerable.

use bosun_mock_model::{Family, Script, Turn};
use serde_json::{Value, json};

use crate::harness::{World, alive, wait_for};
use crate::real_clis::{cli, mock};

const PRINTERS: usize = 9;
/// Lines each printer prints before and after the daemon comes back.
const BEFORE: usize = 150;
const AFTER: usize = 20;

fn outputs(w: &World, id: i64) -> Vec<String> {
    w.events(id).iter().filter(|e| e["type"] == "output").map(|e| e["line"].as_str().unwrap().to_string()).collect()
}

fn expected() -> Vec<String> {
    (0..BEFORE).map(|i| format!("a{i}")).chain((0..AFTER).map(|i| format!("b{i}"))).collect()
}

fn pid(task: &Value) -> i64 {
    task["runs"][0]["pid"].as_i64().expect("the run has a pid")
}

/// 9 agents mid-output and one waiting for an answer; the daemon goes away (`kill`
/// it one way or another); while it is down the agents go on printing; it comes back.
fn agents_outlive_the_daemon(kill: fn(&mut World)) {
    let mut w = World::new("app");
    let back = w.path("shared/back");
    w.agent(
        "printer",
        None,
        &[
            // 100 lines a second: lines are in flight (in pipes, in memory) at the kill.
            json!({"repeat": {"times": BEFORE, "every_ms": 10, "step": {"print": "a{i}"}}}),
            // Proof that it printed everything while the daemon was away.
            json!({"write": {"path": "printed.txt", "content": "all of a\n"}}),
            json!({"wait_file": back}),
            json!({"repeat": {"times": AFTER, "every_ms": 5, "step": {"print": "b{i}"}}}),
        ],
    );
    w.agent_with(
        "asker",
        "interactive: true\n",
        &[
            json!({"read_prompt": true}),
            json!({"print": "asking"}),
            json!({"ask": {"id": "deploy-1", "tool": "Bash", "kind": "command", "command": "make deploy"}}),
            json!({"print": "after the answer"}),
        ],
    );
    w.start(&["--max-concurrent", "16"]);
    let printers: Vec<i64> = (0..PRINTERS).map(|n| w.add(&format!("Printer {n}"), "printer")).collect();
    let asker = w.add("Deploy", "asker");
    w.wait_status(asker, "needs_input");
    let approval = wait_for("the ask to be listed", || w.json(&["approvals"]).as_array()?.first().cloned());
    for &id in &printers {
        wait_for("the printer to be mid-output", || (outputs(&w, id).len() >= 5).then_some(()));
    }
    let before: Vec<(i64, i64)> = printers.iter().chain([&asker]).map(|&id| (id, pid(&w.task(id)))).collect();
    let spools: Vec<_> =
        printers.iter().map(|&id| w.path(&format!("data/logs/{id}/{}.spool", w.task(id)["runs"][0]["id"].as_i64().unwrap()))).collect();

    kill(&mut w);
    for &(id, pid) in &before {
        assert!(alive(pid), "task {id}'s agent (pid {pid}) outlived the daemon");
    }
    // While the daemon is away, every printer finishes its first part.
    for &id in &printers {
        let worktree = w.path(&format!("data/worktrees/{id}-printer-{}", id - 1));
        wait_for("a printer to print while the daemon is down", || worktree.join("printed.txt").exists().then_some(()));
    }
    // The holder stamps a line when it reads it from the pipe, which can be a moment
    // after the agent went on: the last line is in each spool before the daemon is back.
    let last = format!("\"a{}\"", BEFORE - 1);
    for spool in &spools {
        wait_for("the holder to spool the last line", || std::fs::read_to_string(spool).ok()?.contains(&last).then_some(()));
    }

    let restarted = chrono::Utc::now();
    w.start(&["--max-concurrent", "16"]);
    for &(id, pid) in &before {
        let t = w.task(id);
        assert_eq!(t["runs"].as_array().unwrap().len(), 1, "still the first run: {t}");
        assert_eq!(self::pid(&t), pid, "the same process");
    }
    let pending = w.json(&["approvals"]);
    assert_eq!(pending.as_array().unwrap().len(), 1, "the ask is still pending: {pending}");
    assert_eq!(pending[0]["id"], approval["id"]);
    assert_eq!(w.task(asker)["status"], "needs_input");
    w.bosun(&["approve", &asker.to_string(), "--approval", &approval["id"].to_string()]);
    std::fs::write(&back, "").unwrap();

    for &id in &printers {
        w.wait_status(id, "review");
        assert_eq!(outputs(&w, id), expected(), "task {id}: every line once, in order");
        // A line printed while the daemon was away keeps the time it was printed.
        let events = w.events(id);
        let last_before = events.iter().find(|e| e["type"] == "output" && e["line"] == format!("a{}", BEFORE - 1)).unwrap();
        let at: chrono::DateTime<chrono::Utc> = last_before["ts"].as_str().unwrap().parse().unwrap();
        assert!(at < restarted, "printed at {at}, before the restart at {restarted}");
    }
    w.wait_status(asker, "review");
    let said: Vec<String> = w
        .events(asker)
        .iter()
        .filter(|e| e["type"] == "message" && e["source"] == "agent")
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .collect();
    assert!(said.contains(&"approved".to_string()), "the answer after the restart reached the agent: {said:?}");
    assert_eq!(outputs(&w, asker), ["asking", "after the answer"]);
}

#[test]
fn agents_outlive_a_sigterm_of_the_daemon() {
    agents_outlive_the_daemon(|w| assert!(w.stop_daemon().success(), "SIGTERM is a clean exit"));
}

#[test]
fn agents_outlive_a_sigkill_of_the_daemon() {
    agents_outlive_the_daemon(World::kill_daemon);
}

/// An agent that finished while the daemon was down: its holder has left, and the
/// next daemon finishes the run from the spool.
#[test]
fn an_agent_that_ended_while_the_daemon_was_down_is_finished_from_its_spool() {
    let mut w = World::new("app");
    let go = w.path("shared/go");
    w.agent(
        "worker",
        None,
        &[
            json!({"print": "started"}),
            json!({"wait_file": go}),
            json!({"write": {"path": "result.txt", "content": "done\n"}}),
            json!({"print": "finished"}),
        ],
    );
    w.start(&[]);
    let id = w.add("Quick job", "worker");
    wait_for("the agent to print", || (outputs(&w, id) == ["started"]).then_some(()));
    let agent = pid(&w.task(id));
    let socket = w.path("data/logs/1/1.sock");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "only the user may talk to the agent's holder");
    w.kill_daemon();
    std::fs::write(&go, "").unwrap();
    wait_for("the agent and its holder to end", || (!alive(agent) && w.holders().is_empty()).then_some(()));

    w.start(&[]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"][0]["status"], "succeeded", "{t}");
    assert_eq!(outputs(&w, id), ["started", "finished"]);
    let branch = t["branch"].as_str().unwrap();
    assert_eq!(crate::harness::git(&w.repo, &["show", &format!("{branch}:result.txt")]), "done");
    assert!(!socket.exists() && !w.path("data/logs/1/1.spool").exists(), "the holder's files go with the run");
}

/// A real CLI waiting for an answer when the daemon restarts: the new daemon's
/// driver rebuilds the runtime's protocol state from the spool, so the answer given
/// after the restart reaches the same process and the run completes. `w` runs a
/// daemon started with `env`, and a profile `agent` whose model asks first.
fn a_real_cli_waiting_for_an_answer_survives_a_restart(mut w: World, env: (&str, &std::path::Path)) {
    let env = [(env.0, env.1.to_str().unwrap())];
    let id = w.add("Check things", "agent");
    w.wait_status(id, "needs_input");
    let agent = pid(&w.task(id));
    assert!(w.stop_daemon().success());
    assert!(alive(agent), "the CLI outlived the daemon");
    w.start_with_env(&[], &env);
    assert_eq!(w.task(id)["status"], "needs_input", "still waiting for the answer");
    w.bosun(&["approve", &id.to_string()]);
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(pid(&t), agent);
    let wt = t["worktree"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(format!("{wt}/check.txt")).unwrap(), "checked\n");
    let said: Vec<Value> = w.events(id).into_iter().filter(|e| e["type"] == "message" && e["source"] == "agent").collect();
    assert_eq!(said.iter().filter(|e| e["text"] == "Checked.").count(), 1, "{said:?}");
}

#[test]
fn claude_code_waiting_for_an_answer_survives_a_daemon_restart() {
    let Some(claude) = cli("claude") else { return };
    let ask = Turn::tool("Bash", json!({"command": "echo checked > check.txt", "description": "Check"}));
    let (_rt, mock) = mock(Script::new().turn(Family::Anthropic, ask).turn(Family::Anthropic, Turn::text("Checked.")));
    let mut w = World::new("app");
    crate::real_clis::claude_profile(&w, "agent", &mock, "");
    w.start_with_env(&[], &[("BOSUN_CLAUDE_PATH", claude.to_str().unwrap())]);
    a_real_cli_waiting_for_an_answer_survives_a_restart(w, ("BOSUN_CLAUDE_PATH", &claude));
}

#[test]
fn codex_waiting_for_an_answer_survives_a_daemon_restart() {
    let Some(codex) = cli("codex") else { return };
    let ask = Turn::tool("exec_command", json!({"cmd": "echo checked > check.txt"}));
    let (_rt, mock) = mock(Script::new().turn(Family::OpenAi, ask).turn(Family::OpenAi, Turn::text("Checked.")));
    let mut w = World::new("app");
    crate::codex::codex_profile(&w, "agent", &mock);
    w.start_with_env(&[], &[("BOSUN_CODEX_PATH", codex.to_str().unwrap())]);
    a_real_cli_waiting_for_an_answer_survives_a_restart(w, ("BOSUN_CODEX_PATH", &codex));
}

#[test]
fn gemini_waiting_for_an_answer_survives_a_daemon_restart() {
    let Some(gemini) = cli("gemini") else { return };
    let ask = Turn::tool("run_shell_command", json!({"command": "echo checked > check.txt", "description": "Check"}));
    let (_rt, mock) = mock(Script::new().turn(Family::Gemini, ask).turn(Family::Gemini, Turn::text("Checked.")));
    let w = crate::gemini::gemini_world(&mock, crate::gemini::GEMINI);
    a_real_cli_waiting_for_an_answer_survives_a_restart(w, ("BOSUN_GEMINI_PATH", &gemini));
}

/// `logs -f` follows a run across a daemon restart: it waits for the daemon, then
/// goes on after the last event it printed — every line once.
#[test]
fn logs_follow_waits_for_a_restarted_daemon() {
    let mut w = World::new("app");
    let go = w.path("shared/go");
    w.agent("worker", None, &[json!({"print": "before"}), json!({"wait_file": go}), json!({"print": "after"})]);
    w.start(&[]);
    let id = w.add("Across a restart", "worker");
    wait_for("the agent to print", || (outputs(&w, id) == ["before"]).then_some(()));
    let mut follower = w.spawn_bosun(&["logs", &id.to_string(), "-f"]);
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let (printed, out) = (printed.clone(), follower.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(out)).map_while(Result::ok) {
                let mut p = printed.lock().unwrap();
                p.push_str(&line);
                p.push('\n');
            }
        })
    };
    wait_for("the follower to print the first line", || printed.lock().unwrap().contains("stdout   before").then_some(()));
    assert!(w.stop_daemon().success());
    w.restart_on_same_address();
    std::fs::write(&go, "").unwrap();
    let out = follower.wait_with_output().unwrap();
    reader.join().unwrap();
    let stdout = printed.lock().unwrap().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().filter_map(|l| l.split_once(" stdout   ").map(|(_, t)| t)).collect();
    assert_eq!(lines, ["before", "after"], "{stdout}");
    assert!(stdout.contains("status   review"), "{stdout}");
    assert!(stderr.contains("lost the daemon") && stderr.contains("the daemon is back"), "{stderr}");
}

/// A run taken back by a restarted daemon keeps its token: the repo's cleanup hook
/// gets the same `BOSUN_RUN_TOKEN` as the agent had (the sweep and the hook find the
/// run's leftovers by it).
#[test]
fn a_run_taken_back_keeps_its_token_for_the_cleanup_hook() {
    let mut w = World::new("app");
    let shared = w.path("shared");
    std::fs::create_dir_all(w.repo.join(".bosun")).unwrap();
    let hook = w.repo.join(".bosun/cleanup");
    std::fs::write(&hook, format!("#!/bin/sh\nprintf %s \"$BOSUN_RUN_TOKEN\" > '{}/hook-token'\n", shared.display())).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    crate::harness::git(&w.repo, &["add", "."]);
    crate::harness::git(&w.repo, &["commit", "-q", "-m", "cleanup hook"]);
    let back = shared.join("back");
    w.agent(
        "keeper",
        None,
        &[
            json!({"run": ["sh", "-c", format!("printf %s \"$BOSUN_RUN_TOKEN\" > '{}/agent-token'", shared.display())]}),
            json!({"wait_file": back}),
        ],
    );
    w.start(&[]);
    let id = w.add("Keep going", "keeper");
    wait_for("the agent to write its token", || std::fs::read_to_string(shared.join("agent-token")).ok().filter(|t| !t.is_empty()));
    w.kill_daemon();
    w.start(&[]);
    std::fs::write(&back, "").unwrap();
    w.wait_status(id, "review");
    let agent = std::fs::read_to_string(shared.join("agent-token")).unwrap();
    let hook = wait_for("the cleanup hook to run", || std::fs::read_to_string(shared.join("hook-token")).ok());
    assert_eq!(hook, agent, "the hook after the restart ran with the run's own token");
}
