//! The fake agent run in-process through `run_script`, in a temporary directory.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bosun_fake_agent::{Io, Step, default_script, parse, run_script, script};
use serde_json::{Value, json};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn events(&self) -> Vec<Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"))).collect()
    }
}

fn run_with(text: &str, cwd: &Path, stdin: &str) -> Out {
    let (mut input, mut stdout, mut stderr) = (stdin.as_bytes(), Vec::new(), Vec::new());
    let code = run_script(text, cwd, Io { stdin: &mut input, stdout: &mut stdout, stderr: &mut stderr });
    Out { code, stdout: String::from_utf8(stdout).unwrap(), stderr: String::from_utf8(stderr).unwrap() }
}

fn run(steps: &[Value], cwd: &Path) -> Out {
    run_with(&script(steps), cwd, "")
}

#[test]
fn file_steps_change_files_and_emit_tool_calls_and_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            json!({"write": {"path": "src/a.txt", "content": "one\n"}}),
            json!({"write": {"path": "src/a.txt", "content": "two\n"}}),
            json!({"append": {"path": "src/a.txt", "content": "three\n"}}),
            json!({"append": {"path": "b.txt", "content": "new\n"}}),
            json!({"delete": "b.txt"}),
        ],
        dir.path(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(dir.path().join("src/a.txt")).unwrap(), "two\nthree\n");
    assert!(!dir.path().join("b.txt").exists());
    assert!(out.stdout.starts_with(r#"{"type":"tool_call","#), "type comes first: {}", out.stdout);
    assert_eq!(
        out.events(),
        vec![
            json!({"type": "tool_call", "kind": "write", "name": "Write", "path": "src/a.txt"}),
            json!({"type": "file_change", "path": "src/a.txt", "change": "added"}),
            json!({"type": "tool_call", "kind": "write", "name": "Write", "path": "src/a.txt"}),
            json!({"type": "file_change", "path": "src/a.txt", "change": "modified"}),
            json!({"type": "tool_call", "kind": "edit", "name": "Edit", "path": "src/a.txt"}),
            json!({"type": "file_change", "path": "src/a.txt", "change": "modified"}),
            json!({"type": "tool_call", "kind": "edit", "name": "Edit", "path": "b.txt"}),
            json!({"type": "file_change", "path": "b.txt", "change": "added"}),
            json!({"type": "file_change", "path": "b.txt", "change": "deleted"}),
        ]
    );
}

#[test]
fn a_failed_file_operation_exits_1_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[json!({"delete": "missing.txt"}), json!({"say": "not reached"})], dir.path());
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("missing.txt"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn repeat_numbers_its_events_on_a_fixed_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            json!({"repeat": {"times": 5, "every_ms": 30, "step": {"emit": {"type": "status", "status": "tick", "message": "n={i} at {now_ns}"}}}}),
        ],
        dir.path(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let messages: Vec<String> = out.events().iter().map(|e| e["message"].as_str().unwrap().to_string()).collect();
    let numbers: Vec<&str> = messages.iter().map(|m| m.split(' ').next().unwrap()).collect();
    assert_eq!(numbers, ["n=0", "n=1", "n=2", "n=3", "n=4"]);
    // Each at its own time, in order (how far apart is a figure, not this test's business).
    let times: Vec<u128> = messages.iter().map(|m| m.rsplit(' ').next().unwrap().parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
}

#[test]
fn repeat_expands_i_in_file_steps_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[json!({"repeat": {"times": 3, "step": {"write": {"path": "f{i}.txt", "content": "{i}"}}}})], dir.path());
    assert_eq!(out.code, 0, "{}", out.stderr);
    for i in 0..3 {
        assert_eq!(std::fs::read_to_string(dir.path().join(format!("f{i}.txt"))).unwrap(), i.to_string());
    }
    assert_eq!(out.events().len(), 6);
}

#[test]
fn read_stdin_reports_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let text = script(&[json!({"read_stdin": true}), json!({"say": "got: {prompt}"})]);
    let out = run_with(&text, dir.path(), "fix the bug\nin main.rs\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.events(),
        vec![
            json!({"type": "message", "text": "prompt: fix the bug"}),
            json!({"type": "message", "text": "got: fix the bug\nin main.rs\n"}),
        ]
    );
}

#[test]
fn exit_and_fail_stop_the_script_with_their_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[json!({"say": "a"}), json!({"exit": 7}), json!({"say": "b"})], dir.path());
    assert_eq!(out.code, 7);
    assert_eq!(out.events(), vec![json!({"type": "message", "text": "a"})]);

    let out = run(&[json!({"fail": "it broke"}), json!({"say": "b"})], dir.path());
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (1, "", "it broke\n"));

    let out = run(&[json!({"say": "done"})], dir.path());
    assert_eq!(out.code, 0);
}

#[test]
fn a_broken_script_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with("{\"say\": \"hi\"}\n{\"frobnicate\": 1}\n", dir.path(), "");
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "", "nothing runs before the whole script parses");
    assert!(out.stderr.contains("line 2") && out.stderr.contains("unknown variant `frobnicate`"), "{}", out.stderr);

    let bad_steps = [r#"[{"say": 1}]"#, r#"{"say": "a", "exit": 1}"#, "{}", "not json", r#"[{"sleep_ms": 1}"#, r#"{"emit": "x"}"#];
    // A misspelt option must not be ignored (this one would otherwise wait forever).
    for bad in bad_steps.into_iter().chain([r#"{"wait_file": {"path": "x", "timeout": 3}}"#]) {
        let out = run_with(bad, dir.path(), "");
        assert_eq!(out.code, 2, "{bad}");
        assert!(out.stderr.starts_with("bosun-fake-agent: bad script:"), "{bad}: {}", out.stderr);
    }
}

#[test]
fn wait_file_blocks_until_the_file_exists() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    let agent = std::thread::spawn(move || {
        let out = run(&[json!({"say": "waiting"}), json!({"wait_file": "go"}), json!({"say": "went"})], &cwd);
        tx.send(()).unwrap();
        out
    });
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "finished before the file existed");
    std::fs::write(dir.path().join("go"), "").unwrap();
    rx.recv_timeout(Duration::from_secs(10)).expect("did not notice the file");
    let out = agent.join().unwrap();
    assert_eq!(out.code, 0);
    assert_eq!(out.events().len(), 2);
}

#[test]
fn wait_file_times_out_with_124() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[json!({"wait_file": {"path": "never", "timeout_ms": 50}})], dir.path());
    assert_eq!(out.code, 124, "exit 124: the wait timed out");
    assert!(out.stderr.contains("never"), "{}", out.stderr);
}

#[test]
fn now_ns_is_the_current_time() {
    let dir = tempfile::tempdir().unwrap();
    let ns = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let before = ns();
    let out = run(&[json!({"emit": {"type": "status", "status": "started", "message": "{now_ns}"}})], dir.path());
    let after = ns();
    let stamp: u128 = out.events()[0]["message"].as_str().unwrap().parse().unwrap();
    assert!(before <= stamp && stamp <= after, "{before} {stamp} {after}");
}

#[test]
fn json_lines_and_json_array_scripts_parse_the_same() {
    let lines = "# a comment\n\n{\"say\": \"hi\"}\n  # indented comment\n{\"sleep_ms\": 5}\n{\"exit\": 3}\n";
    let array = r#"[{"say": "hi"}, {"sleep_ms": 5}, {"exit": 3}]"#;
    let expected = vec![Step::Say("hi".into()), Step::SleepMs(5), Step::Exit(3)];
    assert_eq!(parse(lines).unwrap(), expected);
    assert_eq!(parse(array).unwrap(), expected);
    let built = script(&[json!({"say": "hi"}), json!({"sleep_ms": 5}), json!({"exit": 3})]);
    assert_eq!(parse(&built).unwrap(), expected);
    assert!(parse(r#"{"wait_file": "a"}"#).is_ok() && parse(r#"{"ignore_sigterm": true}"#).is_ok());
}

#[test]
fn run_reports_the_command_and_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            json!({"run": ["sh", "-c", "echo out; echo err >&2; exit 3"]}),
            json!({"run": ["sh", "-c", "head -c 10000 /dev/zero | tr '\\0' a"]}),
            json!({"run": ["/no/such/program"]}),
        ],
        dir.path(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ev = out.events();
    assert_eq!(ev[0], json!({"type": "tool_call", "kind": "command", "name": "Bash", "command": "sh -c echo out; echo err >&2; exit 3"}));
    assert_eq!(ev[1], json!({"type": "tool_result", "kind": "command", "exit_code": 3, "output": "out\nerr\n"}));
    assert_eq!(ev[3]["output"].as_str().unwrap().len(), 4096);
    assert_eq!(ev[5]["exit_code"], -1);
}

#[test]
fn commit_commits_the_worktree() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| std::process::Command::new("git").args(args).current_dir(dir.path()).output().unwrap();
    assert!(git(&["init", "-q"]).status.success());
    let out = run(&[json!({"write": {"path": "a.txt", "content": "a"}}), json!({"commit": "add a"})], dir.path());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let result = &out.events()[3];
    assert_eq!(result["exit_code"], 0, "{result}");
    let log = git(&["log", "--format=%an %s"]);
    assert_eq!(String::from_utf8_lossy(&log.stdout), "fake-agent add a\n");
}

#[test]
fn echo_env_spawn_and_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            json!({"echo_env": ["CARGO_PKG_NAME", "BOSUN_SURELY_UNSET_VAR"]}),
            json!({"pid_file": "agent.pid"}),
            json!({"spawn": ["sleep", "30"]}),
        ],
        dir.path(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ev = out.events();
    assert_eq!(ev[0]["text"], "CARGO_PKG_NAME=bosun-fake-agent");
    assert_eq!(ev[1]["text"], "BOSUN_SURELY_UNSET_VAR=");
    let pid = std::fs::read_to_string(dir.path().join("agent.pid")).unwrap();
    assert_eq!(pid.trim(), std::process::id().to_string());
    let child = ev[2]["text"].as_str().unwrap().strip_prefix("spawned ").unwrap();
    // The child outlived the step: it is still there to be killed.
    assert!(std::process::Command::new("kill").arg(child).status().unwrap().success());
}

#[test]
fn the_default_script_echoes_writes_and_reports_usage() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with(&default_script(), dir.path(), "say hello\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(dir.path().join("hello.txt")).unwrap(), "hello from bosun-fake-agent\n");
    let types: Vec<_> = out.events().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types, ["message", "tool_call", "file_change", "usage"]);
    assert_eq!(out.events()[0]["text"], "prompt: say hello");
    assert_eq!(out.events()[3], json!({"type": "usage", "input_tokens": 100, "output_tokens": 20, "cached_tokens": 0, "cost_usd": 0.001}));
}
