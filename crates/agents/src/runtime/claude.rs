//! The `claude-code` runtime: Claude Code driven headless over stream-json, one
//! long-lived process per run. The task goes in as a stdin user message and the
//! profile's instructions are appended to the system prompt; `say` writes more user
//! messages, `interrupt` and approval answers use the control protocol
//! (`--permission-prompt-tool stdio`), `reply` resumes the session (`--resume`).
//! After the turn's `result`, stdin is closed so the process ends.
//!
//! Usage is reported as each model response arrives (an `assistant` message's
//! `usage`, once per message id), so a budget is checked before the next request;
//! the turn's `result` then reports the rest of its tokens with what Claude Code says
//! the turn cost, which stands for the turn's earlier reports (the supervisor charges
//! only what it adds to them).

use std::collections::HashMap;

use async_trait::async_trait;
use bosun_core::{AgentProfile, EventKind, FileChangeKind, OutputStream, ToolKind};
use serde_json::{Value, json};

use super::clip;
use crate::driver::{self, AgentCommand, Driver, DriverIo};
use crate::process;
use crate::{AgentError, AgentProcess, SpawnSpec};

pub const PROGRAM: &str = "claude";
pub const PACKAGE: &str = "@anthropic-ai/claude-code";
/// Claude Code's own variables taken from the daemon's environment (see
/// [`crate::env`]): its keys, base URLs, models and provider switches
/// (`ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_MODEL`,
/// `CLAUDE_CODE_OAUTH_TOKEN`, `CLAUDE_CODE_USE_BEDROCK`, `CLAUDE_CONFIG_DIR`, ...). Not
/// `CLAUDECODE`: Claude Code sets it in the shells it runs, so in a daemon started from
/// one it would tell the agent it is nested. Bedrock's and Vertex's cloud credentials
/// (`AWS_*`, `GOOGLE_APPLICATION_CREDENTIALS`) are the profile's to pass (`pass_env:`).
pub const ENV: &[&str] = &["ANTHROPIC_*", "CLAUDE_*"];

pub fn spawn(profile: &AgentProfile, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let program = super::find_program("BOSUN_CLAUDE_PATH", PROGRAM, "claude-code", PACKAGE)?;
    let mut argv: Vec<String> = vec![
        program,
        "-p".into(),
        "--output-format".into(),
        "stream-json".into(),
        "--verbose".into(),
        "--input-format".into(),
        "stream-json".into(),
        "--permission-prompt-tool".into(),
        "stdio".into(),
        "--permission-mode".into(),
        "default".into(),
    ];
    if let Some(model) = &profile.model {
        argv.extend(["--model".into(), model.clone()]);
    }
    if !spec.instructions.trim().is_empty() {
        argv.extend(["--append-system-prompt".into(), spec.instructions.clone()]);
    }
    if let Some(session) = &spec.resume {
        argv.extend(["--resume".into(), session.clone()]);
    }
    argv.extend(profile.args.iter().cloned());
    let cmd = process::base_command(&argv, spec, ENV)?;
    let spawned = process::start(cmd, &argv[0], spec)?;
    let driver = ClaudeDriver { task: spec.task.clone(), prior_cost: spec.prior_cost, ..Default::default() };
    Ok(driver::drive(spawned, driver))
}

#[derive(Default)]
struct ClaudeDriver {
    task: String,
    /// Cost already counted for this session (by earlier runs): `total_cost_usd` is
    /// cumulative over a session and its resumes.
    prior_cost: f64,
    /// Tool calls by id, to give results a kind and file changes a path.
    tools: HashMap<String, (String, Option<String>)>,
    /// Inputs of pending permission asks, echoed back on allow.
    asks: HashMap<String, Value>,
    next_request: u64,
    /// Tokens already reported this turn, by model response (message id): Claude Code
    /// repeats a message's usage on each of its content blocks.
    reported: HashMap<String, Tokens>,
}

/// Input (with cache writes), output and cache-read tokens.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Tokens {
    input: u64,
    output: u64,
    cached: u64,
}

impl Tokens {
    fn of(usage: &Value) -> Tokens {
        let n = |k: &str| usage[k].as_u64().unwrap_or(0);
        Tokens {
            input: n("input_tokens") + n("cache_creation_input_tokens"),
            output: n("output_tokens"),
            cached: n("cache_read_input_tokens"),
        }
    }

    fn minus(self, o: Tokens) -> Tokens {
        Tokens {
            input: self.input.saturating_sub(o.input),
            output: self.output.saturating_sub(o.output),
            cached: self.cached.saturating_sub(o.cached),
        }
    }

    fn plus(self, o: Tokens) -> Tokens {
        Tokens { input: self.input + o.input, output: self.output + o.output, cached: self.cached + o.cached }
    }

    fn usage(self, cost_usd: Option<f64>) -> EventKind {
        EventKind::Usage { input_tokens: self.input, output_tokens: self.output, cached_tokens: self.cached, cost_usd }
    }
}

fn user_message(text: &str) -> String {
    json!({"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": text}]}}).to_string()
}

pub fn tool_kind(name: &str) -> ToolKind {
    match name {
        "Read" | "NotebookRead" => ToolKind::Read,
        "Write" => ToolKind::Write,
        "Edit" | "MultiEdit" | "NotebookEdit" => ToolKind::Edit,
        "Bash" | "BashOutput" | "KillShell" | "KillBash" => ToolKind::Command,
        "Grep" | "Glob" | "LS" => ToolKind::Search,
        "WebFetch" | "WebSearch" => ToolKind::Web,
        _ => ToolKind::Other,
    }
}

fn tool_path(input: &Value) -> Option<String> {
    ["file_path", "notebook_path", "path"].iter().find_map(|k| input[*k].as_str().map(str::to_string))
}

/// The text of a tool_result's `content` (a string or a list of text blocks).
fn result_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

impl ClaudeDriver {
    fn assistant(&mut self, msg: &Value) -> Vec<EventKind> {
        let mut events = Vec::new();
        // A model response's usage, reported once (what grew since its last block).
        if let Some(id) = msg["id"].as_str()
            && msg["usage"].is_object()
        {
            let now = Tokens::of(&msg["usage"]);
            let before = self.reported.get(id).copied().unwrap_or_default();
            let new = now.minus(before);
            if new != Tokens::default() {
                self.reported.insert(id.to_string(), before.plus(new));
                events.push(new.usage(None));
            }
        }
        for block in msg["content"].as_array().into_iter().flatten() {
            match block["type"].as_str() {
                Some("text") => {
                    let text = block["text"].as_str().unwrap_or_default();
                    if !text.trim().is_empty() {
                        events.push(EventKind::Message { text: text.to_string(), role: None, from: None });
                    }
                }
                Some("tool_use") => {
                    let name = block["name"].as_str().unwrap_or_default().to_string();
                    let id = block["id"].as_str().map(str::to_string);
                    let input = block["input"].clone();
                    let path = tool_path(&input);
                    if let Some(id) = &id {
                        self.tools.insert(id.clone(), (name.clone(), path.clone()));
                    }
                    events.push(EventKind::ToolCall {
                        id,
                        kind: tool_kind(&name),
                        command: input["command"].as_str().map(str::to_string),
                        path,
                        name,
                        input: Some(input),
                    });
                }
                _ => {}
            }
        }
        events
    }

    fn tool_results(&mut self, msg: &Value) -> Vec<EventKind> {
        let mut events = Vec::new();
        for block in msg["content"].as_array().into_iter().flatten().filter(|b| b["type"] == "tool_result") {
            let id = block["tool_use_id"].as_str().unwrap_or_default().to_string();
            let is_error = block["is_error"].as_bool().unwrap_or(false);
            let text = result_text(&block["content"]);
            let (name, path) = self.tools.remove(&id).unwrap_or_default();
            let kind = tool_kind(&name);
            if !is_error
                && matches!(kind, ToolKind::Write | ToolKind::Edit)
                && let Some(path) = &path
            {
                let change = if name == "Write" && text.contains("created") { FileChangeKind::Added } else { FileChangeKind::Modified };
                events.push(EventKind::FileChange { path: path.clone(), change, diff: None });
            }
            events.insert(0, EventKind::ToolResult { id: Some(id), kind: Some(kind), output: Some(clip(text)), exit_code: None, is_error });
        }
        events
    }

    fn result(&mut self, v: &Value, io: &mut DriverIo) -> Vec<EventKind> {
        let mut events = Vec::new();
        let total = v["total_cost_usd"].as_f64();
        let cost = total.map(|t| (t - self.prior_cost).max(0.0));
        if let Some(t) = total {
            self.prior_cost = t;
        }
        // The turn's tokens less what its responses reported, with the turn's cost.
        let so_far = self.reported.drain().fold(Tokens::default(), |a, (_, t)| a.plus(t));
        events.push(Tokens::of(&v["usage"]).minus(so_far).usage(cost));
        if v["is_error"].as_bool().unwrap_or(false) {
            let why = v["result"].as_str().or(v["subtype"].as_str()).unwrap_or("error").to_string();
            events.push(EventKind::Error { message: format!("Claude Code: {why}") });
        }
        // The turn is over: no more input, so the process finishes.
        io.close_stdin();
        events
    }
}

#[async_trait]
impl Driver for ClaudeDriver {
    async fn start(&mut self, io: &mut DriverIo) -> Vec<EventKind> {
        io.write_line(&user_message(&self.task)).await;
        Vec::new()
    }

    async fn on_line(&mut self, stream: OutputStream, line: &str, io: &mut DriverIo) -> Vec<EventKind> {
        let raw = || vec![EventKind::Output { stream, line: line.to_string() }];
        let v = match driver::json_line(stream, line) {
            Ok(v) => v,
            Err(keep) => return keep,
        };
        match (v["type"].as_str(), v["subtype"].as_str()) {
            (Some("system"), Some("init")) => match v["session_id"].as_str() {
                Some(id) => vec![EventKind::Session { session_id: id.to_string() }],
                None => Vec::new(),
            },
            (Some("system"), _) | (Some("stream_event"), _) | (Some("control_response"), _) | (Some("rate_limit_event"), _) => Vec::new(),
            (Some("assistant"), _) => self.assistant(&v["message"]),
            (Some("user"), _) => self.tool_results(&v["message"]),
            (Some("result"), _) => self.result(&v, io),
            (Some("control_request"), _) if v["request"]["subtype"] == "can_use_tool" => {
                let id = v["request_id"].as_str().unwrap_or_default().to_string();
                let tool = v["request"]["tool_name"].as_str().unwrap_or_default().to_string();
                let input = v["request"]["input"].clone();
                self.asks.insert(id.clone(), input.clone());
                vec![EventKind::ApprovalRequest {
                    id,
                    kind: Some(tool_kind(&tool)),
                    command: input["command"].as_str().map(str::to_string),
                    path: tool_path(&input),
                    tool,
                    input: Some(input),
                }]
            }
            _ => raw(),
        }
    }

    async fn on_command(&mut self, command: AgentCommand, io: &mut DriverIo) -> Vec<EventKind> {
        let line = match command {
            AgentCommand::Say(text) => user_message(&text),
            AgentCommand::Interrupt => {
                self.next_request += 1;
                json!({"type": "control_request", "request_id": format!("bosun-{}", self.next_request), "request": {"subtype": "interrupt"}})
                    .to_string()
            }
            AgentCommand::Answer { id, allow, message } => {
                let input = self.asks.remove(&id).unwrap_or(Value::Null);
                let response = if allow {
                    json!({"behavior": "allow", "updatedInput": input})
                } else {
                    json!({"behavior": "deny", "message": message.unwrap_or_else(|| "denied by the user".into())})
                };
                json!({"type": "control_response", "response": {"subtype": "success", "request_id": id, "response": response}}).to_string()
            }
        };
        if io.write_line(&line).await {
            Vec::new()
        } else {
            vec![EventKind::Error { message: "could not deliver to Claude Code: its turn has ended (use `bosun reply`)".into() }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assistant(id: &str, input: u64, output: u64, block: Value) -> Value {
        json!({"id": id, "usage": {"input_tokens": input, "output_tokens": output, "cache_read_input_tokens": 0}, "content": [block]})
    }

    fn usages(events: &[EventKind]) -> Vec<(u64, u64)> {
        events
            .iter()
            .filter_map(|e| match e {
                EventKind::Usage { input_tokens, output_tokens, .. } => Some((*input_tokens, *output_tokens)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_response_is_reported_once_however_many_blocks_repeat_its_usage() {
        let mut d = ClaudeDriver::default();
        let text = json!({"type": "text", "text": "Writing it."});
        let tool = json!({"type": "tool_use", "id": "t1", "name": "Write", "input": {"file_path": "/w/a", "content": "a"}});
        assert_eq!(usages(&d.assistant(&assistant("m1", 100, 5, text.clone()))), [(100, 5)]);
        // The same response's next block, its output grown: only what grew.
        assert_eq!(usages(&d.assistant(&assistant("m1", 100, 9, tool))), [(0, 4)]);
        assert_eq!(usages(&d.assistant(&assistant("m1", 100, 9, text.clone()))), []);
        assert_eq!(usages(&d.assistant(&assistant("m2", 50, 2, text))), [(50, 2)]);
        // (The turn's result then reports its totals less these: tests/transcripts.rs.)
        assert_eq!(d.reported.values().fold(Tokens::default(), |a, t| a.plus(*t)), Tokens { input: 150, output: 11, cached: 0 });
    }
}
