//! The wire formats: turns this crate scripts are rendered here into the exact SSE events
//! (or JSON bodies) each vendor API sends, and the working directory a CLI reports is dug
//! out of its request so tool inputs can name absolute paths through `{cwd}`.

use serde_json::{Value, json};

use crate::script::{Block, Family, Turn, Usage};

/// Per-response facts the renderers need besides the turn.
pub struct Ctx {
    /// The request's sequence number; makes every id unique (`msg_mock_3`, `toolu_mock_3_1`).
    pub seq: usize,
    pub model: String,
}

/// One named SSE event: `event: <data.type>`, one `data:` line, a blank line.
fn event(data: Value) -> String {
    format!("event: {}\ndata: {data}\n\n", data["type"].as_str().unwrap_or_default())
}

fn anthropic_usage(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": u.cached_tokens,
    })
}

fn anthropic_stop_reason(turn: &Turn) -> &'static str {
    if turn.blocks.iter().all(|b| matches!(b, Block::Text(_))) { "end_turn" } else { "tool_use" }
}

/// The message's complete content blocks; a custom tool's string input becomes `{"input": s}`.
fn anthropic_content(turn: &Turn, seq: usize) -> Vec<Value> {
    let block = |(i, block): (usize, &Block)| match block {
        Block::Text(text) => json!({ "type": "text", "text": text }),
        Block::ToolCall { name, input } => {
            json!({ "type": "tool_use", "id": format!("toolu_mock_{seq}_{i}"), "name": name, "input": input })
        }
        Block::CustomToolCall { name, input } => json!({
            "type": "tool_use", "id": format!("toolu_mock_{seq}_{i}"), "name": name, "input": { "input": input },
        }),
    };
    turn.blocks.iter().enumerate().map(block).collect()
}

/// `POST /v1/messages` with `stream: true`: each block is started empty, then given whole
/// in one delta (`text_delta`, or `input_json_delta` with the complete input JSON).
pub fn anthropic_sse(turn: &Turn, ctx: &Ctx) -> Vec<String> {
    let mut out = vec![event(json!({ "type": "message_start", "message": {
        "id": format!("msg_mock_{}", ctx.seq), "type": "message", "role": "assistant", "model": ctx.model,
        "content": [], "stop_reason": null, "stop_sequence": null, "usage": anthropic_usage(&turn.usage),
    }}))];
    for (index, block) in anthropic_content(turn, ctx.seq).into_iter().enumerate() {
        let (start, deltas) = if block["type"] == "text" {
            let pieces = pieces(block["text"].as_str().unwrap_or_default(), turn.split);
            (
                json!({ "type": "text", "text": "" }),
                pieces.into_iter().map(|p| json!({ "type": "text_delta", "text": p })).collect::<Vec<_>>(),
            )
        } else {
            let pieces = pieces(&block["input"].to_string(), turn.split);
            let deltas = pieces.into_iter().map(|p| json!({ "type": "input_json_delta", "partial_json": p })).collect();
            let mut start = block;
            start["input"] = json!({});
            (start, deltas)
        };
        out.push(event(json!({ "type": "content_block_start", "index": index, "content_block": start })));
        for delta in deltas {
            out.push(event(json!({ "type": "content_block_delta", "index": index, "delta": delta })));
        }
        out.push(event(json!({ "type": "content_block_stop", "index": index })));
    }
    out.push(event(json!({
        "type": "message_delta",
        "delta": { "stop_reason": anthropic_stop_reason(turn), "stop_sequence": null },
        "usage": { "output_tokens": turn.usage.output_tokens },
    })));
    out.push(event(json!({ "type": "message_stop" })));
    out
}

/// `POST /v1/messages` without `stream: true`: the whole message as one JSON body.
pub fn anthropic_json(turn: &Turn, ctx: &Ctx) -> Value {
    json!({
        "id": format!("msg_mock_{}", ctx.seq), "type": "message", "role": "assistant", "model": ctx.model,
        "content": anthropic_content(turn, ctx.seq), "stop_reason": anthropic_stop_reason(turn),
        "stop_sequence": null, "usage": anthropic_usage(&turn.usage),
    })
}

/// The finished output items of a response, in order.
fn openai_items(turn: &Turn, seq: usize) -> Vec<Value> {
    let blocks = turn.blocks.iter().enumerate();
    blocks
        .map(|(i, block)| match block {
            Block::Text(text) => json!({
                "type": "message", "id": format!("msg_mock_{seq}_{i}"), "status": "completed", "role": "assistant",
                "content": [{ "type": "output_text", "text": text, "annotations": [] }],
            }),
            Block::ToolCall { name, input } => json!({
                "type": "function_call", "id": format!("fc_mock_{seq}_{i}"), "status": "completed",
                "call_id": format!("call_mock_{seq}_{i}"), "name": name, "arguments": input.to_string(),
            }),
            Block::CustomToolCall { name, input } => json!({
                "type": "custom_tool_call", "id": format!("ctc_mock_{seq}_{i}"), "status": "completed",
                "call_id": format!("call_mock_{seq}_{i}"), "name": name, "input": input,
            }),
        })
        .collect()
}

fn openai_usage(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "input_tokens_details": { "cached_tokens": u.cached_tokens },
        "output_tokens": u.output_tokens,
        "output_tokens_details": { "reasoning_tokens": u.reasoning_tokens },
        "total_tokens": u.input_tokens + u.output_tokens,
    })
}

fn openai_response(ctx: &Ctx, status: &str, output: Vec<Value>, usage: Option<Value>) -> Value {
    json!({
        "id": format!("resp_mock_{}", ctx.seq), "object": "response", "created_at": 0, "status": status,
        "model": ctx.model, "output": output, "usage": usage,
    })
}

/// `POST /v1/responses` (Codex always streams).
pub fn openai_sse(turn: &Turn, ctx: &Ctx) -> Vec<String> {
    let items = openai_items(turn, ctx.seq);
    let created = openai_response(ctx, "in_progress", vec![], None);
    let mut out = vec![event(json!({ "type": "response.created", "response": created }))];
    for (index, item) in items.iter().enumerate() {
        let mut added = item.clone();
        added["status"] = json!("in_progress");
        if item["type"] == "message" {
            added["content"] = json!([]);
        }
        out.push(event(json!({ "type": "response.output_item.added", "output_index": index, "item": added })));
        if let Block::Text(text) = &turn.blocks[index] {
            for piece in pieces(text, turn.split) {
                out.push(event(json!({
                    "type": "response.output_text.delta", "item_id": item["id"], "output_index": index,
                    "content_index": 0, "delta": piece,
                })));
            }
        }
        if item["type"] == "function_call" {
            for piece in pieces(item["arguments"].as_str().unwrap_or_default(), turn.split) {
                out.push(event(json!({
                    "type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": index, "delta": piece,
                })));
            }
        }
        out.push(event(json!({ "type": "response.output_item.done", "output_index": index, "item": item })));
    }
    let completed = openai_response(ctx, "completed", items, Some(openai_usage(&turn.usage)));
    out.push(event(json!({ "type": "response.completed", "response": completed })));
    out
}

/// `text` in pieces of `n` characters (one piece when `n` is 0 or the text is short).
fn pieces(text: &str, n: usize) -> Vec<String> {
    if n == 0 || text.chars().count() <= n {
        return vec![text.to_string()];
    }
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

/// `POST /v1/chat/completions` (`stream: true`): a role chunk, the text in `content`
/// deltas, each tool call's id and name then its arguments in pieces (by `index`), a
/// chunk with the `finish_reason`, one with the usage and no choices, then `[DONE]`.
pub fn chat_sse(turn: &Turn, ctx: &Ctx) -> Vec<String> {
    let id = format!("chatcmpl-mock-{}", ctx.seq);
    let chunk = |delta: Value, finish: Option<&str>| {
        let data = json!({
            "id": id, "object": "chat.completion.chunk", "created": 0, "model": ctx.model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        });
        format!("data: {data}\n\n")
    };
    let mut out = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
    let mut calls = 0;
    for (i, block) in turn.blocks.iter().enumerate() {
        match block {
            Block::Text(text) => out.extend(pieces(text, turn.split).into_iter().map(|p| chunk(json!({ "content": p }), None))),
            Block::ToolCall { name, .. } | Block::CustomToolCall { name, .. } => {
                let arguments = match block {
                    Block::ToolCall { input, .. } => input.to_string(),
                    Block::CustomToolCall { input, .. } => json!({ "input": input }).to_string(),
                    Block::Text(_) => unreachable!(),
                };
                let call_id = format!("call_mock_{}_{i}", ctx.seq);
                let head = json!({ "index": calls, "id": call_id, "type": "function", "function": { "name": name, "arguments": "" } });
                out.push(chunk(json!({ "tool_calls": [head] }), None));
                for piece in pieces(&arguments, turn.split) {
                    out.push(chunk(json!({ "tool_calls": [{ "index": calls, "function": { "arguments": piece } }] }), None));
                }
                calls += 1;
            }
        }
    }
    out.push(chunk(json!({}), Some(if calls > 0 { "tool_calls" } else { "stop" })));
    let u = &turn.usage;
    let usage = json!({
        "id": id, "object": "chat.completion.chunk", "created": 0, "model": ctx.model, "choices": [],
        "usage": {
            "prompt_tokens": u.input_tokens, "completion_tokens": u.output_tokens,
            "total_tokens": u.input_tokens + u.output_tokens,
            "prompt_tokens_details": { "cached_tokens": u.cached_tokens },
        },
    });
    out.push(format!("data: {usage}\n\n"));
    out.push("data: [DONE]\n\n".to_string());
    out
}

/// A Gemini part; a custom tool's string input becomes `{"input": s}`.
fn gemini_part(block: &Block) -> Value {
    match block {
        Block::Text(text) => json!({ "text": text }),
        Block::ToolCall { name, input } => json!({ "functionCall": { "name": name, "args": input } }),
        Block::CustomToolCall { name, input } => {
            json!({ "functionCall": { "name": name, "args": { "input": input } } })
        }
    }
}

fn gemini_chunk(parts: Vec<Value>, finished: bool, turn: &Turn, ctx: &Ctx) -> Value {
    let u = &turn.usage;
    let mut candidate = json!({ "content": { "role": "model", "parts": parts }, "index": 0 });
    if finished {
        candidate["finishReason"] = json!("STOP");
    }
    let usage = json!({
        "promptTokenCount": u.input_tokens, "candidatesTokenCount": u.output_tokens,
        "totalTokenCount": u.input_tokens + u.output_tokens + u.reasoning_tokens,
        "cachedContentTokenCount": u.cached_tokens, "thoughtsTokenCount": u.reasoning_tokens,
    });
    json!({
        "candidates": [candidate], "usageMetadata": usage, "modelVersion": ctx.model,
        "responseId": format!("resp_mock_{}", ctx.seq),
    })
}

/// `:streamGenerateContent?alt=sse`: one `data:` chunk per block; only the last carries
/// `finishReason` (Gemini CLI treats a stream without one as broken and retries).
pub fn gemini_sse(turn: &Turn, ctx: &Ctx) -> Vec<String> {
    let mut parts: Vec<Value> = turn.blocks.iter().map(gemini_part).collect();
    if parts.is_empty() {
        parts.push(json!({ "text": "" }));
    }
    let last = parts.len() - 1;
    let chunks = parts.into_iter().enumerate();
    chunks.map(|(i, part)| format!("data: {}\n\n", gemini_chunk(vec![part], i == last, turn, ctx))).collect()
}

/// `:generateContent`: every part in one JSON body.
pub fn gemini_json(turn: &Turn, ctx: &Ctx) -> Value {
    gemini_chunk(turn.blocks.iter().map(gemini_part).collect(), true, turn, ctx)
}

/// The JSON body of a scripted error (or of a 404 when `family` is `None`); the message is
/// prefixed with `bosun-mock-model: `.
pub fn error_body(family: Option<Family>, status: u16, message: &str) -> Value {
    let message = format!("bosun-mock-model: {message}");
    match family {
        Some(Family::Anthropic) => json!({ "type": "error", "error": { "type": "api_error", "message": message } }),
        Some(Family::OpenAi | Family::Chat) => json!({ "error": { "type": "server_error", "message": message, "code": null } }),
        Some(_) => json!({ "error": { "code": status, "message": message, "status": "INTERNAL" } }),
        None => json!({ "error": { "type": "not_found", "message": message } }),
    }
}

/// Where each CLI states its working directory, tried in this order: (prefix, end marker).
const CWD_PATTERNS: &[(&str, &str)] = &[
    ("Primary working directory: ", "\n"),              // Claude Code
    ("<cwd>", "</cwd>"),                                // Codex environment_context
    ("I'm currently working in the directory: ", "\n"), // Gemini CLI (older)
    ("**Workspace Directories:**\n  - ", "\n"),         // Gemini CLI (newer)
    ("Working directory: ", "\n"),
    ("Current working directory: ", "\n"),
];

/// Every string in a JSON value, in document order.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn looks_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/') || (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
}

/// The working directory the CLI reported somewhere in its request body, if any: the first
/// pattern (in `CWD_PATTERNS` order) with an occurrence followed by an absolute path.
pub fn find_cwd(body: &Value) -> Option<String> {
    let mut texts = Vec::new();
    strings(body, &mut texts);
    for (prefix, end) in CWD_PATTERNS {
        for text in &texts {
            for (at, _) in text.match_indices(prefix) {
                let rest = &text[at + prefix.len()..];
                let value = &rest[..rest.find(end).unwrap_or(rest.len())];
                let value = value.trim().trim_matches(|c| matches!(c, '`' | '"' | '\'')).trim_end_matches('.');
                if looks_absolute(value) {
                    return Some(value.to_string());
                }
            }
        }
    }
    None
}

fn replace_in(value: &mut Value, cwd: &str) {
    match value {
        Value::String(s) => *s = s.replace("{cwd}", cwd),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_in(v, cwd)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_in(v, cwd)),
        _ => {}
    }
}

/// The turn with `{cwd}` replaced in every block (left as is when no cwd was found).
pub fn substitute_cwd(turn: &Turn, cwd: Option<&str>) -> Turn {
    let mut turn = turn.clone();
    let Some(cwd) = cwd else { return turn };
    for block in &mut turn.blocks {
        match block {
            Block::Text(text) => *text = text.replace("{cwd}", cwd),
            Block::ToolCall { input, .. } => replace_in(input, cwd),
            Block::CustomToolCall { input, .. } => *input = input.replace("{cwd}", cwd),
        }
    }
    turn
}
