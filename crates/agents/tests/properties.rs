//! Property tests of every runtime's parser of agent output, through the real
//! `runtime::spawn`: whatever lines a CLI prints (arbitrary text, JSON in the shapes of
//! Claude's stream-json, Codex's JSON-RPC, ACP and the command runtime, with arbitrary
//! fields and numbers), the driver never panics, always ends when the CLI does, never
//! produces an event only bosun or a human may produce, and keeps stderr as it was.
//!
//! The CLI is a shell script that prints the generated lines and exits; it is found
//! through `BOSUN_CLAUDE_PATH`, `BOSUN_CODEX_PATH` and `BOSUN_GEMINI_PATH`, as in the
//! transcript tests.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bosun_agents::{SpawnSpec, runtime};
use bosun_core::{AgentProfile, EventKind, OutputStream};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Panics anywhere in this process (a driver's task included: tokio catches those).
static PANICS: AtomicUsize = AtomicUsize::new(0);
/// How long a driver may take to end after its CLI has printed everything and exited.
const END: Duration = Duration::from_secs(20);

/// The stand-in CLI: prints the lines of `$BOSUN_LINES` (stdout) and `$BOSUN_ERRS`
/// (stderr), and exits.
fn cli() -> &'static PathBuf {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join("property-cli.sh");
        let tmp = dir.join(format!("property-cli.{}.tmp", std::process::id()));
        std::fs::write(&tmp, "#!/bin/sh\ncat \"$BOSUN_ERRS\" >&2\ncat \"$BOSUN_LINES\"\n").unwrap();
        std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        for var in ["BOSUN_CLAUDE_PATH", "BOSUN_CODEX_PATH", "BOSUN_GEMINI_PATH"] {
            // SAFETY: set once, before the first spawn, under the OnceLock.
            unsafe { std::env::set_var(var, &path) };
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
        path
    })
}

/// Keys the runtimes look at, so generated objects reach deep into each parser.
const KEYS: &[&str] = &[
    "type",
    "subtype",
    "message",
    "role",
    "content",
    "text",
    "id",
    "name",
    "input",
    "tool_use_id",
    "is_error",
    "usage",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cached_input_tokens",
    "total_cost_usd",
    "cost_usd",
    "session_id",
    "result",
    "jsonrpc",
    "method",
    "params",
    "error",
    "code",
    "thread",
    "threadId",
    "turn",
    "item",
    "command",
    "path",
    "changes",
    "diff",
    "exitCode",
    "aggregatedOutput",
    "status",
    "update",
    "sessionUpdate",
    "toolCallId",
    "kind",
    "title",
    "rawInput",
    "options",
    "optionId",
    "sessionId",
    "from",
    "allow",
    "tokenUsage",
    "total",
    "last",
    "inputTokens",
    "outputTokens",
    "cachedInputTokens",
    "request",
    "request_id",
    "tool_name",
];

/// Values the runtimes switch on, mixed with arbitrary ones.
const WORDS: &[&str] = &[
    "assistant",
    "user",
    "human",
    "bosun",
    "system",
    "result",
    "init",
    "success",
    "error",
    "tool_use",
    "tool_result",
    "text",
    "thinking",
    "stream_event",
    "control_request",
    "can_use_tool",
    "Bash",
    "Edit",
    "Write",
    "Read",
    "thread/started",
    "turn/started",
    "turn/completed",
    "item/started",
    "item/completed",
    "thread/tokenUsage/updated",
    "item/commandExecution/requestApproval",
    "item/fileChange/requestApproval",
    "commandExecution",
    "fileChange",
    "agentMessage",
    "session/update",
    "session/request_permission",
    "agent_message_chunk",
    "tool_call",
    "tool_call_update",
    "plan",
    "completed",
    "failed",
    "pending",
    "execute",
    "edit",
    "allow_once",
    "2.0",
    "status",
    "approval",
    "approval_request",
    "message",
    "usage",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())),
        ]
    })
}

/// The stdout lines the real CLI printed in the recorded transcripts of `prefix`
/// (`claude`, `codex`, `gemini`): the shapes its parser really sees.
fn recorded(prefix: &str) -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with(prefix) && name.ends_with(".jsonl")) {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            // Lines like `{"#sent": ...}` are the recording's own markers, not the CLI's.
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(line)
                && !map.keys().any(|k| k.starts_with('#'))
            {
                lines.push(Value::Object(map));
            }
        }
    }
    assert!(!lines.is_empty(), "no recorded {prefix} lines in {}", dir.display());
    lines.sort_by_key(Value::to_string);
    lines
}

/// `value` with some of its leaves (numbered depth-first) replaced.
fn mutate(value: &mut Value, changes: &[(usize, Value)]) {
    fn leaves<'a>(v: &'a mut Value, out: &mut Vec<&'a mut Value>) {
        match v {
            Value::Object(map) => map.values_mut().for_each(|x| leaves(x, out)),
            Value::Array(items) => items.iter_mut().for_each(|x| leaves(x, out)),
            leaf => out.push(leaf),
        }
    }
    let mut all = Vec::new();
    leaves(value, &mut all);
    if all.is_empty() {
        return;
    }
    let n = all.len();
    for (i, new) in changes {
        *all[i % n] = new.clone();
    }
}

/// A line the real CLI printed, with a few of its values changed to anything.
fn recorded_mutated(prefix: &'static str) -> impl Strategy<Value = String> {
    let lines = recorded(prefix);
    (prop::sample::select(lines), prop::collection::vec((any::<usize>(), json_value()), 0..4)).prop_map(|(mut line, changes)| {
        mutate(&mut line, &changes);
        line.to_string()
    })
}

/// One line a CLI might print: free text, or a JSON object with a `type` or a
/// JSON-RPC `method`/`id` the runtimes know, and arbitrary other fields.
fn line() -> impl Strategy<Value = String> {
    let object =
        (prop::sample::select(WORDS), prop::sample::select(vec!["type", "method", "id"]), json_value()).prop_map(|(word, key, rest)| {
            let mut map = match rest {
                Value::Object(map) => map,
                other => Map::from_iter([("params".to_string(), other)]),
            };
            map.insert(key.into(), if key == "id" { json!(0) } else { Value::from(word) });
            if key != "type" {
                map.insert("jsonrpc".into(), "2.0".into());
            }
            Value::Object(map).to_string()
        });
    prop_oneof![1 => "[^\n\r]{0,40}", 4 => object]
}

/// The runtimes whose parsers are tested (ACP through Gemini's).
#[derive(Debug, Clone, Copy)]
enum Runtime {
    Claude,
    Codex,
    Gemini,
    Command,
}

fn profile(runtime: Runtime) -> AgentProfile {
    let runtime = match runtime {
        Runtime::Claude => "claude-code".to_string(),
        Runtime::Codex => "codex".into(),
        Runtime::Gemini => "gemini".into(),
        Runtime::Command => format!("command\ncommand: [\"{}\"]", cli().display()),
    };
    AgentProfile::parse(&format!("---\nname: p\nruntime: {runtime}\n---\nBe brief.\n"), "p").expect("a valid profile")
}

/// Runs `runtime`'s driver over a CLI printing `stdout` and `stderr`; returns every
/// event, with the stream it came from.
fn drive(runtime: Runtime, stdout: &[String], stderr: &[String]) -> Result<Vec<(OutputStream, EventKind)>, String> {
    let dir = tempfile::tempdir().unwrap();
    let (lines, errs) = (dir.path().join("lines"), dir.path().join("errs"));
    std::fs::write(&lines, stdout.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    std::fs::write(&errs, stderr.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let spec = SpawnSpec {
        task_id: 1,
        run_id: 1,
        workdir: dir.path().to_path_buf(),
        prompt: "Do it".into(),
        instructions: String::new(),
        task: "Do it".into(),
        prior_cost: 0.25,
        token: "property-test".into(),
        pass_env: Vec::new(),
        env: vec![("BOSUN_LINES".into(), lines.display().to_string()), ("BOSUN_ERRS".into(), errs.display().to_string())],
        resume: None,
        holder: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut agent = runtime::spawn(&profile(runtime), &spec).map_err(|e| format!("spawn: {e}"))?;
        let mut events = Vec::new();
        loop {
            match tokio::time::timeout(END, agent.output.recv()).await {
                Err(_) => return Err(format!("the driver did not end; so far {events:?}")),
                Ok(None) => break,
                Ok(Some(out)) => events.extend(out.events.into_iter().map(|e| (out.stream, e))),
            }
        }
        Ok(events)
    })
}

fn check(runtime: Runtime, stdout: Vec<String>, stderr: Vec<String>) -> Result<(), TestCaseError> {
    cli();
    let before = PANICS.load(Ordering::SeqCst);
    let events = drive(runtime, &stdout, &stderr).map_err(TestCaseError::fail)?;
    prop_assert_eq!(PANICS.load(Ordering::SeqCst), before, "{:?} panicked on {:?}", runtime, stdout);
    for (_, event) in &events {
        match event {
            EventKind::Status { .. } | EventKind::Approval { .. } => {
                prop_assert!(false, "{runtime:?}: a bosun event {event:?} from {stdout:?}")
            }
            EventKind::Message { role, from, .. } => {
                prop_assert!(from.is_none() && role.as_deref().is_none_or(|r| r == "assistant"), "{runtime:?}: a human's words {event:?}");
            }
            _ => {}
        }
    }
    // What the CLI printed on stderr comes through as it was, in order.
    let err_lines: Vec<&str> = events
        .iter()
        .filter_map(|(stream, e)| match e {
            EventKind::Output { stream: OutputStream::Stderr, line } if *stream == OutputStream::Stderr => Some(line.as_str()),
            _ => None,
        })
        .collect();
    prop_assert_eq!(err_lines, stderr.iter().map(String::as_str).collect::<Vec<_>>());
    Ok(())
}

/// Stdout (shaped like `prefix`'s recordings, when given) and stderr lines.
fn lines(prefix: Option<&'static str>) -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    let one = match prefix {
        Some(p) => prop_oneof![1 => line(), 3 => recorded_mutated(p)].boxed(),
        None => line().boxed(),
    };
    (prop::collection::vec(one, 0..12), prop::collection::vec("[^\n\r]{0,20}", 0..3))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn claude_stream_json((out, err) in lines(Some("claude"))) { check(Runtime::Claude, out, err)?; }

    #[test]
    fn codex_json_rpc((out, err) in lines(Some("codex"))) { check(Runtime::Codex, out, err)?; }

    #[test]
    fn gemini_acp((out, err) in lines(Some("gemini"))) { check(Runtime::Gemini, out, err)?; }

    #[test]
    fn command_json_lines((out, err) in lines(None)) { check(Runtime::Command, out, err)?; }
}
