//! The `codex` runtime: Codex driven through `codex app-server`, JSON-RPC over stdio
//! (one JSON object per line, no `"jsonrpc"` field), one long-lived process per run.
//! `start` pipelines `initialize`, `initialized` and `thread/start` (or `thread/resume`
//! for `bosun reply`) with the profile's instructions as developer instructions; once
//! the thread is known its task goes in with `turn/start`. Items become tool calls,
//! results, file changes and messages; `say` is `turn/steer`, `interrupt` is
//! `turn/interrupt`, and the server's approval requests are answered `accept` or
//! `decline`. After `turn/completed`, stdin is closed and the app-server exits.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use bosun_core::{AgentProfile, EventKind, FileChangeKind, OutputStream, ToolKind};
use serde_json::{Value, json};

use super::clip;
use crate::driver::{self, AgentCommand, Driver, DriverIo};
use crate::process;
use crate::{AgentError, AgentProcess, SpawnSpec};

pub const PROGRAM: &str = "codex";
pub const PACKAGE: &str = "@openai/codex";
/// Codex's own variables taken from the daemon's environment (see [`crate::env`]):
/// `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `CODEX_HOME`, `CODEX_API_KEY`, `CODEX_CA_CERTIFICATE`,
/// ... A provider's own `env_key` from `config.toml` is the profile's to pass (`pass_env:`).
pub const ENV: &[&str] = &["OPENAI_*", "CODEX_*"];

/// Tool output (and diffs) kept in an event.
/// Commands that are not known to be read-only ask first, and so do file changes;
/// bosun answers by its policy or a human.
const APPROVAL_POLICY: &str = "untrusted";
/// Writes inside the worktree, no network (bubblewrap, Codex's bundled one if need be).
const SANDBOX: &str = "workspace-write";

pub fn spawn(profile: &AgentProfile, spec: &SpawnSpec) -> Result<AgentProcess, AgentError> {
    let program = super::find_program("BOSUN_CODEX_PATH", PROGRAM, "codex", PACKAGE)?;
    let mut argv: Vec<String> = vec![program, "app-server".into()];
    argv.extend(profile.args.iter().cloned());
    if let Some(model) = &profile.model {
        // app-server has no `-m`; a quoted value stays a TOML string whatever the name.
        argv.extend(["-c".into(), format!("model={}", Value::from(model.as_str()))]);
    }
    let cmd = process::base_command(&argv, spec, ENV)?;
    let spawned = process::start(cmd, &argv[0], spec)?;
    let driver = CodexDriver {
        workdir: spec.workdir.clone(),
        task: spec.task.clone(),
        instructions: spec.instructions.clone(),
        resume: spec.resume.clone(),
        ..Default::default()
    };
    Ok(driver::drive(spawned, driver))
}

#[derive(Default)]
struct CodexDriver {
    workdir: PathBuf,
    task: String,
    instructions: String,
    resume: Option<String>,
    next_id: u64,
    /// Our requests awaiting their response: id → method.
    calls: HashMap<u64, &'static str>,
    thread: Option<String>,
    /// The running turn, once `turn/start` answered (or `turn/started` came).
    turn: Option<String>,
    /// Says and interrupts that came before the turn had an id.
    queued: Vec<AgentCommand>,
    /// The server's pending requests: bosun's id → the JSON-RPC id, echoed as is.
    asks: HashMap<String, Value>,
    /// Changes of fileChange items in flight (their approvals name only the item).
    patches: HashMap<String, Value>,
    /// Cumulative token counts per thread (input, cached input, output).
    totals: HashMap<String, [u64; 3]>,
    /// The turn's failure was already reported by an `error` notification.
    failed: bool,
}

fn text_input(text: &str) -> Value {
    json!([{"type": "text", "text": text}])
}

/// Codex runs every command as `/bin/bash -lc '<command>'`: the command itself, or
/// the whole line if it is not exactly that shape.
fn unwrap_shell(line: &str) -> String {
    let inner = line.split_once(' ').and_then(|(shell, rest)| {
        let name = shell.rsplit('/').next().unwrap_or(shell);
        let word = rest.strip_prefix("-lc ").or_else(|| rest.strip_prefix("-c "))?;
        matches!(name, "bash" | "sh" | "zsh").then(|| unquote(word)).flatten()
    });
    inner.unwrap_or_else(|| line.to_string())
}

/// One POSIX shell word ('...', "...", \x) unquoted; None if it is anything more.
fn unquote(word: &str) -> Option<String> {
    let (mut out, mut chars) = (String::new(), word.chars());
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            '"' => loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => match chars.next()? {
                        '\n' => {}
                        n @ ('$' | '`' | '"' | '\\') => out.push(n),
                        n => out.extend(['\\', n]),
                    },
                    '$' | '`' => return None,
                    c => out.push(c),
                }
            },
            '\\' => out.push(chars.next()?),
            c if c.is_whitespace() || "|&;<>()$`*?[#~{".contains(c) => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// A Codex error's message (provider errors arrive as JSON text: their own message).
fn error_text(error: &Value) -> String {
    let message = error["message"].as_str().unwrap_or("unknown error");
    let inner = serde_json::from_str::<Value>(message).ok().and_then(|v| v["error"]["message"].as_str().map(str::to_string));
    format!("Codex: {}", inner.as_deref().unwrap_or(message))
}

/// Write for a patch that only adds files, else Edit.
fn patch_kind(changes: &Value) -> ToolKind {
    let all_adds = changes.as_array().is_some_and(|c| !c.is_empty() && c.iter().all(|c| c["kind"]["type"] == "add"));
    if all_adds { ToolKind::Write } else { ToolKind::Edit }
}

fn change_kind(kind: &Value) -> FileChangeKind {
    match (kind["type"].as_str(), kind["move_path"].is_string()) {
        (Some("add"), _) => FileChangeKind::Added,
        (Some("delete"), _) => FileChangeKind::Deleted,
        (_, true) => FileChangeKind::Renamed,
        _ => FileChangeKind::Modified,
    }
}

/// Paths and kinds of a patch, without the diffs.
fn change_list(changes: &Value) -> Value {
    let list = changes.as_array().into_iter().flatten();
    list.map(|c| json!({"path": c["path"], "kind": c["kind"]["type"], "move_path": c["kind"]["move_path"]})).collect()
}

impl CodexDriver {
    async fn call(&mut self, io: &mut DriverIo, method: &'static str, params: Value) -> bool {
        self.next_id += 1;
        self.calls.insert(self.next_id, method);
        io.write_line(&json!({"id": self.next_id, "method": method, "params": params}).to_string()).await
    }

    /// The path an approval is judged by: the first one outside the worktree if any
    /// (so one stray file makes the whole patch ask), else the first.
    fn patch_path(&self, changes: &Value) -> Option<String> {
        let paths: Vec<&str> = changes.as_array().into_iter().flatten().filter_map(|c| c["path"].as_str()).collect();
        let outside = |p: &&&str| {
            let p = Path::new(**p);
            p.components().any(|c| c == Component::ParentDir) || (p.is_absolute() && !p.starts_with(&self.workdir))
        };
        paths.iter().find(outside).or(paths.first()).map(|p| p.to_string())
    }

    async fn response(&mut self, v: &Value, io: &mut DriverIo) -> Vec<EventKind> {
        let method = v["id"].as_u64().and_then(|id| self.calls.remove(&id));
        if v.get("error").is_some() {
            let what = method.unwrap_or("a request");
            let message = format!("{} ({what})", error_text(&v["error"]));
            if matches!(method, Some("initialize" | "thread/start" | "thread/resume" | "turn/start")) {
                io.close_stdin(); // nothing more can happen in this run
                io.fail(message.clone());
            }
            return vec![EventKind::Error { message }];
        }
        match method {
            Some("thread/start" | "thread/resume") => {
                let Some(thread) = v["result"]["thread"]["id"].as_str().map(str::to_string) else {
                    io.close_stdin();
                    io.fail("Codex: no thread id in its answer");
                    return vec![EventKind::Error { message: "Codex: no thread id in its answer".into() }];
                };
                self.thread = Some(thread.clone());
                let task = text_input(&self.task);
                self.call(io, "turn/start", json!({"threadId": thread, "input": task})).await;
                vec![EventKind::Session { session_id: thread }]
            }
            Some("turn/start") => self.turn_known(&v["result"]["turn"]["id"], io).await,
            _ => Vec::new(),
        }
    }

    /// The turn has an id: deliver what waited for it.
    async fn turn_known(&mut self, id: &Value, io: &mut DriverIo) -> Vec<EventKind> {
        let Some(id) = id.as_str() else { return Vec::new() };
        if self.turn.is_some() {
            return Vec::new();
        }
        self.turn = Some(id.to_string());
        let mut events = Vec::new();
        for command in std::mem::take(&mut self.queued) {
            events.extend(self.deliver(command, io).await);
        }
        events
    }

    async fn server_request(&mut self, method: &str, id: Value, p: &Value, io: &mut DriverIo) -> Vec<EventKind> {
        let key = id.as_str().map_or_else(|| id.to_string(), str::to_string);
        let event = match method {
            "item/commandExecution/requestApproval" => {
                let command = p["command"].as_str().map(unwrap_shell);
                let input = json!({"command": p["command"], "cwd": p["cwd"], "reason": p["reason"]});
                EventKind::ApprovalRequest {
                    id: key.clone(),
                    tool: "Bash".into(),
                    kind: Some(ToolKind::Command),
                    command,
                    path: None,
                    input: Some(input),
                }
            }
            "item/fileChange/requestApproval" => {
                let changes = p["itemId"].as_str().and_then(|i| self.patches.get(i)).cloned().unwrap_or(Value::Null);
                let path = p["grantRoot"].as_str().map(str::to_string).or_else(|| self.patch_path(&changes));
                let input = json!({"changes": change_list(&changes), "reason": p["reason"], "grantRoot": p["grantRoot"]});
                EventKind::ApprovalRequest {
                    id: key.clone(),
                    tool: "apply_patch".into(),
                    kind: Some(patch_kind(&changes)),
                    command: None,
                    path,
                    input: Some(input),
                }
            }
            _ => {
                let refusal = json!({"id": id, "error": {"code": -32601, "message": format!("bosun does not support {method}")}});
                io.write_line(&refusal.to_string()).await;
                return vec![EventKind::Error { message: format!("Codex asked `{method}`, which bosun cannot answer: refused") }];
            }
        };
        self.asks.insert(key, id);
        vec![event]
    }

    fn item_started(&mut self, item: &Value) -> Vec<EventKind> {
        let id = item["id"].as_str().map(str::to_string);
        let call = |kind, name: &str, path, command, input| EventKind::ToolCall {
            id: id.clone(),
            kind,
            name: name.into(),
            path,
            command,
            input: Some(input),
        };
        match item["type"].as_str().unwrap_or_default() {
            "commandExecution" => {
                let command = item["command"].as_str().map(unwrap_shell);
                vec![call(ToolKind::Command, "Bash", None, command, json!({"command": item["command"], "cwd": item["cwd"]}))]
            }
            "fileChange" => {
                let changes = &item["changes"];
                if let Some(id) = &id {
                    self.patches.insert(id.clone(), changes.clone());
                }
                let path = self.patch_path(changes);
                vec![call(patch_kind(changes), "apply_patch", path, None, json!({"changes": change_list(changes)}))]
            }
            "mcpToolCall" => {
                let name = format!("{}/{}", item["server"].as_str().unwrap_or("mcp"), item["tool"].as_str().unwrap_or("tool"));
                vec![call(ToolKind::Other, &name, None, None, item["arguments"].clone())]
            }
            "webSearch" => vec![call(ToolKind::Web, "web_search", None, None, json!({"query": item["query"]}))],
            _ => Vec::new(),
        }
    }

    fn item_completed(&mut self, item: &Value) -> Vec<EventKind> {
        let id = item["id"].as_str().map(str::to_string);
        let failed = matches!(item["status"].as_str(), Some("failed" | "declined")) || !item["error"].is_null();
        let result = |kind, output: Option<String>| EventKind::ToolResult {
            id: id.clone(),
            kind: Some(kind),
            output,
            exit_code: None,
            is_error: failed,
        };
        match item["type"].as_str().unwrap_or_default() {
            "agentMessage" => match item["text"].as_str() {
                Some(text) if !text.trim().is_empty() => vec![EventKind::Message { text: text.to_string(), role: None, from: None }],
                _ => Vec::new(),
            },
            "commandExecution" => {
                let output = item["aggregatedOutput"].as_str().map(|s| clip(s.to_string()));
                vec![EventKind::ToolResult {
                    id,
                    kind: Some(ToolKind::Command),
                    output,
                    exit_code: item["exitCode"].as_i64(),
                    is_error: failed,
                }]
            }
            "fileChange" => {
                if let Some(id) = &id {
                    self.patches.remove(id);
                }
                let mut events = vec![result(patch_kind(&item["changes"]), None)];
                if item["status"] == "completed" {
                    for c in item["changes"].as_array().into_iter().flatten() {
                        let Some(path) = c["kind"]["move_path"].as_str().or(c["path"].as_str()) else { continue };
                        let diff = c["diff"].as_str().map(|d| clip(d.to_string()));
                        events.push(EventKind::FileChange { path: path.to_string(), change: change_kind(&c["kind"]), diff });
                    }
                }
                events
            }
            "mcpToolCall" => vec![result(ToolKind::Other, item["result"].as_object().map(|r| clip(Value::from(r.clone()).to_string())))],
            "webSearch" => vec![result(ToolKind::Web, None)],
            _ => Vec::new(),
        }
    }

    /// Token counts are cumulative per thread: each update becomes the difference.
    fn usage(&mut self, p: &Value) -> Vec<EventKind> {
        let read = |u: &Value| ["inputTokens", "cachedInputTokens", "outputTokens"].map(|k| u[k].as_u64().unwrap_or(0));
        let total = read(&p["tokenUsage"]["total"]);
        let thread = p["threadId"].as_str().unwrap_or_default().to_string();
        let before = self.totals.insert(thread, total);
        if self.turn.is_none() {
            return Vec::new(); // a resumed thread's history, counted by earlier runs
        }
        let [input, cached, output] = match before {
            Some(b) => [0, 1, 2].map(|i| total[i].saturating_sub(b[i])),
            None => read(&p["tokenUsage"]["last"]),
        };
        if input + output == 0 {
            return Vec::new();
        }
        vec![EventKind::Usage { input_tokens: input.saturating_sub(cached), output_tokens: output, cached_tokens: cached, cost_usd: None }]
    }

    /// The turn is over: no more input, so the app-server exits.
    fn turn_completed(&mut self, turn: &Value, io: &mut DriverIo) -> Vec<EventKind> {
        self.turn = None;
        io.close_stdin();
        if turn["status"] == "failed" {
            io.fail(format!("Codex: the turn failed: {}", error_text(&turn["error"])));
        }
        let failed = turn["status"] == "failed" && !self.failed;
        if failed { vec![EventKind::Error { message: error_text(&turn["error"]) }] } else { Vec::new() }
    }

    async fn deliver(&mut self, command: AgentCommand, io: &mut DriverIo) -> Vec<EventKind> {
        if let AgentCommand::Answer { id, allow, message } = command {
            return self.answer(id, allow, message, io).await;
        }
        let ended = || vec![EventKind::Error { message: "could not deliver to Codex: its turn has ended (use `bosun reply`)".into() }];
        if !io.stdin_open() {
            return ended();
        }
        let (Some(thread), Some(turn)) = (self.thread.clone(), self.turn.clone()) else {
            self.queued.push(command);
            return Vec::new();
        };
        let delivered = match command {
            AgentCommand::Say(text) => {
                self.call(io, "turn/steer", json!({"threadId": thread, "expectedTurnId": turn, "input": text_input(&text)})).await
            }
            _ => self.call(io, "turn/interrupt", json!({"threadId": thread, "turnId": turn})).await,
        };
        if delivered { Vec::new() } else { ended() }
    }

    /// A decision has no room for a reason: a denial's reason follows as a steer.
    async fn answer(&mut self, id: String, allow: bool, reason: Option<String>, io: &mut DriverIo) -> Vec<EventKind> {
        let Some(rpc_id) = self.asks.remove(&id) else {
            return vec![EventKind::Error { message: format!("Codex has no pending request {id}") }];
        };
        let decision = if allow { "accept" } else { "decline" };
        if !io.write_line(&json!({"id": rpc_id, "result": {"decision": decision}}).to_string()).await {
            return vec![EventKind::Error { message: "could not answer Codex: it has ended".into() }];
        }
        match reason.filter(|r| !allow && !r.trim().is_empty()) {
            Some(reason) => Box::pin(self.deliver(AgentCommand::Say(format!("Denied: {reason}")), io)).await,
            None => Vec::new(),
        }
    }
}

#[async_trait]
impl Driver for CodexDriver {
    async fn start(&mut self, io: &mut DriverIo) -> Vec<EventKind> {
        let client = json!({"clientInfo": {"name": "bosun", "title": "bosun", "version": env!("CARGO_PKG_VERSION")}});
        self.call(io, "initialize", client).await;
        io.write_line(&json!({"method": "initialized"}).to_string()).await;
        let mut params = json!({"cwd": self.workdir, "approvalPolicy": APPROVAL_POLICY, "sandbox": SANDBOX});
        if !self.instructions.trim().is_empty() {
            params["developerInstructions"] = Value::from(self.instructions.as_str());
        }
        match self.resume.clone() {
            Some(thread) => {
                params["threadId"] = Value::from(thread);
                params["excludeTurns"] = Value::from(true);
                self.call(io, "thread/resume", params).await
            }
            None => self.call(io, "thread/start", params).await,
        };
        Vec::new()
    }

    async fn on_line(&mut self, stream: OutputStream, line: &str, io: &mut DriverIo) -> Vec<EventKind> {
        let raw = || vec![EventKind::Output { stream, line: line.to_string() }];
        let v = match driver::json_line(stream, line) {
            Ok(v) => v,
            Err(keep) => return keep,
        };
        let p = &v["params"];
        match (v["method"].as_str(), v.get("id")) {
            (Some(method), Some(id)) => self.server_request(method, id.clone(), p, io).await,
            (None, Some(_)) => self.response(&v, io).await,
            (Some("item/started"), None) => self.item_started(&p["item"]),
            (Some("item/completed"), None) => self.item_completed(&p["item"]),
            (Some("thread/tokenUsage/updated"), None) => self.usage(p),
            // Sub-agents' threads have turns of their own.
            (Some("turn/started" | "turn/completed"), None) if p["threadId"].as_str() != self.thread.as_deref() => Vec::new(),
            (Some("turn/started"), None) => self.turn_known(&p["turn"]["id"], io).await,
            (Some("turn/completed"), None) => self.turn_completed(&p["turn"], io),
            (Some("error"), None) if p["willRetry"] == true => {
                vec![EventKind::Output { stream, line: format!("{} (retrying)", error_text(&p["error"])) }]
            }
            (Some("error"), None) => {
                self.failed = true;
                vec![EventKind::Error { message: error_text(&p["error"]) }]
            }
            // Protocol state (deltas, statuses, diffs, rate limits...): nothing to show.
            (Some(method), None) if method.contains('/') => Vec::new(),
            // Warnings (their text) and anything unknown stay visible as output.
            (Some(method), None) => match p["message"].as_str().or(p["summary"].as_str()) {
                Some(text) => vec![EventKind::Output { stream, line: format!("Codex {method}: {text}") }],
                None => raw(),
            },
            _ => raw(),
        }
    }

    async fn on_command(&mut self, command: AgentCommand, io: &mut DriverIo) -> Vec<EventKind> {
        self.deliver(command, io).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_lose_the_shell_wrapper_only_when_exactly_one_word() {
        assert_eq!(unwrap_shell("/bin/bash -lc 'cargo test && rm -rf x'"), "cargo test && rm -rf x");
        assert_eq!(unwrap_shell(r#"/bin/bash -lc "echo 'it''s' \"q\" > q.txt""#), r#"echo 'it''s' "q" > q.txt"#);
        for as_is in ["/bin/bash -lc 'a' 'b'", "/bin/bash -lc a;b", "python -c 'x'", "ls -la", ""] {
            assert_eq!(unwrap_shell(as_is), as_is);
        }
    }

    #[test]
    fn usage_is_the_difference_and_skips_a_resumed_history() {
        let mut d = CodexDriver::default();
        let update = |n: u64| json!({"threadId": "t", "tokenUsage": {"total": {"inputTokens": 10 * n, "cachedInputTokens": 2 * n, "outputTokens": n}}});
        assert!(d.usage(&update(3)).is_empty());
        d.turn = Some("u".into());
        assert_eq!(d.usage(&update(4)), [EventKind::Usage { input_tokens: 8, output_tokens: 1, cached_tokens: 2, cost_usd: None }]);
        assert!(d.usage(&update(4)).is_empty());
    }
}
