//! The script format: a JSON array of steps, or JSON lines (one step a line, blank
//! lines and `#` comments ignored), each step an object with exactly one key.

use serde::Deserialize;
use serde_json::{Map, Value};

/// One thing the fake agent does. The JSON form is `{"<snake_case name>": <data>}`;
/// the crate documentation describes each kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Emit(Map<String, Value>),
    Say(String),
    Print(String),
    Stderr(String),
    Write(FileArg),
    Append(FileArg),
    Delete(String),
    Run(Vec<String>),
    Commit(String),
    SleepMs(u64),
    ReadStdin(bool),
    EchoEnv(Vec<String>),
    Usage(Usage),
    /// Do `step` `times` times, the i-th at `start + i * every_ms`; `{i}` is the index.
    Repeat {
        times: u64,
        #[serde(default)]
        every_ms: u64,
        step: Box<Step>,
    },
    /// Start a background child that is never waited for and report its pid.
    Spawn(Vec<String>),
    PidFile(String),
    WaitFile(WaitFile),
    IgnoreSigterm(bool),
    /// Interactive agents: read the first stdin line, `{"type":"prompt","text":..}`.
    ReadPrompt(bool),
    /// Print an `approval_request` and wait on stdin for its `approval` answer;
    /// says `approved` or `denied: <message>`.
    Ask(AskSpec),
    /// Wait on stdin for this many `message` lines; says `heard: <text>` for each.
    Listen(u64),
    Exit(i32),
    Fail(String),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileArg {
    pub path: String,
    #[serde(default)]
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cached_tokens: u64,
    #[serde(default)]
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskSpec {
    pub id: String,
    pub tool: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

/// `"path"` or `{"path": .., "timeout_ms": ..}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum WaitFile {
    Path(String),
    With(WaitSpec),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitSpec {
    pub path: String,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

impl WaitFile {
    /// The path and the timeout, if any.
    pub fn spec(&self) -> (&str, Option<u64>) {
        match self {
            WaitFile::Path(path) => (path, None),
            WaitFile::With(spec) => (&spec.path, spec.timeout_ms),
        }
    }
}

/// Parses a script in either form. The error names the step (array index or line
/// number) and what is wrong with it, e.g. an unknown step kind.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    if text.trim_start().starts_with('[') {
        let values: Vec<Value> = serde_json::from_str(text).map_err(|e| format!("script is not a JSON array: {e}"))?;
        return values.into_iter().enumerate().map(|(n, v)| step(v).map_err(|e| format!("step {n}: {e}"))).collect();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| {
            let v = serde_json::from_str(l).map_err(|e| e.to_string());
            v.and_then(step).map_err(|e| format!("line {}: {e}: {}", n + 1, l.trim()))
        })
        .collect()
}

fn step(v: Value) -> Result<Step, String> {
    match v.as_object().map(|o| o.len()) {
        Some(1) => serde_json::from_value(v).map_err(|e| e.to_string()),
        _ => Err(format!("a step is an object with exactly one key (its kind), not {v}")),
    }
}

/// Builds a JSON-lines script from steps, for Rust tests:
/// `script(&[json!({"say": "hi"}), json!({"exit": 3})])`.
pub fn script(steps: &[Value]) -> String {
    steps.iter().map(|s| format!("{s}\n")).collect()
}

/// The script used when none is given: echo the prompt, write `hello.txt`, report usage.
pub fn default_script() -> String {
    use serde_json::json;
    script(&[
        json!({"read_stdin": true}),
        json!({"write": {"path": "hello.txt", "content": "hello from bosun-fake-agent\n"}}),
        json!({"usage": {"input_tokens": 100, "output_tokens": 20, "cached_tokens": 0, "cost_usd": 0.001}}),
    ])
}
