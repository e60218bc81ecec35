//! The `command` runtime and process-group supervision, with real processes.

use std::path::Path;
use std::time::Duration;

use bosun_agents::{AgentCommand, AgentProcess, SpawnSpec, runtime, sweep};
use bosun_core::{AgentProfile, EventKind, OutputStream, Runtime};

fn profile(script: &str) -> AgentProfile {
    AgentProfile::new("t", Runtime::Command { command: vec!["sh".into(), "-c".into(), script.into()], interactive: false })
}

fn spec(dir: &Path, token: &str) -> SpawnSpec {
    SpawnSpec {
        task_id: 7,
        run_id: 9,
        workdir: dir.to_path_buf(),
        prompt: "Do the thing\nsecond line".into(),
        instructions: String::new(),
        task: "Do the thing\nsecond line".into(),
        prior_cost: 0.0,
        token: token.into(),
        pass_env: Vec::new(),
        env: vec![("EXTRA".into(), "yes".into())],
        resume: None,
        holder: None,
    }
}

async fn drain(p: &mut AgentProcess) -> Vec<(OutputStream, EventKind)> {
    let mut out = Vec::new();
    while let Some(o) = tokio::time::timeout(Duration::from_secs(10), p.output.recv()).await.expect("output in time") {
        out.extend(o.events.into_iter().map(|e| (o.stream, e)));
    }
    out
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purposes.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn prompt_env_events_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"read first; echo "got: $first"; echo "env: $BOSUN_TASK_ID $BOSUN_RUN_ID $EXTRA $(pwd)";
        printf '%s\n' "$BOSUN_PROMPT" | tail -n 1;
        echo '{"type":"tool_call","kind":"edit","name":"Edit","path":"a.rs"}';
        echo '{"type":"bogus"}'; echo oops >&2; exit 3"#;
    let mut p = runtime::spawn(&profile(script), &spec(dir.path(), "tok-x")).unwrap();
    let out = drain(&mut p).await;
    let exit = p.group.wait().await;
    assert_eq!(exit.code, Some(3));
    assert_eq!(exit.describe(), "exit code 3");
    let lines: Vec<String> = out
        .iter()
        .filter_map(|(s, e)| match e {
            EventKind::Output { line, .. } => Some(format!("{s:?}:{line}")),
            _ => None,
        })
        .collect();
    let cwd = std::fs::canonicalize(dir.path()).unwrap();
    assert!(lines.contains(&"Stdout:got: Do the thing".to_string()), "{lines:?}");
    assert!(lines.contains(&format!("Stdout:env: 7 9 yes {}", cwd.display())), "{lines:?}");
    assert!(lines.contains(&"Stdout:second line".to_string()), "{lines:?}");
    assert!(lines.contains(&r#"Stdout:{"type":"bogus"}"#.to_string()), "unknown JSON kept raw: {lines:?}");
    assert!(lines.contains(&"Stderr:oops".to_string()), "{lines:?}");
    assert!(out.iter().any(|(_, e)| matches!(e, EventKind::ToolCall { path: Some(p), .. } if p == "a.rs")));
}

/// `cargo test` runs this binary with `CARGO_MANIFEST_DIR` and `CARGO_PKG_NAME` in its
/// environment: names no allow-list has, so only `pass_env` brings them to the agent.
#[tokio::test]
async fn the_agent_gets_a_built_environment_not_ours() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        r#"echo "home=$HOME path=${PATH:+set} manifest=$CARGO_MANIFEST_DIR pkg=$CARGO_PKG_NAME extra=$EXTRA token=$BOSUN_RUN_TOKEN""#;
    let run = |pass_env: Vec<String>| {
        let mut spec = spec(dir.path(), "tok-env");
        spec.pass_env = pass_env;
        // A profile cannot take the run's own facts away.
        spec.env.push(("BOSUN_RUN_TOKEN".into(), "forged".into()));
        let mut p = runtime::spawn(&profile(script), &spec).unwrap();
        async move {
            let out = drain(&mut p).await;
            out.into_iter()
                .find_map(|(_, e)| match e {
                    EventKind::Output { line, .. } if line.starts_with("home=") => Some(line),
                    _ => None,
                })
                .expect("the agent printed its environment")
        }
    };
    let home = std::env::var("HOME").unwrap_or_default();
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it");
    assert_eq!(run(Vec::new()).await, format!("home={home} path=set manifest= pkg= extra=yes token=tok-env"));
    assert_eq!(
        run(vec!["CARGO_MANIFEST_DIR".into()]).await,
        format!("home={home} path=set manifest={manifest} pkg= extra=yes token=tok-env")
    );
}

#[tokio::test]
async fn terminate_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    // The agent starts a grandchild that ignores SIGTERM, reports its pid, then waits.
    let script = r#"sh -c 'trap "" TERM; while :; do sleep 0.05; done' & echo "child $!"; wait"#;
    let mut p = runtime::spawn(&profile(script), &spec(dir.path(), "tok-term")).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), p.output.recv()).await.unwrap().unwrap();
    let child: u32 = first.raw.as_deref().unwrap().strip_prefix("child ").unwrap().parse().unwrap();
    let leader = p.group.pid();
    assert!(alive(child) && alive(leader));
    let exit = p.group.terminate(Duration::from_millis(300)).await;
    assert_eq!(exit.signal, Some(15), "the leader dies of SIGTERM: {exit:?}");
    wait_until("the TERM-ignoring grandchild to be killed", || !alive(child)).await;
}

#[tokio::test]
async fn natural_exit_then_reap_leaves_no_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"sleep 1000 & echo "child $!"; exit 0"#;
    let mut p = runtime::spawn(&profile(script), &spec(dir.path(), "tok-reap")).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), p.output.recv()).await.unwrap().unwrap();
    let child: u32 = first.raw.as_deref().unwrap().strip_prefix("child ").unwrap().parse().unwrap();
    assert!(p.group.wait().await.success());
    assert!(alive(child), "the background child outlives the leader until reaped");
    p.group.reap(Duration::from_millis(500)).await;
    wait_until("the background child to be reaped", || !alive(child)).await;
    // stdout closes once the last holder is gone.
    assert!(tokio::time::timeout(Duration::from_secs(5), p.output.recv()).await.unwrap().is_none());
}

#[tokio::test]
async fn dropping_the_handle_kills_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = runtime::spawn(&profile(r#"sleep 1000 & echo "child $!"; wait"#), &spec(dir.path(), "tok-drop")).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), p.output.recv()).await.unwrap().unwrap();
    let child: u32 = first.raw.as_deref().unwrap().strip_prefix("child ").unwrap().parse().unwrap();
    drop(p);
    wait_until("the group to die with its handle", || !alive(child)).await;
}

#[tokio::test]
async fn sweep_finds_processes_by_token() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("sweep-{}", std::process::id());
    let mut p = runtime::spawn(&profile(r#"sleep 1000 & echo "child $!"; wait"#), &spec(dir.path(), &token)).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), p.output.recv()).await.unwrap().unwrap();
    let child: u32 = first.raw.as_deref().unwrap().strip_prefix("child ").unwrap().parse().unwrap();
    let found: Vec<u32> = sweep::find(std::slice::from_ref(&token)).into_iter().map(|(pid, _)| pid).collect();
    assert!(found.contains(&child) && found.contains(&p.group.pid()), "{found:?}");
    assert!(sweep::find(&["someone-else".into()]).is_empty());
    assert!(sweep::kill_all(std::slice::from_ref(&token)) >= 2);
    wait_until("swept processes to die", || !alive(child)).await;
    let _ = p.group.wait().await;
}

#[tokio::test]
async fn missing_program_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut prof = profile("");
    prof.runtime = Runtime::Command { command: vec!["definitely-not-a-program-xyz".into()], interactive: false };
    let err = runtime::spawn(&prof, &spec(dir.path(), "t")).err().unwrap();
    assert!(err.to_string().starts_with("cannot start `definitely-not-a-program-xyz`"), "{err}");
}

#[tokio::test]
async fn an_interactive_agent_gets_messages_and_answers_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    // Echo every stdin line back as a message event (JSON-escaped by printf %s inside a
    // JSON string would be fiddly: print it raw and let bosun keep it as output).
    let script = r#"while IFS= read -r line; do printf 'got %s\n' "$line"; done"#;
    let mut prof = profile(script);
    prof.runtime = Runtime::Command { command: vec!["sh".into(), "-c".into(), script.into()], interactive: true };
    let mut p = runtime::spawn(&prof, &spec(dir.path(), "tok-i")).unwrap();
    assert_eq!(next_raw(&mut p).await, r#"got {"text":"Do the thing\nsecond line","type":"prompt"}"#);
    p.commands.send(AgentCommand::Say("use the retry helper".into())).unwrap();
    assert_eq!(next_raw(&mut p).await, r#"got {"text":"use the retry helper","type":"message"}"#);
    p.commands.send(AgentCommand::Answer { id: "7".into(), allow: false, message: Some("not in prod".into()) }).unwrap();
    assert_eq!(next_raw(&mut p).await, r#"got {"allow":false,"id":"7","message":"not in prod","type":"approval"}"#);
    let _ = p.group.terminate(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn a_plain_command_agent_says_it_cannot_take_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = runtime::spawn(&profile("cat >/dev/null; sleep 5"), &spec(dir.path(), "tok-n")).unwrap();
    p.commands.send(AgentCommand::Say("hello?".into())).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(10), p.output.recv()).await.unwrap().unwrap();
    assert!(matches!(&out.events[0], EventKind::Error { message } if message.contains("not `interactive: true`")), "{out:?}");
    let _ = p.group.terminate(Duration::from_millis(200)).await;
}

async fn next_raw(p: &mut AgentProcess) -> String {
    tokio::time::timeout(Duration::from_secs(10), p.output.recv()).await.unwrap().unwrap().raw.unwrap()
}
