//! Concurrency limits, stop, crash recovery, retry, failures.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::harness::{World, alive, git, wait_for};

/// The pids the fake agent reported with `spawn` steps.
fn spawned_pids(events: &[Value]) -> Vec<i64> {
    events.iter().filter(|e| e["type"] == "message").filter_map(|e| e["text"].as_str()?.strip_prefix("spawned ")?.parse().ok()).collect()
}

/// The tasks' statuses as `bosun ls --json` (GET /api/tasks) reports them.
fn statuses(w: &World, ids: &[i64]) -> HashMap<i64, String> {
    let tasks = w.json(&["ls"]);
    let all: HashMap<i64, String> =
        tasks.as_array().unwrap().iter().map(|t| (t["id"].as_i64().unwrap(), t["status"].as_str().unwrap().to_string())).collect();
    ids.iter().map(|id| (*id, all[id].clone())).collect()
}

/// Which ids have each status, sorted.
fn with_status(statuses: &HashMap<i64, String>, status: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = statuses.iter().filter(|(_, s)| *s == status).map(|(id, _)| *id).collect();
    ids.sort();
    ids
}

/// A barrier instead of timing: each agent marks itself started, then blocks on a gate
/// of its own that only the test opens. With every gate shut, the peak is a fact.
#[test]
fn ten_tasks_with_max_concurrent_three() {
    let mut w = World::new("app");
    let shared = w.path("shared");
    let shared = shared.to_str().unwrap();
    w.agent(
        "worker",
        Some(3),
        &[
            json!({"run": ["sh", "-c", "echo $BOSUN_TASK_ID > owner.txt"]}),
            // `started-<id>` holds how many agents had started and not finished, this one
            // included, the moment it started: a fourth at once would leave a 4 here.
            json!({"run": ["sh", "-c", format!(
                "cd '{shared}'; touch started-$BOSUN_TASK_ID.tmp; \
                 live=$(( $(ls | grep -c '^started-') - $(ls | grep -c '^finished-') )); \
                 echo $live > started-$BOSUN_TASK_ID.tmp; mv started-$BOSUN_TASK_ID.tmp started-$BOSUN_TASK_ID"
            )]}),
            json!({"run": ["sh", "-c", format!("until [ -e '{shared}/gate-'$BOSUN_TASK_ID ]; do sleep 0.01; done")]}),
            json!({"run": ["sh", "-c", format!("touch '{shared}/finished-'$BOSUN_TASK_ID")]}),
        ],
    );
    w.start(&[]);
    let ids: Vec<i64> = (0..10).map(|i| w.add(&format!("Job {i}"), "worker")).collect();
    let started = |id: i64| std::fs::read_to_string(w.path(&format!("shared/started-{id}"))).ok().map(|t| t.trim().parse::<u32>().unwrap());
    let waiting = |done: &[i64]| -> Vec<i64> { ids.iter().copied().filter(|&id| started(id).is_some() && !done.contains(&id)).collect() };

    // Open the gates one at a time: each time, exactly three run (while enough are left),
    // the rest wait in the queue, and the three running are the three at their gate.
    let mut done: Vec<i64> = Vec::new();
    while done.len() < ids.len() {
        let expect = (ids.len() - done.len()).min(3);
        let (running, at_gate) = wait_for(&format!("{expect} agents at their gate ({} done)", done.len()), || {
            let at_gate = waiting(&done);
            let s = statuses(&w, &ids);
            let running = with_status(&s, "running");
            assert!(at_gate.len() <= expect && running.len() <= expect, "more than {expect} at once: {at_gate:?} at a gate, {s:?}");
            (at_gate.len() == expect && running == at_gate).then_some((running, at_gate))
        });
        let s = statuses(&w, &ids);
        assert_eq!(with_status(&s, "running"), running, "no fourth started while every gate was shut: {s:?}");
        assert_eq!(with_status(&s, "queued").len(), ids.len() - done.len() - expect, "{s:?}");
        let mut reviewed = done.clone();
        reviewed.sort();
        assert_eq!(with_status(&s, "review"), reviewed, "{s:?}");
        let next = at_gate[0];
        std::fs::write(w.path(&format!("shared/gate-{next}")), "").unwrap();
        w.wait_status(next, "review");
        done.push(next);
    }
    let peaks: Vec<u32> = ids.iter().map(|&id| started(id).unwrap()).collect();
    assert!(peaks.iter().all(|&n| n <= 3), "never more than three at once: {peaks:?}");
    assert_eq!(peaks.iter().max(), Some(&3), "and the limit is used: {peaks:?}");

    // Each task in its own worktree and branch, holding only its own work.
    let mut worktrees = HashMap::new();
    for &id in &ids {
        let t = w.task(id);
        let wt = t["worktree"].as_str().unwrap().to_string();
        assert_eq!(std::fs::read_to_string(format!("{wt}/owner.txt")).unwrap().trim(), id.to_string());
        let branch = t["branch"].as_str().unwrap();
        assert_eq!(git(&w.repo, &["diff", "--name-only", &format!("main...{branch}")]), "owner.txt");
        assert_eq!(git(&w.repo, &["show", &format!("{branch}:owner.txt")]), id.to_string());
        assert!(worktrees.insert(wt, id).is_none(), "worktrees are distinct");
    }
}

#[test]
fn stop_mid_run_kills_the_group_and_keeps_the_work() {
    let mut w = World::new("app");
    let never = w.path("shared/never");
    w.agent(
        "slow",
        None,
        &[
            // Deaf to SIGTERM: bosun must escalate to SIGKILL after the grace period.
            json!({"ignore_sigterm": true}),
            json!({"write": {"path": "partial.txt", "content": "half done\n"}}),
            json!({"spawn": ["sleep", "1000"]}),
            json!({"pid_file": w.path("shared/agent.pid")}),
            json!({"wait_file": never}),
        ],
    );
    w.start(&[]);
    let id = w.add("Long job", "slow");
    let child = wait_for("the agent to spawn its child", || spawned_pids(&w.events(id)).first().copied());
    let agent: i64 = wait_for("the pid file", || std::fs::read_to_string(w.path("shared/agent.pid")).ok()?.trim().parse().ok());
    assert!(alive(child) && alive(agent));
    assert_eq!(w.task(id)["runs"][0]["pid"].as_i64(), Some(agent));

    let stopped = w.json(&["stop", &id.to_string()]);
    assert_eq!(stopped["status"], "stopped", "stop answers once the task is stopped");
    assert_eq!(stopped["runs"][0]["status"], "stopped");
    assert!(!alive(agent), "the agent is gone");
    wait_for("the grandchild to be gone", || (!alive(child)).then_some(()));

    let t = w.task(id);
    let wt = t["worktree"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(format!("{wt}/partial.txt")).unwrap(), "half done\n");
    assert!(git(&w.repo, &["show", "bosun/1-long-job:partial.txt"]).contains("half done"));

    // Stopping again is refused; a stopped task can be retried.
    let again = w.try_bosun(&["stop", &id.to_string()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("cannot stop a task that is stopped"));
    std::fs::write(&never, "").unwrap();
    assert_eq!(w.json(&["retry", &id.to_string()])["status"], "queued");
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"].as_array().unwrap().len(), 2);
    assert_eq!(t["worktree"].as_str().unwrap(), wt, "the retry works in the same worktree");
}

#[test]
fn a_queued_task_can_be_stopped_before_it_starts() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("one", Some(1), &[json!({"wait_file": gate})]);
    w.start(&[]);
    let first = w.add("First", "one");
    let second = w.add("Second", "one");
    w.wait_status(first, "running");
    assert_eq!(w.task(second)["status"], "queued");
    assert_eq!(w.json(&["stop", &second.to_string()])["status"], "stopped");
    std::fs::write(&gate, "").unwrap();
    w.wait_status(first, "review");
    assert!(w.task(second)["runs"].as_array().unwrap().is_empty(), "the stopped task never ran");
}

/// The machine dies: the daemon and the agents' holders with it (the agents live on).
/// Nothing can be re-attached: the runs are interrupted and their processes killed.
#[test]
fn daemon_and_holders_killed_then_restart_interrupts_and_retry_works() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent(
        "worker",
        None,
        &[
            json!({"write": {"path": "work.txt", "content": "in progress\n"}}),
            json!({"spawn": ["sleep", "1000"]}),
            json!({"wait_file": gate}),
            json!({"write": {"path": "work.txt", "content": "finished\n"}}),
        ],
    );
    w.start(&[]);
    let ids = [w.add("Alpha", "worker"), w.add("Beta", "worker")];
    let mut pids = Vec::new();
    for &id in &ids {
        pids.push(wait_for("the agent to start", || w.task(id)["runs"][0]["pid"].as_i64()));
        pids.push(wait_for("the spawned child", || spawned_pids(&w.events(id)).first().copied()));
    }
    assert!(pids.iter().all(|&p| alive(p)));

    w.kill_daemon();
    let holders = w.holders();
    assert_eq!(holders.len(), ids.len(), "one holder per run");
    for pid in holders {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    }
    // Dead, not dying: a dying holder's socket still takes connections for a moment.
    wait_for("the holders to be gone", || w.holders().is_empty().then_some(()));
    w.start(&[]);
    let why = "the agent's holder process is gone (the machine or the holder was killed)";
    for &id in &ids {
        let t = w.task(id);
        assert_eq!(t["status"], "interrupted", "{t}");
        assert_eq!(t["runs"][0]["status"], "interrupted");
        assert_eq!((t["status_reason"].as_str(), t["runs"][0]["reason"].as_str()), (Some(why), Some(why)), "{t}");
        let said = w.events(id).into_iter().rfind(|e| e["type"] == "status" && e["status"] == "interrupted").unwrap();
        assert_eq!(said["message"], format!("{why}; its leftover processes were killed"), "not 'interrupted: interrupted'");
        let wt = t["worktree"].as_str().unwrap();
        assert_eq!(std::fs::read_to_string(format!("{wt}/work.txt")).unwrap(), "in progress\n", "worktree intact");
    }
    wait_for("every leftover agent process to be gone", || pids.iter().all(|&p| !alive(p)).then_some(()));

    std::fs::write(&gate, "").unwrap();
    for &id in &ids {
        w.bosun(&["retry", &id.to_string()]);
    }
    for &id in &ids {
        let t = w.wait_status(id, "review");
        let branch = t["branch"].as_str().unwrap();
        assert_eq!(git(&w.repo, &["show", &format!("{branch}:work.txt")]), "finished");
    }
}

/// `serve --stop-agents-on-exit`: a shutdown stops the agents, and leaves nothing.
#[test]
fn graceful_shutdown_leaves_no_orphans() {
    let mut w = World::new("app");
    w.agent("worker", None, &[json!({"spawn": ["sleep", "1000"]}), json!({"wait_file": w.path("shared/never")})]);
    w.start(&["--stop-agents-on-exit"]);
    let id = w.add("Alpha", "worker");
    let agent = wait_for("the agent to start", || w.task(id)["runs"][0]["pid"].as_i64());
    let child = wait_for("the spawned child", || spawned_pids(&w.events(id)).first().copied());
    assert!(w.stop_daemon().success(), "SIGTERM is a clean exit");
    let log = std::fs::read_to_string(w.path("daemon.log")).unwrap();
    assert!(!log.contains("did not stop in time"), "shutdown waited out a timeout instead of finishing: {log}");
    assert!(!alive(agent) && !alive(child), "no orphans after the daemon exits");
    assert!(w.run_processes().is_empty(), "nor holders: {:?}", w.run_processes());
    w.start(&[]);
    let t = w.task(id);
    assert_eq!(
        (t["status"].as_str(), t["status_reason"].as_str()),
        (Some("interrupted"), Some("bosun stopped the agent when its daemon shut down"))
    );
}

#[test]
fn failures_are_explained() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("crasher", None, &[json!({"stderr": "compiler exploded"}), json!({"exit": 3})]);
    w.agent("holder", None, &[json!({"wait_file": gate})]);
    w.agent("fleeting", None, &[json!({"say": "never"})]);
    std::fs::write(w.path("config/agents/broken.md"), "---\nruntime: command\n---\n").unwrap();
    w.start(&["--max-concurrent", "1"]);
    let id = w.add("Will crash", "crasher");
    let t = w.wait_status(id, "failed");
    assert_eq!(t["runs"][0]["exit_code"], 3);
    let reason = t["status_reason"].as_str().unwrap();
    assert!(reason.contains("exit code 3") && reason.contains("compiler exploded"), "{reason}");

    // A task no profile can run is refused at the door, saying why, and nothing is made.
    let refused = |agent: &str| {
        let out = w.try_bosun(&["add", "--repo", w.repo.to_str().unwrap(), "--agent", agent, "Refused"]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let err = refused("crashr");
    assert!(err.contains("unknown agent `crashr`: did you mean `crasher`?"), "{err}");
    let err = refused("ghost");
    assert!(err.contains("unknown agent `ghost`") && err.contains("config/agents"), "{err}");
    assert!(refused("broken").contains("broken.md is invalid"));
    assert_eq!(w.json(&["ls"]).as_array().unwrap().len(), 1, "no task was created");

    // A profile that goes away before its task starts: the task fails at dispatch.
    let holder = w.add("Hold the slot", "holder");
    w.wait_status(holder, "running");
    let ghost = w.add("For a profile about to go", "fleeting");
    std::fs::remove_file(w.path("config/agents/fleeting.md")).unwrap();
    std::fs::write(&gate, "").unwrap();
    // `logs -f` ends on a dispatch failure too: it has a task-level status event.
    let followed = w.bosun(&["logs", &ghost.to_string(), "-f"]);
    assert!(followed.contains("status   failed: unknown agent `fleeting`"), "{followed}");
    let t = w.wait_status(ghost, "failed");
    let reason = t["status_reason"].as_str().unwrap();
    assert!(reason.contains("unknown agent `fleeting`") && reason.contains("config/agents"), "{reason}");

    // Retrying with an agent that does not exist is refused; with one that does, works.
    assert_eq!(w.try_bosun(&["retry", &ghost.to_string(), "--agent", "ghost"]).status.code(), Some(1));
    w.agent("fixer", None, &[json!({"say": "fixed"})]);
    w.bosun(&["retry", &ghost.to_string(), "--agent", "fixer"]);
    assert_eq!(w.wait_status(ghost, "review")["agent"], "fixer");
}

#[test]
fn logs_follow_waits_through_the_queue() {
    let mut w = World::new("app");
    let gate = w.path("shared/gate");
    w.agent("one", Some(1), &[json!({"wait_file": gate}), json!({"say": "finally"})]);
    w.start(&[]);
    let first = w.add("First", "one");
    let second = w.add("Second", "one");
    w.wait_status(first, "running");
    let mut follower = std::process::Command::new(crate::harness::BOSUN)
        .args(["logs", &second.to_string(), "-f", "--server", &w.url])
        .env("BOSUN_DATA_DIR", w.path("data"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::fs::write(&gate, "").unwrap();
    let status = follower.wait().unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(follower.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(status.success(), "{out}");
    assert!(out.contains("finally") && out.contains("status   review"), "{out}");
}

#[test]
fn serve_refuses_a_second_daemon() {
    let mut w = World::new("app");
    w.start(&[]);
    let serve = |addr: &str, data: &str| {
        std::process::Command::new(crate::harness::BOSUN)
            .args(["serve", "--addr", addr, "--data-dir"])
            .arg(w.path(data))
            .env("HOME", w.path("home"))
            .output()
            .unwrap()
    };
    let out = serve("127.0.0.1:0", "data");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another bosun daemon (pid ") && stderr.contains(&format!("at {}) is using", w.url)), "{stderr}");
    assert!(!stderr.contains("bosun serving"), "it does not claim to serve first: {stderr}");
    // The lock is not the file that names its holder: deleting it locks no one out.
    std::fs::remove_file(w.path("data/daemon.lock")).unwrap();
    let out = serve("127.0.0.1:0", "data");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another bosun daemon"), "{out:?}");
    assert_eq!(w.json(&["ls"]).as_array().map(Vec::len), Some(0), "the first daemon still serves");
}

#[test]
fn sigkill_during_worktree_creation_is_repaired_on_the_next_run() {
    let mut w = World::new("app");
    // A post-checkout hook holds `git worktree add` open until the test has killed everything.
    let hook = w.repo.join(".git/hooks/post-checkout");
    let pids = w.path("shared/hook.pids");
    std::fs::write(&hook, format!("#!/bin/sh\necho $$ $PPID > '{}'\nwhile :; do sleep 0.05; done\n", pids.display())).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    w.agent("worker", None, &[json!({"write": {"path": "done.txt", "content": "done\n"}})]);
    w.start(&[]);
    let id = w.add("Interrupted checkout", "worker");
    let hook_pids: Vec<i32> = wait_for("the hook to run", || {
        let text = std::fs::read_to_string(&pids).ok()?;
        let v: Vec<i32> = text.split_whitespace().filter_map(|p| p.parse().ok()).collect();
        (v.len() == 2).then_some(v)
    });
    w.kill_daemon();
    // The machine "dies" with git mid-way: kill git and its hook too, and leave the
    // worktree the way an interrupted checkout does (locked, files missing).
    for pid in hook_pids {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    std::fs::remove_file(&hook).unwrap();
    let wt = w.path("data/worktrees/1-interrupted-checkout");
    git(&w.repo, &["worktree", "lock", "--reason", "initializing", wt.to_str().unwrap()]);
    std::fs::remove_file(wt.join("README.md")).unwrap();

    w.start(&[]);
    assert_eq!(w.task(id)["status"], "interrupted");
    w.bosun(&["retry", &id.to_string()]);
    w.wait_status(id, "review");
    assert_eq!(std::fs::read_to_string(wt.join("README.md")).unwrap(), "# app\n", "a whole checkout again");
    let list = git(&w.repo, &["worktree", "list", "--porcelain"]);
    assert!(!list.contains("locked") && !list.contains("prunable"), "no dangling entry: {list}");
    assert_eq!(list.matches("worktree ").count(), 2, "{list}");
    assert_eq!(git(&w.repo, &["diff", "--name-only", "main...bosun/1-interrupted-checkout"]), "done.txt");
}

/// A grandchild that leaves the agent's session (`setsid`) and keeps its stdout open
/// does not keep the run alive: once the agent exits, what carries the run's token is
/// killed and the run ends.
#[test]
fn a_setsid_grandchild_holding_stdout_open_neither_outlives_nor_holds_up_the_run() {
    let mut w = World::new("app");
    let pidfile = w.path("shared/grandchild.pid");
    let p = pidfile.display();
    let script = format!(
        "setsid sh -c 'echo $$ > {p}.tmp; mv {p}.tmp {p}; exec sleep 1000' & while [ ! -s {p} ]; do sleep 0.01; done; echo started"
    );
    let command = serde_json::to_string(&["sh", "-c", &script]).unwrap();
    std::fs::write(w.path("config/agents/leaky.md"), format!("---\nname: leaky\nruntime: command\ncommand: {command}\n---\nLeak.\n"))
        .unwrap();
    w.start(&[]);
    let id = w.add("Leak a grandchild", "leaky");
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"][0]["status"], "succeeded", "{t}");
    let grandchild: i64 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    wait_for("the grandchild to be killed", || (!alive(grandchild)).then_some(()));
}

/// With cgroups available (the daemon runs as root, or in a delegated cgroup), a
/// grandchild that leaves the agent's session *and* clears its environment — no
/// process group, no run token to find it by — is still killed when the run ends:
/// the run's cgroup is. Skipped, saying why, where the daemon says cgroups are not
/// available.
#[test]
fn a_grandchild_that_clears_its_environment_dies_with_the_run_cgroup() {
    let mut w = World::new("app");
    let (pidfile, gate) = (w.path("shared/grandchild.pid"), w.path("shared/go"));
    let (p, g) = (pidfile.display(), gate.display());
    let script = format!(
        "env -i setsid sh -c 'echo $$ > {p}.tmp; mv {p}.tmp {p}; exec sleep 1000' </dev/null >/dev/null 2>&1 & \
         while [ ! -s {p} ]; do sleep 0.01; done; while [ ! -e {g} ]; do sleep 0.01; done; echo done"
    );
    let command = serde_json::to_string(&["sh", "-c", &script]).unwrap();
    std::fs::write(w.path("config/agents/escaper.md"), format!("---\nname: escaper\nruntime: command\ncommand: {command}\n---\nEscape.\n"))
        .unwrap();
    w.start(&[]);
    let log = std::fs::read_to_string(w.path("daemon.log")).unwrap();
    if !log.contains("each run gets a cgroup of its own") {
        let said = log.lines().find(|l| l.contains("no cgroups for runs")).unwrap_or("(nothing about cgroups)");
        eprintln!("skipped: this daemon cannot give runs cgroups of their own: {said}");
        return;
    }
    let id = w.add("Escape the group and the token", "escaper");
    let grandchild: i64 = wait_for("the grandchild", || std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok());
    // Out of reach of everything but the cgroup.
    let environ = std::fs::read(format!("/proc/{grandchild}/environ")).unwrap();
    assert!(!environ.windows(16).any(|w| w == b"BOSUN_RUN_TOKEN="), "the grandchild carries no token");
    let cgroup = std::fs::read_to_string(format!("/proc/{grandchild}/cgroup")).unwrap();
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::")).unwrap().to_string();
    assert!(path.rsplit('/').next().unwrap().starts_with("bosun-run-"), "in the run's cgroup: {path}");
    let agent = w.task(id)["runs"][0]["pid"].as_i64().unwrap();
    let pgid = |pid: i64| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap()
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_string()
    };
    assert_ne!(pgid(grandchild), pgid(agent), "the grandchild left the agent's process group");

    std::fs::write(&gate, "go").unwrap();
    let t = w.wait_status(id, "review");
    assert_eq!(t["runs"][0]["status"], "succeeded", "{t}");
    wait_for("the grandchild to be killed", || (!alive(grandchild)).then_some(()));
    let mount = w.path("data/logs/1/1.cgroup");
    assert!(!mount.exists(), "the run's cgroup record is gone with it");
    let on_disk = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find(|l| l.contains(" - cgroup2 "))
        .map(|l| l.split(' ').nth(4).unwrap().to_string())
        .unwrap();
    assert!(!std::path::Path::new(&format!("{on_disk}{path}")).exists(), "the run's cgroup {path} is removed");
}
