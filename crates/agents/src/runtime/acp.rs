//! The `acp` runtime (any Agent Client Protocol agent) and `gemini` (Gemini CLI's ACP mode).
//!
//! ACP is JSON-RPC 2.0 over stdio, one message per line; this driver is a state machine
//! fed one line at a time:
//!
//! `initialize` → `session/new` (or `session/load` to resume, when the agent can) →
//! `session/prompt` with the instructions and the task. `session/update` notifications
//! become events: runs of `agent_message_chunk` one `message`, `tool_call` and
//! `tool_call_update` the `tool_call`, `tool_result` and `file_change` events. The agent's
//! `session/request_permission` becomes an `approval_request` answered with its
//! `allow_once`/`reject_once` option; its `fs/*` and `terminal/*` requests are refused
//! (we advertise neither: the agent uses its own tools). The `session/prompt` response
//! ends the turn: usage, then stdin is closed so the agent exits.
//!
//! ACP cannot add to a running turn: `say` is queued and sent as the next prompt as soon
//! as the current one ends. `interrupt` is `session/cancel`. A failed `initialize`,
//! `session/new` or `session/prompt` fails the run; a failed `session/load` falls back
//! to a new session.
//!
//! Messages are `serde_json` values with the field names of the ACP v1 schema, not the
//! types of `agent-client-protocol(-schema)`: those crates turn on serde_json's
//! `preserve_order`, which would change the key order of every JSON bosun writes.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bosun_core::{AgentProfile, EventKind, FileChangeKind, OutputStream, ToolKind};
use serde_json::{Value, json};

use crate::driver::{self, AgentCommand, Driver, DriverIo};
use crate::process;
use crate::{AgentError, AgentProcess, SpawnSpec};

pub const GEMINI: &str = "gemini";
pub const GEMINI_PACKAGE: &str = "@google/gemini-cli";
/// Gemini CLI's own variables taken from the daemon's environment (see [`crate::env`]):
/// `GEMINI_API_KEY`, `GEMINI_MODEL`, `GEMINI_CLI_HOME`, `GOOGLE_API_KEY`,
/// `GOOGLE_GEMINI_BASE_URL`, `GOOGLE_CLOUD_PROJECT`, `GOOGLE_GENAI_USE_VERTEXAI`,
/// `GOOGLE_APPLICATION_CREDENTIALS`, ... A generic ACP agent gets none of these.
pub const GEMINI_ENV: &[&str] = &["GEMINI_*", "GOOGLE_*"];

/// The ACP version spoken.
const PROTOCOL_VERSION: u64 = 1;
/// How long an agent may take to exit once its stdin is closed before its group is ended.
const EXIT_GRACE: Duration = Duration::from_secs(10);

pub fn spawn_gemini(profile: &AgentProfile, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let program = super::find_program("BOSUN_GEMINI_PATH", GEMINI, "gemini", GEMINI_PACKAGE)?;
    let model = profile.model.iter().flat_map(|m| ["-m".to_string(), m.clone()]);
    let argv: Vec<String> = [program, "--acp".into()].into_iter().chain(model).chain(profile.args.iter().cloned()).collect();
    let mut cmd = process::base_command(&argv, spec, GEMINI_ENV)?;
    if !spec.env.iter().any(|(k, _)| k == "GEMINI_CLI_NO_RELAUNCH") {
        cmd.env("GEMINI_CLI_NO_RELAUNCH", "true");
    }
    // Gemini CLI (0.61) answers `session/load` before it has finished replaying the
    // history, and ends the replay with `available_commands_update`.
    Ok(driver::drive(process::start(cmd, &argv[0], spec)?, AcpDriver::new("Gemini CLI", spec, true)))
}

pub fn spawn(command: &[String], profile: &AgentProfile, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let argv: Vec<String> = command.iter().chain(&profile.args).cloned().collect();
    let Some(program) = argv.first() else { return Err(AgentError::Unsupported("the acp runtime needs a command".into())) };
    let name = std::path::Path::new(program).file_name().map_or(program.clone(), |n| n.to_string_lossy().into_owned());
    // Any ACP agent: nothing of the daemon's beyond the base list and `pass_env:`.
    let cmd = process::base_command(&argv, spec, &[])?;
    Ok(driver::drive(process::start(cmd, program, spec)?, AcpDriver::new(&name, spec, false)))
}

/// A tool call as far as it is known (from `tool_call`, its updates, or a permission ask).
#[derive(Default)]
struct Tool {
    /// ACP's kind: read, edit, delete, move, search, execute, think, fetch, other.
    kind: Option<String>,
    title: Option<String>,
    name: Option<String>,
    path: Option<String>,
    command: Option<String>,
    input: Option<Value>,
    /// A diff shows the file new.
    added: bool,
    /// Its `tool_call` event was emitted.
    announced: bool,
}

#[derive(Default)]
struct AcpDriver {
    /// For messages: "Gemini CLI", or the program's name.
    agent: String,
    workdir: std::path::PathBuf,
    /// The first prompt of a new session: the instructions, then the task.
    prompt: String,
    /// The prompt of a resumed session: the task (a reply) alone.
    task: String,
    resume: Option<String>,
    /// The agent goes on replaying a loaded session after answering `session/load`.
    replay_tail: bool,
    next_id: i64,
    /// Our requests awaiting an answer: their methods by id.
    calls: HashMap<i64, &'static str>,
    session: Option<String>,
    /// A `session/load` is under way: its updates are the old conversation.
    loading: bool,
    /// After a load, still inside the agent's late replay (see `replay_tail`).
    replaying: bool,
    prompting: bool,
    /// Messages said during a turn, sent as the next prompt.
    queued: Vec<String>,
    /// The agent's message being streamed.
    text: String,
    tools: HashMap<String, Tool>,
    /// Pending permission asks by the id in their event: the JSON-RPC id and the options.
    asks: HashMap<String, (Value, Vec<Value>)>,
    /// The session's cumulative cost (USD) as last reported, and what is already counted.
    cost: Option<f64>,
    counted_cost: f64,
}

impl AcpDriver {
    fn new(agent: &str, spec: &SpawnSpec, replay_tail: bool) -> AcpDriver {
        let prompt = match spec.instructions.trim() {
            "" => spec.task.clone(),
            instructions => format!("{instructions}\n\n{}", spec.task),
        };
        let (workdir, task, resume) = (spec.workdir.clone(), spec.task.clone(), spec.resume.clone());
        AcpDriver { agent: agent.into(), workdir, prompt, task, resume, replay_tail, counted_cost: spec.prior_cost, ..Default::default() }
    }

    async fn request(&mut self, io: &mut DriverIo, method: &'static str, params: Value) {
        self.next_id += 1;
        self.calls.insert(self.next_id, method);
        send(io, json!({"id": self.next_id, "method": method, "params": params})).await;
    }

    async fn new_session(&mut self, io: &mut DriverIo) {
        self.request(io, "session/new", json!({"cwd": self.workdir.to_string_lossy(), "mcpServers": []})).await;
    }

    async fn prompt(&mut self, io: &mut DriverIo, text: String) {
        let Some(session) = self.session.clone() else { return };
        self.prompting = true;
        self.request(io, "session/prompt", json!({"sessionId": session, "prompt": [{"type": "text", "text": text}]})).await;
    }

    /// The streamed message so far, as one event.
    fn flush(&mut self) -> Vec<EventKind> {
        let text = std::mem::take(&mut self.text);
        if text.trim().is_empty() { Vec::new() } else { vec![EventKind::Message { text, role: None, from: None }] }
    }

    async fn on_response(&mut self, io: &mut DriverIo, id: &Value, result: &Value, error: &Value) -> Vec<EventKind> {
        let Some(method) = id.as_i64().and_then(|n| self.calls.remove(&n)) else { return Vec::new() };
        let mut events = Vec::new();
        if method == "session/prompt" {
            self.prompting = false;
            self.replaying = false;
            events = self.flush();
        }
        match (method, error.is_object()) {
            ("session/load", true) => {
                // Lost or unreadable: a new session, with the whole prompt.
                self.loading = false;
                let session = self.resume.take().unwrap_or_default();
                let message = format!("{}: cannot load session {session}: {}; starting a new session", self.agent, describe(error));
                events.push(EventKind::Error { message });
                self.new_session(io).await;
            }
            (_, true) => events.push(self.fail(io, format!("{method} failed: {}", describe(error)))),
            ("initialize", false) => match self.resume.clone().filter(|_| result["agentCapabilities"]["loadSession"] == true) {
                Some(session) => {
                    self.loading = true;
                    let cwd = self.workdir.to_string_lossy().into_owned();
                    self.request(io, "session/load", json!({"sessionId": session, "cwd": cwd, "mcpServers": []})).await;
                }
                None => self.new_session(io).await,
            },
            ("session/new" | "session/load", false) => {
                let loaded = method == "session/load";
                let session = if loaded { self.resume.clone() } else { result["sessionId"].as_str().map(str::to_string) };
                let Some(session) = session else { return vec![self.fail(io, format!("{method} answered no session: {result}"))] };
                events.push(EventKind::Session { session_id: session.clone() });
                self.session = Some(session);
                self.loading = false;
                self.replaying = loaded && self.replay_tail;
                let text = if loaded { self.task.clone() } else { self.prompt.clone() };
                self.prompt(io, text).await;
            }
            (_, false) => {
                // session/prompt: the turn is over.
                events.extend(self.usage(&result["usage"], &result["_meta"]["quota"]["token_count"]));
                if let Some(reason) = result["stopReason"].as_str().filter(|r| !matches!(*r, "end_turn" | "cancelled")) {
                    events.push(EventKind::Error { message: format!("{}: the turn stopped: {reason}", self.agent) });
                }
                if self.queued.is_empty() {
                    self.end_turn(io);
                } else {
                    let text = std::mem::take(&mut self.queued).join("\n\n");
                    self.prompt(io, text).await;
                }
            }
        }
        events
    }

    /// Nothing more can happen in this run: it fails (the agent itself would exit 0).
    fn fail(&mut self, io: &mut DriverIo, why: String) -> EventKind {
        let message = format!("{}: {why}", self.agent);
        io.fail(message.clone());
        self.end_turn(io);
        EventKind::Error { message }
    }

    /// The last turn is over: EOF, and the group ended if the agent does not exit.
    fn end_turn(&mut self, io: &mut DriverIo) {
        io.close_stdin();
        let group = io.group.clone();
        tokio::spawn(async move {
            if tokio::time::timeout(EXIT_GRACE, group.wait()).await.is_err() {
                tracing::warn!(pid = group.pid(), "the ACP agent did not exit after its stdin closed; ending it");
                group.terminate(Duration::from_secs(5)).await;
            }
        });
    }

    /// Token counts: the protocol's draft `usage`, else Gemini CLI's `_meta.quota`.
    fn usage(&mut self, usage: &Value, quota: &Value) -> Option<EventKind> {
        let count = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
        let (input_tokens, output_tokens, cached_tokens) = match usage.is_object() {
            true => (count(usage, "inputTokens"), count(usage, "outputTokens"), count(usage, "cachedReadTokens")),
            false => (count(quota, "input_tokens"), count(quota, "output_tokens"), 0),
        };
        let cost_usd = self.cost.map(|c| (c - self.counted_cost).max(0.0));
        self.counted_cost = self.cost.unwrap_or(self.counted_cost);
        let any = usage.is_object() || quota.is_object() || cost_usd.is_some();
        any.then_some(EventKind::Usage { input_tokens, output_tokens, cached_tokens, cost_usd })
    }

    fn on_update(&mut self, update: &Value) -> Vec<EventKind> {
        let kind = update["sessionUpdate"].as_str().unwrap_or_default();
        if self.loading || self.replaying {
            // The old conversation, replayed: already in earlier runs' events.
            let replay = match kind {
                "available_commands_update" => {
                    // Gemini's replay ends here (even if it came before the load's answer).
                    self.replay_tail &= !self.loading;
                    self.replaying = false;
                    true
                }
                "user_message_chunk" | "agent_message_chunk" | "agent_thought_chunk" => true,
                "tool_call" => matches!(update["status"].as_str(), Some("completed" | "failed")),
                _ => self.loading,
            };
            if replay {
                return Vec::new();
            }
            self.replaying = false;
        }
        if kind == "agent_message_chunk" {
            if update["content"]["type"] == "text" {
                self.text.push_str(update["content"]["text"].as_str().unwrap_or_default());
            }
            return Vec::new();
        }
        let mut events = self.flush();
        match kind {
            "tool_call" | "tool_call_update" => events.extend(self.tool_update(update)),
            "usage_update" if update["cost"]["currency"].as_str().is_some_and(|c| c.eq_ignore_ascii_case("USD")) => {
                self.cost = update["cost"]["amount"].as_f64();
            }
            _ => {}
        }
        events
    }

    /// Folds what is new about a tool call into what is known; announces it once, and
    /// reports its result when it completes or fails.
    fn tool_update(&mut self, f: &Value) -> Vec<EventKind> {
        let id = f["toolCallId"].as_str().unwrap_or_default().to_string();
        let tool = self.tools.entry(id.clone()).or_default();
        tool.merge(f);
        let mut events = Vec::new();
        if !std::mem::replace(&mut tool.announced, true) {
            let (path, command, input) = (tool.path.clone(), tool.command.clone(), tool.input.clone());
            events.push(EventKind::ToolCall { id: Some(id.clone()), kind: tool.bosun_kind(), name: tool.name(), path, command, input });
        }
        let status = f["status"].as_str();
        if !matches!(status, Some("completed" | "failed")) {
            return events;
        }
        let tool = self.tools.remove(&id).unwrap_or_default();
        let is_error = status == Some("failed");
        events.push(EventKind::ToolResult {
            id: Some(id),
            kind: Some(tool.bosun_kind()),
            output: tool_output(f),
            exit_code: None,
            is_error,
        });
        let change = match tool.kind.as_deref() {
            Some("delete") => FileChangeKind::Deleted,
            Some("move") => FileChangeKind::Renamed,
            Some("edit") if tool.added => FileChangeKind::Added,
            Some("edit") => FileChangeKind::Modified,
            _ => return events,
        };
        if let (false, Some(path)) = (is_error, tool.path) {
            events.push(EventKind::FileChange { path, change, diff: None });
        }
        events
    }

    fn on_permission(&mut self, id: Value, params: &Value) -> Vec<EventKind> {
        self.replaying = false;
        let mut events = self.flush();
        let call = &params["toolCall"];
        let tool = self.tools.entry(call["toolCallId"].as_str().unwrap_or_default().to_string()).or_default();
        tool.merge(call);
        let ask = match &id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        events.push(EventKind::ApprovalRequest {
            id: ask.clone(),
            tool: tool.name(),
            kind: Some(tool.bosun_kind()),
            command: tool.command.clone(),
            path: tool.path.clone(),
            input: tool.input.clone().or_else(|| Some(call.clone())),
        });
        self.asks.insert(ask, (id, params["options"].as_array().cloned().unwrap_or_default()));
        events
    }
}

impl Tool {
    /// Takes in the fields of a `tool_call`, a `tool_call_update` or a permission ask.
    fn merge(&mut self, f: &Value) {
        let text = |k: &str| f[k].as_str().map(str::to_string);
        self.kind = text("kind").or(self.kind.take());
        self.title = text("title").or(self.title.take());
        self.name = text("name").or(self.name.take());
        if let Some(input) = f.get("rawInput").filter(|v| !v.is_null()) {
            self.input = Some(input.clone());
            self.command = self.command.take().or_else(|| match &input["command"] {
                Value::String(s) => Some(s.clone()),
                Value::Array(words) => Some(words.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")),
                _ => None,
            });
        }
        let diffs = || f["content"].as_array().into_iter().flatten().filter(|c| c["type"] == "diff");
        self.added |= diffs().any(|d| d["oldText"].as_str().unwrap_or_default().is_empty());
        let location = f["locations"][0]["path"].as_str().map(str::to_string);
        let from_input =
            || ["file_path", "path", "notebook_path"].iter().find_map(|k| self.input.as_ref()?[*k].as_str().map(str::to_string));
        let from_diff = || diffs().find_map(|d| d["path"].as_str().map(str::to_string));
        self.path = location.or_else(|| self.path.clone()).or_else(from_input).or_else(from_diff);
        if self.kind.as_deref() == Some("execute") && self.command.is_none() {
            // Gemini CLI's shell tool titles itself with the command line.
            self.command = self.title.clone();
        }
    }

    fn bosun_kind(&self) -> ToolKind {
        match self.kind.as_deref() {
            Some("read") => ToolKind::Read,
            Some("edit" | "delete" | "move") => ToolKind::Edit,
            Some("search") => ToolKind::Search,
            Some("execute") => ToolKind::Command,
            Some("fetch") => ToolKind::Web,
            _ => ToolKind::Other,
        }
    }

    /// The tool's programmatic name if the agent gives it, else its title, else its kind.
    fn name(&self) -> String {
        self.name.clone().or_else(|| self.title.clone()).or_else(|| self.kind.clone()).unwrap_or_else(|| "other".into())
    }
}

/// The text a tool produced: its text content, else its raw output.
fn tool_output(f: &Value) -> Option<String> {
    let blocks = f["content"].as_array().into_iter().flatten().filter(|c| c["type"] == "content" && c["content"]["type"] == "text");
    let texts: Vec<&str> = blocks.filter_map(|c| c["content"]["text"].as_str()).collect();
    let text = match &f["rawOutput"] {
        _ if !texts.is_empty() => texts.join("\n"),
        Value::String(s) => s.clone(),
        Value::Null => return None,
        v => v.to_string(),
    };
    Some(super::clip(text))
}

/// A JSON-RPC error as a sentence (Gemini CLI puts the reason in `data.details`).
fn describe(e: &Value) -> String {
    let message = e["message"].as_str().unwrap_or("error");
    match e["data"]["details"].as_str().or(e["data"].as_str()) {
        Some(details) => format!("{message} ({})", details.lines().next().unwrap_or(details)),
        None => message.to_string(),
    }
}

/// Writes one JSON-RPC 2.0 message (request, response or notification) as a line.
async fn send(io: &mut DriverIo, mut message: Value) -> bool {
    message["jsonrpc"] = json!("2.0");
    io.write_line(&message.to_string()).await
}

/// Answers a permission ask: `{"outcome": "selected", "optionId": ...}` or `cancelled`.
async fn answer(io: &mut DriverIo, id: Value, option: Option<&Value>) {
    let outcome = match option {
        Some(option_id) => json!({"outcome": "selected", "optionId": option_id}),
        None => json!({"outcome": "cancelled"}),
    };
    send(io, json!({"id": id, "result": {"outcome": outcome}})).await;
}

#[async_trait]
impl Driver for AcpDriver {
    async fn start(&mut self, io: &mut DriverIo) -> Vec<EventKind> {
        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "clientCapabilities": {"fs": {"readTextFile": false, "writeTextFile": false}, "terminal": false},
            "clientInfo": {"name": "bosun", "version": env!("CARGO_PKG_VERSION")},
        });
        self.request(io, "initialize", params).await;
        Vec::new()
    }

    async fn on_line(&mut self, stream: OutputStream, line: &str, io: &mut DriverIo) -> Vec<EventKind> {
        let raw = || vec![EventKind::Output { stream, line: line.to_string() }];
        let v = match driver::json_line(stream, line) {
            Ok(v) => v,
            Err(keep) => return keep,
        };
        let id = v.get("id").filter(|id| id.is_string() || id.is_number()).cloned();
        match (v["method"].as_str(), id) {
            (Some("session/update"), None) => self.on_update(&v["params"]["update"]),
            (Some(_), None) => Vec::new(),
            (Some("session/request_permission"), Some(id)) => self.on_permission(id, &v["params"]),
            (Some(method), Some(id)) => {
                // fs/*, terminal/* and anything else we did not advertise.
                send(io, json!({"id": id, "error": {"code": -32601, "message": "Method not found", "data": method}})).await;
                Vec::new()
            }
            (None, Some(id)) => self.on_response(io, &id, &v["result"], &v["error"]).await,
            (None, None) => raw(),
        }
    }

    async fn on_command(&mut self, command: AgentCommand, io: &mut DriverIo) -> Vec<EventKind> {
        match command {
            AgentCommand::Say(_) if !io.stdin_open() => {
                let message = format!("could not deliver to {}: its turn has ended (use `bosun reply`)", self.agent);
                return vec![EventKind::Error { message }];
            }
            AgentCommand::Say(text) if self.prompting || self.session.is_none() => self.queued.push(text),
            AgentCommand::Say(text) => self.prompt(io, text).await,
            AgentCommand::Interrupt => {
                let Some(session) = self.session.clone().filter(|_| self.prompting) else { return Vec::new() };
                send(io, json!({"method": "session/cancel", "params": {"sessionId": session}})).await;
                // Pending asks must be answered `cancelled`.
                for (_, (id, _)) in std::mem::take(&mut self.asks) {
                    answer(io, id, None).await;
                }
            }
            AgentCommand::Answer { id, allow, .. } => {
                let Some((rpc_id, options)) = self.asks.remove(&id) else { return Vec::new() };
                let wanted = if allow { ["allow_once", "allow_always"] } else { ["reject_once", "reject_always"] };
                let option = wanted.iter().find_map(|k| options.iter().find(|o| o["kind"] == *k)).map(|o| &o["optionId"]);
                answer(io, rpc_id, option).await;
            }
        }
        Vec::new()
    }
}
