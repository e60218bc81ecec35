//! The session loop: prompt in, model requests out, tools run, until the model is
//! done, the turns run out, or a human interrupts.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use bosun_core::{EventKind, ToolKind};
use bosun_model_client::{Client, Item, Progress, Reply, Request, Wire};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::Args;
use crate::conversation::{Conversation, known_window};
use crate::io::{Input, emit, emit_raw, read_stdin};
use crate::tools::{self, Ctx, Plan};

/// Bytes of a tool's output shown in its `tool_result` event (the model gets more).
const SHOWN: usize = 4096;
/// Compaction starts when the conversation takes this share of the window.
const COMPACT_AT: f64 = 0.75;
/// Repo instructions read into the first request, at most this many bytes each.
const MAX_INSTRUCTIONS: usize = 32 * 1024;

/// Exit codes.
const EXIT_FAILED: i32 = 1;
const EXIT_TURNS: i32 = 3;

/// How waiting on something while stdin talks ended.
enum Waited<T> {
    Done(T),
    Interrupted,
}

struct Session {
    args: Args,
    client: Client,
    ctx: Ctx,
    conversation: Conversation,
    system: String,
    inputs: UnboundedReceiver<Input>,
    /// stdin reached EOF: nobody can answer an approval any more.
    stdin_closed: bool,
    /// Messages said since the last request.
    inbox: Vec<String>,
    asks: u64,
}

pub async fn run(args: Args) -> i32 {
    let failed = |why: String| {
        emit(&EventKind::Error { message: why });
        EXIT_FAILED
    };
    let wire = match args.provider.as_str() {
        "openai-compatible" => Wire::Chat,
        "anthropic" => Wire::Anthropic,
        "openai" => Wire::Responses,
        "gemini" => Wire::Gemini,
        other => return failed(format!("unknown provider `{other}` (anthropic, openai, openai-compatible, gemini)")),
    };
    let key = match &args.key_env {
        None => None,
        Some(name) => match std::env::var(name) {
            Ok(k) if !k.trim().is_empty() => Some(k.trim().to_string()),
            _ => return failed(format!("the API key variable `{name}` (the profile's key_env) is not set in bosun's environment")),
        },
    };
    let mut client = match Client::new(wire, &args.base_url, key) {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    client.retry.attempts = args.attempts.max(1);
    let root = match std::env::current_dir().and_then(|d| d.canonicalize()) {
        Ok(r) => r,
        Err(e) => return failed(format!("cannot find the workspace: {e}")),
    };
    let mut inputs = read_stdin();
    let (task, instructions) = loop {
        match inputs.recv().await {
            Some(Input::Prompt { text, system }) => break (text, system),
            Some(_) => continue,
            None => return failed("stdin closed before the prompt".into()),
        }
    };
    let conversation = match &args.resume {
        None => Conversation::new(&args.state_dir),
        Some(id) => match Conversation::load(&args.state_dir, id) {
            Ok(c) => c,
            Err(why) => {
                emit(&EventKind::Error { message: format!("cannot resume: {why}; starting a new conversation") });
                Conversation::new(&args.state_dir)
            }
        },
    };
    let ctx = Ctx { root: root.clone(), key_env: args.key_env.clone(), run_timeout: Duration::from_secs(args.run_timeout.max(1)) };
    let system = system_prompt(&root, &instructions);
    let mut s = Session { args, client, ctx, conversation, system, inputs, stdin_closed: false, inbox: Vec::new(), asks: 0 };
    emit(&EventKind::Session { session_id: s.conversation.session.clone() });
    let first = if s.conversation.items.is_empty() { first_message(&root, &task) } else { task };
    s.conversation.push(Item::User { text: first });
    s.save();
    s.turns().await
}

impl Session {
    fn save(&self) {
        if let Err(why) = self.conversation.save() {
            emit(&EventKind::Error { message: why });
        }
    }

    /// Requests and tool runs until the model is done.
    async fn turns(&mut self) -> i32 {
        let specs = tools::specs(&self.args.tools);
        let mut made = 0;
        loop {
            self.take_inbox();
            if made >= self.args.max_turns {
                let why = format!("stopped after max_turns ({}) model requests; `bosun reply` to go on", self.args.max_turns);
                emit(&EventKind::Error { message: why });
                return EXIT_TURNS;
            }
            self.compact_if_near_window();
            made += 1;
            let reply = match self.request(&specs).await {
                Waited::Interrupted => return self.interrupted("the model request was cancelled"),
                Waited::Done(Err(e)) => {
                    emit(&EventKind::Error { message: e.to_string() });
                    return EXIT_FAILED;
                }
                Waited::Done(Ok(reply)) => reply,
            };
            let Reply { text, calls, usage } = reply;
            if !text.trim().is_empty() {
                emit(&EventKind::Message { text: text.clone(), role: None, from: None });
            }
            emit(&EventKind::Usage {
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cached_tokens: usage.cached_tokens,
                cost_usd: None,
            });
            self.conversation.push(Item::Assistant { text, calls: calls.clone() });
            self.save();
            if calls.is_empty() {
                // Said while the last answer streamed: the model hears it before the end.
                self.drain_inputs();
                if self.inbox.is_empty() {
                    return 0;
                }
                continue;
            }
            for call in &calls {
                let (output, is_error) = match self.call(call).await {
                    Waited::Done(result) => result,
                    Waited::Interrupted => {
                        self.conversation.answer_unanswered("interrupted by the user before it ran");
                        return self.interrupted("the turn was cut short");
                    }
                };
                self.conversation.push(Item::ToolResult { call_id: call.id.clone(), name: call.name.clone(), output, is_error });
                self.save();
            }
        }
    }

    fn interrupted(&mut self, what: &str) -> i32 {
        self.save();
        eprintln!("interrupted: {what}");
        0
    }

    /// Messages said so far become one user turn.
    fn take_inbox(&mut self) {
        self.drain_inputs();
        if self.inbox.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.inbox).join("\n\n");
        self.conversation.push(Item::User { text });
        self.save();
    }

    /// Reads what stdin has without waiting (messages into the inbox).
    fn drain_inputs(&mut self) {
        while let Ok(input) = self.inputs.try_recv() {
            if let Input::Message { text } = input {
                self.inbox.push(text);
            }
        }
    }

    fn compact_if_near_window(&mut self) {
        let window = self.args.context_window.unwrap_or_else(|| known_window(&self.args.model));
        let used = self.conversation.estimate(&self.system);
        if (used as f64) < window as f64 * COMPACT_AT {
            return;
        }
        let (count, bytes) = self.conversation.compact();
        if count > 0 {
            eprintln!(
                "context compacted: {count} older tool results ({bytes} bytes) dropped, the conversation being near the model's window of {window} tokens"
            );
            self.save();
        }
    }

    async fn request(&mut self, specs: &[bosun_model_client::ToolSpec]) -> Waited<Result<Reply, bosun_model_client::ModelError>> {
        let items = std::mem::take(&mut self.conversation.items);
        let (model, system) = (self.args.model.clone(), self.system.clone());
        let req = Request { model: &model, system: &system, items: &items, tools: specs, max_tokens: self.args.max_tokens };
        let mut progress = |p: Progress| {
            if let Progress::Retrying { attempt, why, wait } = p {
                eprintln!("model request failed (attempt {attempt}): {why}; trying again in {:.1}s", wait.as_secs_f64());
            }
        };
        let client = &self.client;
        let fut = client.send(&req, &mut progress);
        // The request borrows the items while stdin is read: they are held aside.
        let out = serve_inputs(&mut self.inputs, &mut self.inbox, &mut self.stdin_closed, fut).await;
        self.conversation.items = items;
        out
    }

    /// One tool call: its event, the approval if it needs one, its result event; what
    /// goes back to the model.
    async fn call(&mut self, call: &bosun_model_client::ToolCall) -> Waited<(String, bool)> {
        let input = call.input();
        let planned = input.clone().and_then(|i| tools::plan(&self.ctx, &self.args.tools, &call.name, &i));
        let kind = planned.as_ref().map_or_else(|_| tools::kind(&call.name), |p| p.kind);
        emit(&EventKind::ToolCall {
            id: Some(call.id.clone()),
            kind,
            name: call.name.clone(),
            path: planned.as_ref().ok().and_then(|p| p.path.clone()),
            command: planned.as_ref().ok().and_then(|p| p.command.clone()),
            input: input.as_ref().ok().cloned(),
        });
        let result = match (input, planned) {
            (Err(why), _) | (_, Err(why)) => Err(why),
            (Ok(input), Ok(plan)) => match self.allowed(&call.name, &input, &plan).await {
                Waited::Interrupted => return Waited::Interrupted,
                Waited::Done(Err(why)) => Err(why),
                Waited::Done(Ok(())) => {
                    let ctx = &self.ctx;
                    let fut = tools::run(ctx, &call.name, &input, &plan);
                    match serve_inputs(&mut self.inputs, &mut self.inbox, &mut self.stdin_closed, fut).await {
                        Waited::Interrupted => return Waited::Interrupted,
                        Waited::Done(r) => r.map(|done| (done, plan)),
                    }
                }
            },
        };
        let (output, is_error, exit_code) = match result {
            Ok((done, plan)) => {
                if let (Some(change), Some(path)) = (done.change, &plan.path) {
                    emit(&EventKind::FileChange { path: path.clone(), change, diff: None });
                }
                if let Some((path, description)) = &done.delivered {
                    emit_raw(&json!({"type": "deliverable", "path": path, "description": description}));
                }
                (done.output, done.is_error, done.exit_code)
            }
            Err(why) => (format!("error: {why}"), true, None),
        };
        emit(&EventKind::ToolResult {
            id: Some(call.id.clone()),
            kind: Some(kind),
            output: Some(tools::cap(&output, SHOWN)),
            exit_code,
            is_error,
        });
        Waited::Done((output, is_error))
    }

    /// Asks bosun (its policy, or a human) before a call that changes things.
    async fn allowed(&mut self, tool: &str, input: &Value, plan: &Plan) -> Waited<Result<(), String>> {
        if !plan.ask {
            return Waited::Done(Ok(()));
        }
        self.asks += 1;
        let id = format!("ask-{}", self.asks);
        emit(&EventKind::ApprovalRequest {
            id: id.clone(),
            tool: tool.to_string(),
            kind: Some(plan.kind),
            command: plan.command.clone(),
            path: plan.abs.as_ref().map(|p| p.to_string_lossy().into_owned()),
            input: Some(input.clone()),
        });
        loop {
            if self.stdin_closed {
                return Waited::Done(Err("not allowed: nobody can answer the approval request (bosun's stdin closed)".into()));
            }
            match self.inputs.recv().await {
                Some(Input::Approval { id: answered, allow, message }) if answered == id => {
                    if allow {
                        return Waited::Done(Ok(()));
                    }
                    let why = message.filter(|m| !m.trim().is_empty()).map(|m| format!(": {m}")).unwrap_or_default();
                    return Waited::Done(Err(format!("the user denied this {}{why}", kind_word(plan.kind))));
                }
                Some(Input::Message { text }) => self.inbox.push(text),
                Some(Input::Interrupt) => return Waited::Interrupted,
                Some(_) => {}
                None => self.stdin_closed = true,
            }
        }
    }
}

/// Waits for `fut` while reading stdin: messages are kept, an interrupt ends the wait.
/// Over the session's parts, for futures that borrow the rest of it.
async fn serve_inputs<T>(
    inputs: &mut UnboundedReceiver<Input>,
    inbox: &mut Vec<String>,
    stdin_closed: &mut bool,
    fut: impl Future<Output = T>,
) -> Waited<T> {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return Waited::Done(out),
            input = inputs.recv(), if !*stdin_closed => match input {
                Some(Input::Message { text }) => inbox.push(text),
                Some(Input::Interrupt) => return Waited::Interrupted,
                Some(_) => {}
                None => *stdin_closed = true,
            },
        }
    }
}

fn kind_word(kind: ToolKind) -> &'static str {
    match kind {
        ToolKind::Command => "command",
        ToolKind::Write => "write",
        ToolKind::Edit => "edit",
        _ => "call",
    }
}

/// bosun's preamble, then the profile's instructions.
fn system_prompt(root: &Path, instructions: &str) -> String {
    let preamble = format!(
        "You are an agent run by bosun. You work in the workspace directory {} through your tools; paths are relative to it. \
Work step by step, check what you did, and when you made a file the user asked for, call `deliver` on it with a one-line description. \
When the task is done, answer with a short summary and no tool call.",
        root.display()
    );
    if instructions.trim().is_empty() { preamble } else { format!("{preamble}\n\n{}", instructions.trim()) }
}

/// The first user turn: the task, where it happens, and the repo's agent instructions.
fn first_message(root: &Path, task: &str) -> String {
    let mut text = format!("{}\n\nWorking directory: {}\n", task.trim(), root.display());
    for name in ["AGENTS.md", "CLAUDE.md"] {
        if let Ok(body) = std::fs::read_to_string(root.join(name)) {
            text.push_str(&format!(
                "\n# {name} (the repository's instructions for agents)\n\n{}\n",
                tools::cap(body.trim(), MAX_INSTRUCTIONS)
            ));
        }
    }
    text
}
