//! Anthropic Messages (`POST {base}/messages`, `stream: true`): content blocks are
//! started (`content_block_start`: text, or a `tool_use` with its id and name),
//! filled by deltas (`text_delta`, `input_json_delta` pieces of the input's JSON) and
//! stopped; the input tokens come in `message_start`, the output tokens in
//! `message_delta`; an `error` event (e.g. `overloaded_error`) fails the attempt.

use serde_json::{Value, json};

use crate::{Calls, Item, ModelError, Parse, Reply, Request, Step, Usage, count};

pub const VERSION: &str = "2023-06-01";

pub(crate) fn headers(key: Option<String>) -> Vec<(&'static str, String)> {
    let mut h = vec![("anthropic-version", VERSION.to_string())];
    h.extend(key.map(|k| ("x-api-key", k)));
    h
}

/// The conversation as messages: consecutive tool results and user text are one
/// `user` message (the API wants roles to alternate).
pub(crate) fn body(req: &Request<'_>) -> Value {
    let mut messages: Vec<Value> = Vec::new();
    let push = |messages: &mut Vec<Value>, block: Value| {
        if let Some(last) = messages.last_mut().filter(|m| m["role"] == "user") {
            last["content"].as_array_mut().expect("content is a list").push(block);
        } else {
            messages.push(json!({"role": "user", "content": [block]}));
        }
    };
    for item in req.items {
        match item {
            Item::User { text } => push(&mut messages, json!({"type": "text", "text": text})),
            Item::Assistant { text, calls } => {
                let mut content = Vec::new();
                if !text.is_empty() {
                    content.push(json!({"type": "text", "text": text}));
                }
                for c in calls {
                    let input = c.input().unwrap_or_else(|_| json!({}));
                    content.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}));
                }
                if content.is_empty() {
                    content.push(json!({"type": "text", "text": "(no answer)"}));
                }
                messages.push(json!({"role": "assistant", "content": content}));
            }
            Item::ToolResult { call_id, output, is_error, .. } => {
                push(&mut messages, json!({"type": "tool_result", "tool_use_id": call_id, "content": output, "is_error": is_error}))
            }
        }
    }
    let mut body = json!({"model": req.model, "max_tokens": req.max_tokens, "messages": messages, "stream": true});
    if !req.system.is_empty() {
        body["system"] = json!(req.system);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> =
            req.tools.iter().map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters})).collect();
        body["tools"] = json!(tools);
    }
    body
}

#[derive(Default)]
pub(crate) struct Parser {
    text: String,
    calls: Calls,
    /// Which content blocks (by index) are tool calls.
    tool_blocks: Vec<u64>,
    usage: Usage,
    stopped: bool,
}

impl Parse for Parser {
    fn event(&mut self, _event: &str, data: &str) -> Step {
        let Ok(v) = serde_json::from_str::<Value>(data) else { return Step::Failed(format!("an event is not JSON: {data}"), false) };
        match v["type"].as_str().unwrap_or_default() {
            "message_start" => {
                let u = &v["message"]["usage"];
                self.usage.input_tokens = count(u, "/input_tokens");
                self.usage.cached_tokens = count(u, "/cache_read_input_tokens");
                self.usage.output_tokens = count(u, "/output_tokens");
            }
            "content_block_start" => {
                let index = v["index"].as_u64().unwrap_or(0);
                let block = &v["content_block"];
                match block["type"].as_str() {
                    Some("tool_use") => {
                        self.tool_blocks.push(index);
                        let call = self.calls.at(index);
                        call.id = block["id"].as_str().unwrap_or_default().to_string();
                        call.name = block["name"].as_str().unwrap_or_default().to_string();
                    }
                    Some("text") => {
                        let t = block["text"].as_str().unwrap_or_default().to_string();
                        self.text.push_str(&t);
                        return Step::Text(t);
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let index = v["index"].as_u64().unwrap_or(0);
                let delta = &v["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => {
                        let t = delta["text"].as_str().unwrap_or_default().to_string();
                        self.text.push_str(&t);
                        return Step::Text(t);
                    }
                    Some("input_json_delta") if self.tool_blocks.contains(&index) => {
                        self.calls.at(index).arguments.push_str(delta["partial_json"].as_str().unwrap_or_default());
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(out) = v.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                    self.usage.output_tokens = out;
                }
            }
            "message_stop" => {
                self.stopped = true;
                return Step::Done;
            }
            "error" => {
                let kind = v.pointer("/error/type").and_then(Value::as_str).unwrap_or("error");
                let message = v.pointer("/error/message").and_then(Value::as_str).unwrap_or("unknown error");
                return Step::Failed(format!("{kind}: {message}"), kind == "overloaded_error" || kind == "api_error");
            }
            _ => {}
        }
        Step::Text(String::new())
    }

    fn finish(self: Box<Self>) -> Result<Reply, ModelError> {
        if !self.stopped {
            return Err(ModelError::Stream("the answer ended without message_stop".into()));
        }
        Ok(Reply { text: self.text, calls: self.calls.done(), usage: self.usage })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_input_in_pieces() {
        let mut p: Box<dyn Parse> = Box::new(Parser::default());
        for e in [
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 9, "cache_read_input_tokens": 3, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "write", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"path\":"}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"x\"}"}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 4}}),
            json!({"type": "message_stop"}),
        ] {
            p.event("", &e.to_string());
        }
        let r = p.finish().unwrap();
        assert_eq!((r.text.as_str(), r.calls[0].id.as_str(), r.calls[0].input().unwrap()), ("ok", "toolu_1", json!({"path": "x"})));
        assert_eq!(r.usage, Usage { input_tokens: 9, output_tokens: 4, cached_tokens: 3 });
    }

    #[test]
    fn tool_results_and_text_share_a_user_message() {
        let items = [
            Item::User { text: "hi".into() },
            Item::Assistant {
                text: String::new(),
                calls: vec![crate::ToolCall { id: "t1".into(), name: "read".into(), arguments: "{}".into() }],
            },
            Item::ToolResult { call_id: "t1".into(), name: "read".into(), output: "x".into(), is_error: false },
            Item::User { text: "more".into() },
        ];
        let req = Request { model: "m", system: "s", items: &items, tools: &[], max_tokens: 10 };
        let b = body(&req);
        assert_eq!(b["messages"].as_array().unwrap().len(), 3);
        assert_eq!(b["messages"][2]["content"].as_array().unwrap().len(), 2);
    }
}
