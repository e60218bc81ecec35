//! OpenAI Responses (`POST {base}/responses`, `stream: true`, `store: false`): the
//! conversation goes as `input` items (messages, `function_call`s and their
//! `function_call_output`s); the answer streams `response.output_text.delta`,
//! `response.output_item.added` (a function call's id and name),
//! `response.function_call_arguments.delta` pieces, `response.output_item.done` (the
//! finished item, whose arguments win) and `response.completed` with the usage.

use serde_json::{Value, json};

use crate::{Calls, Item, ModelError, Parse, Reply, Request, Step, Usage, count};

pub(crate) fn headers(key: Option<String>) -> Vec<(&'static str, String)> {
    key.map(|k| ("authorization", format!("Bearer {k}"))).into_iter().collect()
}

pub(crate) fn body(req: &Request<'_>) -> Value {
    let mut input = Vec::new();
    for item in req.items {
        match item {
            Item::User { text } => input.push(json!({"role": "user", "content": text})),
            Item::Assistant { text, calls } => {
                if !text.is_empty() {
                    input.push(json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}));
                }
                for c in calls {
                    input.push(json!({"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}));
                }
            }
            Item::ToolResult { call_id, output, .. } => {
                input.push(json!({"type": "function_call_output", "call_id": call_id, "output": output}))
            }
        }
    }
    let mut body = json!({"model": req.model, "input": input, "stream": true, "store": false, "max_output_tokens": req.max_tokens});
    if !req.system.is_empty() {
        body["instructions"] = json!(req.system);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters}))
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
    completed: bool,
}

impl Parser {
    fn item(&mut self, index: u64, item: &Value, done: bool) {
        if item["type"] != "function_call" {
            return;
        }
        let call = self.calls.at(index);
        if let Some(id) = item["call_id"].as_str() {
            call.id = id.to_string();
        }
        if let Some(name) = item["name"].as_str() {
            call.name = name.to_string();
        }
        if done && let Some(args) = item["arguments"].as_str() {
            call.arguments = args.to_string();
        }
    }
}

impl Parse for Parser {
    fn event(&mut self, _event: &str, data: &str) -> Step {
        let Ok(v) = serde_json::from_str::<Value>(data) else { return Step::Failed(format!("an event is not JSON: {data}"), false) };
        let index = v["output_index"].as_u64().unwrap_or(0);
        match v["type"].as_str().unwrap_or_default() {
            "response.output_text.delta" => {
                let t = v["delta"].as_str().unwrap_or_default().to_string();
                self.text.push_str(&t);
                return Step::Text(t);
            }
            "response.output_item.added" => self.item(index, &v["item"], false),
            "response.function_call_arguments.delta" => {
                self.calls.at(index).arguments.push_str(v["delta"].as_str().unwrap_or_default());
            }
            "response.output_item.done" => self.item(index, &v["item"], true),
            "response.completed" => {
                let u = &v["response"]["usage"];
                self.usage = Usage {
                    input_tokens: count(u, "/input_tokens"),
                    output_tokens: count(u, "/output_tokens"),
                    cached_tokens: count(u, "/input_tokens_details/cached_tokens"),
                };
                self.completed = true;
                return Step::Done;
            }
            "response.failed" | "response.incomplete" | "error" => {
                let e = v.pointer("/response/error").or_else(|| v.get("error")).unwrap_or(&v);
                let message = e.get("message").and_then(Value::as_str).unwrap_or("the response failed").to_string();
                let retry = e.get("code").and_then(Value::as_str).is_some_and(|c| c == "server_error" || c == "rate_limit_exceeded");
                return Step::Failed(message, retry);
            }
            _ => {}
        }
        Step::Text(String::new())
    }

    fn finish(self: Box<Self>) -> Result<Reply, ModelError> {
        if !self.completed {
            return Err(ModelError::Stream("the answer ended without response.completed".into()));
        }
        Ok(Reply { text: self.text, calls: self.calls.done(), usage: self.usage })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_deltas_then_done() {
        let mut p: Box<dyn Parse> = Box::new(Parser::default());
        for e in [
            json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "function_call", "call_id": "c1", "name": "write", "arguments": ""}}),
            json!({"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{\"a\":"}),
            json!({"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "1}"}),
            json!({"type": "response.completed", "response": {"usage": {"input_tokens": 5, "output_tokens": 2}}}),
        ] {
            p.event("", &e.to_string());
        }
        let r = p.finish().unwrap();
        assert_eq!((r.calls[0].id.as_str(), r.calls[0].input().unwrap()), ("c1", json!({"a": 1})));
        assert_eq!(r.usage.input_tokens, 5);
    }
}
