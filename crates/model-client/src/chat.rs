//! OpenAI Chat Completions (`POST {base}/chat/completions`, `stream: true`): what
//! OpenAI, Ollama, llama.cpp's server, vLLM, LM Studio and OpenRouter all serve. Text
//! arrives in `delta.content`, tool calls in `delta.tool_calls[]` by `index` (the id
//! and name first, the arguments' JSON text in pieces), the usage in a last chunk with
//! no choices (`stream_options.include_usage`), and the stream ends with `[DONE]`.

use serde_json::{Value, json};

use crate::{Calls, Item, ModelError, Parse, Reply, Request, Step, Usage, count};

pub(crate) fn headers(key: Option<String>) -> Vec<(&'static str, String)> {
    key.map(|k| ("authorization", format!("Bearer {k}"))).into_iter().collect()
}

pub(crate) fn body(req: &Request<'_>) -> Value {
    let mut messages = Vec::new();
    if !req.system.is_empty() {
        messages.push(json!({"role": "system", "content": req.system}));
    }
    for item in req.items {
        messages.push(match item {
            Item::User { text } => json!({"role": "user", "content": text}),
            Item::Assistant { text, calls } => {
                let mut m = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
                if !calls.is_empty() {
                    let calls: Vec<Value> = calls
                        .iter()
                        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                        .collect();
                    m["tool_calls"] = json!(calls);
                }
                m
            }
            Item::ToolResult { call_id, output, .. } => json!({"role": "tool", "tool_call_id": call_id, "content": output}),
        });
    }
    let mut body = json!({
        "model": req.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": req.max_tokens,
    });
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
            .collect();
        body["tools"] = json!(tools);
    }
    body
}

#[derive(Default)]
pub(crate) struct Parser {
    text: String,
    calls: Calls,
    usage: Usage,
    finished: bool,
}

impl Parse for Parser {
    fn event(&mut self, _event: &str, data: &str) -> Step {
        if data.trim() == "[DONE]" {
            return Step::Done;
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else { return Step::Failed(format!("a chunk is not JSON: {data}"), false) };
        if let Some(e) = v.get("error") {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("unknown error").to_string();
            return Step::Failed(message, false);
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Usage {
                input_tokens: count(u, "/prompt_tokens"),
                output_tokens: count(u, "/completion_tokens"),
                cached_tokens: count(u, "/prompt_tokens_details/cached_tokens"),
            };
        }
        let mut shown = String::new();
        for choice in v["choices"].as_array().into_iter().flatten() {
            let delta = &choice["delta"];
            if let Some(t) = delta["content"].as_str() {
                self.text.push_str(t);
                shown.push_str(t);
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = call["index"].as_u64().unwrap_or(0);
                let slot = self.calls.at(index);
                if let Some(id) = call["id"].as_str().filter(|s| !s.is_empty()) {
                    slot.id = id.to_string();
                }
                if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                    slot.name.push_str(name);
                }
                if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str) {
                    slot.arguments.push_str(args);
                }
            }
            if choice["finish_reason"].is_string() {
                self.finished = true;
            }
        }
        Step::Text(shown)
    }

    fn finish(self: Box<Self>) -> Result<Reply, ModelError> {
        if !self.finished {
            return Err(ModelError::Stream("the answer ended without a finish_reason".into()));
        }
        Ok(Reply { text: self.text, calls: self.calls.done(), usage: self.usage })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_across_deltas_are_joined() {
        let mut p: Box<dyn Parse> = Box::new(Parser::default());
        let chunks = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Wri"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"ting."}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"write","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\": \"a.md\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":2}}}"#,
        ];
        let mut shown = String::new();
        for c in chunks {
            if let Step::Text(t) = p.event("", c) {
                shown.push_str(&t);
            }
        }
        assert!(matches!(p.event("", "[DONE]"), Step::Done));
        let reply = p.finish().unwrap();
        assert_eq!((reply.text.as_str(), shown.as_str()), ("Writing.", "Writing."));
        assert_eq!(reply.calls.len(), 1);
        assert_eq!((reply.calls[0].id.as_str(), reply.calls[0].name.as_str()), ("call_a", "write"));
        assert_eq!(reply.calls[0].input().unwrap(), json!({"path": "a.md"}));
        assert_eq!(reply.usage, Usage { input_tokens: 12, output_tokens: 7, cached_tokens: 2 });
    }
}
