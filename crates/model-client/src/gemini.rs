//! Gemini (`POST {base}/models/{model}:streamGenerateContent?alt=sse`): the
//! conversation as `contents` (`user` and `model` turns of parts: text,
//! `functionCall`, `functionResponse`), the system prompt as `systemInstruction`;
//! each `data:` chunk carries parts of the answer (a function call comes whole, with
//! no id: bosun names it) and the usage so far; the last has a `finishReason`.

use serde_json::{Value, json};

use crate::{Item, ModelError, Parse, Reply, Request, Step, ToolCall, Usage, count};

pub(crate) fn headers(key: Option<String>) -> Vec<(&'static str, String)> {
    key.map(|k| ("x-goog-api-key", k)).into_iter().collect()
}

pub(crate) fn body(req: &Request<'_>) -> Value {
    let mut contents: Vec<Value> = Vec::new();
    let mut push = |role: &str, part: Value| {
        if let Some(last) = contents.last_mut().filter(|c| c["role"] == role) {
            last["parts"].as_array_mut().expect("parts is a list").push(part);
        } else {
            contents.push(json!({"role": role, "parts": [part]}));
        }
    };
    for item in req.items {
        match item {
            Item::User { text } => push("user", json!({"text": text})),
            Item::Assistant { text, calls } => {
                if !text.is_empty() {
                    push("model", json!({"text": text}));
                }
                for c in calls {
                    push("model", json!({"functionCall": {"name": c.name, "args": c.input().unwrap_or_else(|_| json!({}))}}));
                }
            }
            Item::ToolResult { name, output, is_error, .. } => {
                let response = if *is_error { json!({"error": output}) } else { json!({"output": output}) };
                push("user", json!({"functionResponse": {"name": name, "response": response}}))
            }
        }
    }
    let mut body = json!({"contents": contents, "generationConfig": {"maxOutputTokens": req.max_tokens}});
    if !req.system.is_empty() {
        body["systemInstruction"] = json!({"parts": [{"text": req.system}]});
    }
    if !req.tools.is_empty() {
        let decls: Vec<Value> =
            req.tools.iter().map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters})).collect();
        body["tools"] = json!([{"functionDeclarations": decls}]);
    }
    body
}

#[derive(Default)]
pub(crate) struct Parser {
    text: String,
    calls: Vec<ToolCall>,
    usage: Usage,
    finished: bool,
}

impl Parse for Parser {
    fn event(&mut self, _event: &str, data: &str) -> Step {
        let Ok(v) = serde_json::from_str::<Value>(data) else { return Step::Failed(format!("a chunk is not JSON: {data}"), false) };
        if let Some(e) = v.get("error") {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("unknown error").to_string();
            let retry = e.get("status").and_then(Value::as_str).is_some_and(|s| s == "UNAVAILABLE" || s == "RESOURCE_EXHAUSTED");
            return Step::Failed(message, retry);
        }
        if let Some(u) = v.get("usageMetadata") {
            self.usage = Usage {
                input_tokens: count(u, "/promptTokenCount"),
                output_tokens: count(u, "/candidatesTokenCount") + count(u, "/thoughtsTokenCount"),
                cached_tokens: count(u, "/cachedContentTokenCount"),
            };
        }
        let mut shown = String::new();
        let candidate = &v["candidates"][0];
        for part in candidate.pointer("/content/parts").and_then(Value::as_array).into_iter().flatten() {
            if part["thought"] == true {
                continue;
            }
            if let Some(t) = part["text"].as_str() {
                self.text.push_str(t);
                shown.push_str(t);
            }
            if let Some(call) = part.get("functionCall") {
                let n = self.calls.len();
                self.calls.push(ToolCall {
                    id: call["id"].as_str().map_or_else(|| format!("gemini_call_{n}"), str::to_string),
                    name: call["name"].as_str().unwrap_or_default().to_string(),
                    arguments: call.get("args").map_or_else(|| "{}".to_string(), Value::to_string),
                });
            }
        }
        if candidate["finishReason"].is_string() {
            self.finished = true;
        }
        Step::Text(shown)
    }

    fn finish(self: Box<Self>) -> Result<Reply, ModelError> {
        if !self.finished {
            return Err(ModelError::Stream("the answer ended without a finishReason".into()));
        }
        Ok(Reply { text: self.text, calls: self.calls, usage: self.usage })
    }
}
