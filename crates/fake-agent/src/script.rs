//! The script format: a JSON array of steps, or JSON lines (one step a line, blank
//! lines and `#` comments ignored), each step an object with exactly one key.

use serde::Deserialize;
use serde_json::Value;

/// One thing the fake agent does. The JSON form is `{"<snake_case name>": <data>}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Print this JSON object as one stdout line.
    Emit(Value),
    /// Emit `{"type":"message","text":..}`.
    Say(String),
    /// Print a raw (non-JSON) stdout line.
    Print(String),
    /// Print a line on stderr.
    Stderr(String),
    /// Create or overwrite a file (parents created), emitting a write tool call and a
    /// file change.
    Write(FileArg),
    /// Append to a file, emitting an edit tool call and a file change.
    Append(FileArg),
    /// Remove a file, emitting a `deleted` file change.
    Delete(String),
    /// Run a command (no shell), emitting a command tool call and its result.
    Run(Vec<String>),
    /// `git add -A` then `git commit -q -m <message>` in the cwd.
    Commit(String),
    SleepMs(u64),
    /// Read stdin to EOF and emit `prompt: <first line>`.
    ReadStdin(bool),
    /// Emit a message `NAME=value` for each variable.
    EchoEnv(Vec<String>),
    Usage(Usage),
    /// Do `step` `times` times, the i-th at `start + i * every_ms`; `{i}` is the index.
    Repeat { times: u64, #[serde(default)] every_ms: u64, step: Box<Step> },
    /// Start a background child that is never waited for and report its pid.
    Spawn(Vec<String>),
    /// Write the agent's own pid to this file.
    PidFile(String),
    /// Block until the file exists; exit 124 on timeout.
    WaitFile(WaitFile),
    /// Ignore SIGTERM from now on (Unix only), so only SIGKILL stops the agent.
    IgnoreSigterm(bool),
    Exit(i32),
    /// Print the message on stderr and exit 1.
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
    pub fn path(&self) -> &str {
        match self {
            WaitFile::Path(path) | WaitFile::With(WaitSpec { path, .. }) => path,
        }
    }
    pub fn timeout_ms(&self) -> Option<u64> {
        match self {
            WaitFile::Path(_) => None,
            WaitFile::With(spec) => spec.timeout_ms,
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
