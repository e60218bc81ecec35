//! End-to-end checks of the mock model server over real HTTP: the exact SSE shapes per API
//! family, `{cwd}` substitution, scripted errors and delays, the empty-queue fallback, the
//! recording of requests, and the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bosun_mock_model::wire::find_cwd;
use bosun_mock_model::{Block, Family, Kind, MockModel, Script, Turn, Usage};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// `(event name or "", data)` for every event of an SSE body.
fn events(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for chunk in text.split("\n\n").filter(|c| !c.trim().is_empty()) {
        let mut name = String::new();
        let mut data = None;
        for line in chunk.lines() {
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data = Some(serde_json::from_str(d).expect("data line is JSON"));
            } else {
                panic!("unexpected SSE line {line:?}");
            }
        }
        out.push((name, data.expect("event without data")));
    }
    out
}

async fn post(url: String, headers: &[(&str, &str)], body: Value) -> (u16, String, String) {
    let mut req = reqwest::Client::new().post(url).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let ctype = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

#[tokio::test]
async fn anthropic_text_then_tool_use_with_cwd() {
    let write = json!({ "file_path": "{cwd}/hello.txt", "content": "hi from {cwd}" });
    let turn = Turn::text("Writing it.").and(Block::ToolCall { name: "Write".into(), input: write });
    let mock = MockModel::start(Script::new().turn(Family::Anthropic, turn)).await.unwrap();
    let body = json!({
        "model": "claude-sonnet-4-5", "stream": true, "max_tokens": 100,
        "system": [{ "type": "text", "text": "You are Claude Code.\nPrimary working directory: /tmp/x\nIs directory a git repo: No" }],
        "messages": [{ "role": "system", "content": "env" }, { "role": "user", "content": "write hello" }],
    });
    let headers = [("x-api-key", "sk-test"), ("anthropic-version", "2023-06-01")];
    let (status, ctype, text) = post(format!("{}/v1/messages?beta=true", mock.url), &headers, body).await;
    assert_eq!((status, ctype.as_str()), (200, "text/event-stream"));

    let evs = events(&text);
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    for (name, data) in &evs {
        assert_eq!(data["type"], name.as_str());
    }
    let msg = &evs[0].1["message"];
    assert_eq!(msg["model"], "claude-sonnet-4-5");
    assert_eq!(msg["usage"]["input_tokens"], 10);
    assert!(msg["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(evs[1].1["content_block"], json!({ "type": "text", "text": "" }));
    assert_eq!(evs[2].1["delta"], json!({ "type": "text_delta", "text": "Writing it." }));
    let tool = &evs[4].1["content_block"];
    assert_eq!((tool["type"].as_str(), tool["name"].as_str(), &tool["input"]), (Some("tool_use"), Some("Write"), &json!({})));
    assert!(tool["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(evs[5].1["index"], 1);
    assert_eq!(evs[5].1["delta"]["type"], "input_json_delta");
    let input: Value = serde_json::from_str(evs[5].1["delta"]["partial_json"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({ "file_path": "/tmp/x/hello.txt", "content": "hi from /tmp/x" }));
    assert_eq!(evs[7].1["delta"]["stop_reason"], "tool_use");
    assert_eq!(evs[7].1["usage"]["output_tokens"], 5);

    let reqs = mock.requests_for(Family::Anthropic);
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str(), r.query.as_deref()), ("POST", "/v1/messages", Some("beta=true")));
    assert_eq!(r.headers["x-api-key"], "sk-test");
    assert_eq!(r.body["messages"][1]["content"], "write hello");
    assert_eq!((r.cwd.as_deref(), r.model.as_deref(), r.status), (Some("/tmp/x"), Some("claude-sonnet-4-5"), 200));
    assert!(!r.script_exhausted);
}

#[tokio::test]
async fn anthropic_text_only_ends_turn_and_non_streaming_is_json() {
    let script = Script::new().turn(Family::Anthropic, Turn::text("one")).turn(Family::Anthropic, Turn::text("two"));
    let mock = MockModel::start(script).await.unwrap();
    let (_, _, text) = post(format!("{}/v1/messages", mock.url), &[], json!({ "stream": true })).await;
    let evs = events(&text);
    assert_eq!(evs.len(), 6);
    assert_eq!(evs[4].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(evs[0].1["message"]["model"], "mock-model");

    let (status, ctype, text) = post(format!("{}/v1/messages", mock.url), &[], json!({ "model": "m" })).await;
    assert_eq!((status, ctype.as_str()), (200, "application/json"));
    let msg: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(msg["content"], json!([{ "type": "text", "text": "two" }]));
    assert_eq!(msg["stop_reason"], "end_turn");
}

#[tokio::test]
async fn count_tokens_and_unknown_paths_are_answered_and_recorded() {
    let mock = MockModel::start(Script::new()).await.unwrap();
    let (status, _, text) = post(format!("{}/v1/messages/count_tokens", mock.url), &[], json!({ "model": "m" })).await;
    assert_eq!((status, serde_json::from_str::<Value>(&text).unwrap()), (200, json!({ "input_tokens": 10 })));
    let resp = reqwest::get(format!("{}/v1/files?x=1", mock.url)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let err: Value = resp.json().await.unwrap();
    assert!(err["error"]["message"].as_str().unwrap().contains("GET /v1/files"));
    let models: Value = reqwest::get(format!("{}/v1/models", mock.url)).await.unwrap().json().await.unwrap();
    assert_eq!(models["data"][0]["id"], "mock-model", "the model list, for `bosun agents`, is not recorded");

    let reqs = mock.wait_for_requests(2, WAIT).await.unwrap();
    assert_eq!((reqs[0].kind, reqs[0].family), (Kind::CountTokens, Some(Family::Anthropic)));
    assert_eq!((reqs[1].kind, reqs[1].status, reqs[1].body.clone()), (Kind::NotFound, 404, Value::Null));
    assert_eq!(reqs[1].query.as_deref(), Some("x=1"));
    assert!(mock.requests_for(Family::Anthropic).is_empty(), "count calls are not model calls");
}

#[tokio::test]
async fn openai_function_call_custom_tool_and_usage() {
    let patch = "*** Begin Patch\n*** Add File: {cwd}/a.txt\n+hi\n*** End Patch\n";
    let turn = Turn::text("Running.")
        .and(Block::ToolCall { name: "exec_command".into(), input: json!({ "cmd": "ls", "workdir": "{cwd}" }) })
        .and(Block::CustomToolCall { name: "apply_patch".into(), input: patch.into() })
        .with_usage(Usage { input_tokens: 100, output_tokens: 20, cached_tokens: 30, reasoning_tokens: 7 });
    let mock = MockModel::start(Script::new().turn(Family::OpenAi, turn)).await.unwrap();
    let body = json!({
        "model": "gpt-5.5", "stream": true,
        "input": [{ "type": "message", "role": "user", "content": [{ "type": "input_text",
            "text": "<environment_context>\n  <cwd>/work/y</cwd>\n  <shell>bash</shell>\n</environment_context>" }] }],
    });
    let url = format!("{}/responses", mock.openai_base_url());
    let (status, ctype, text) = post(url, &[("authorization", "Bearer sk-oa")], body).await;
    assert_eq!((status, ctype.as_str()), (200, "text/event-stream"));

    let evs = events(&text);
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.output_item.added",
            "response.output_text.delta",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (name, data) in &evs {
        assert_eq!(data["type"], name.as_str());
    }
    assert_eq!(evs[2].1["delta"], "Running.");
    let message = &evs[3].1["item"];
    assert_eq!((message["type"].as_str(), message["role"].as_str()), (Some("message"), Some("assistant")));
    assert_eq!(message["content"], json!([{ "type": "output_text", "text": "Running.", "annotations": [] }]));
    assert_eq!(
        evs[5].1["delta"].as_str().map(|d| serde_json::from_str::<Value>(d).unwrap()),
        Some(json!({ "cmd": "ls", "workdir": "/work/y" }))
    );
    let call = &evs[6].1["item"];
    assert_eq!((call["type"].as_str(), call["name"].as_str()), (Some("function_call"), Some("exec_command")));
    assert!(call["call_id"].as_str().unwrap().starts_with("call_"));
    let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({ "cmd": "ls", "workdir": "/work/y" }));
    let custom = &evs[8].1["item"];
    assert_eq!((custom["type"].as_str(), custom["name"].as_str()), (Some("custom_tool_call"), Some("apply_patch")));
    assert_eq!(custom["input"], "*** Begin Patch\n*** Add File: /work/y/a.txt\n+hi\n*** End Patch\n");
    let done = &evs[9].1["response"];
    assert!(done["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(
        done["usage"],
        json!({
            "input_tokens": 100, "input_tokens_details": { "cached_tokens": 30 },
            "output_tokens": 20, "output_tokens_details": { "reasoning_tokens": 7 }, "total_tokens": 120,
        })
    );

    let r = &mock.requests_for(Family::OpenAi)[0];
    assert_eq!(r.headers["authorization"], "Bearer sk-oa");
    assert_eq!((r.path.as_str(), r.cwd.as_deref()), ("/v1/responses", Some("/work/y")));
}

#[tokio::test]
async fn gemini_streaming_side_calls_and_count() {
    let turn = Turn::text("Sure.").and(Block::ToolCall { name: "write_file".into(), input: json!({ "file_path": "{cwd}/g.txt" }) });
    let script = Script::new().turn(Family::Gemini, turn).turn(Family::GeminiSide, Turn::text("{\"next_speaker\":\"user\"}"));
    let mock = MockModel::start(script).await.unwrap();
    let first = "This is the Gemini CLI.\nI'm currently working in the directory: /g/dir\nHere is the folder structure";
    let body = json!({ "contents": [{ "role": "user", "parts": [{ "text": first }] }] });
    let base = format!("{}/v1beta/models/gemini-2.5-pro", mock.base_url());
    let (status, ctype, text) = post(format!("{base}:streamGenerateContent?alt=sse"), &[("x-goog-api-key", "g")], body.clone()).await;
    assert_eq!((status, ctype.as_str()), (200, "text/event-stream"));
    let evs = events(&text);
    assert_eq!(evs.len(), 2);
    assert!(evs.iter().all(|(name, _)| name.is_empty()), "gemini sends bare data lines");
    let c0 = &evs[0].1["candidates"][0];
    assert_eq!(c0["content"], json!({ "role": "model", "parts": [{ "text": "Sure." }] }));
    assert!(c0.get("finishReason").is_none());
    let c1 = &evs[1].1["candidates"][0];
    let call = json!({ "functionCall": { "name": "write_file", "args": { "file_path": "/g/dir/g.txt" } } });
    assert_eq!(c1["content"]["parts"], json!([call]));
    assert_eq!(c1["finishReason"], "STOP");
    assert_eq!(
        evs[1].1["usageMetadata"],
        json!({
            "promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15,
            "cachedContentTokenCount": 0, "thoughtsTokenCount": 0,
        })
    );

    // Non-streaming side calls draw from their own queue, then fall back to "done".
    let (status, ctype, text) = post(format!("{base}:generateContent"), &[], body.clone()).await;
    assert_eq!((status, ctype.as_str()), (200, "application/json"));
    let side: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(side["candidates"][0]["content"]["parts"], json!([{ "text": "{\"next_speaker\":\"user\"}" }]));
    assert_eq!(side["candidates"][0]["finishReason"], "STOP");
    let (_, _, text) = post(format!("{base}:generateContent"), &[], body.clone()).await;
    let side: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(side["candidates"][0]["content"]["parts"], json!([{ "text": "done" }]));

    let (_, _, text) = post(format!("{base}:countTokens"), &[], body).await;
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!({ "totalTokens": 10 }));

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!((reqs[0].model.as_deref(), reqs[0].query.as_deref()), (Some("gemini-2.5-pro"), Some("alt=sse")));
    assert_eq!(reqs[0].headers["x-goog-api-key"], "g");
    assert_eq!(mock.requests_for(Family::GeminiSide).len(), 2);
    assert!(reqs[2].script_exhausted);
    assert_eq!(reqs[3].kind, Kind::CountTokens);
}

#[tokio::test]
async fn empty_queue_answers_done_and_push_adds_turns() {
    let mock = MockModel::start(Script::new()).await.unwrap();
    let (_, _, text) = post(format!("{}/v1/messages", mock.url), &[], json!({ "stream": true })).await;
    let evs = events(&text);
    assert_eq!(evs[2].1["delta"]["text"], "done");
    assert_eq!(evs[4].1["delta"]["stop_reason"], "end_turn");
    assert!(mock.requests()[0].script_exhausted);

    mock.push(Family::OpenAi, Turn::text("pushed"));
    assert_eq!(mock.remaining(Family::OpenAi), 1);
    let (_, _, text) = post(format!("{}/v1/responses", mock.url), &[], json!({ "stream": true })).await;
    assert_eq!(events(&text)[2].1["delta"], "pushed");
    assert_eq!(mock.remaining(Family::OpenAi), 0);
    assert!(!mock.requests()[1].script_exhausted);
}

#[tokio::test]
async fn scripted_error_status_then_delay() {
    let script = Script::new()
        .turn(Family::Anthropic, Turn::error(500))
        .turn(Family::Anthropic, Turn { delay_ms: 300, ..Turn::text("slow") })
        .turn(Family::Gemini, Turn::error(429));
    let mock = MockModel::start(script).await.unwrap();
    let (status, _, text) = post(format!("{}/v1/messages", mock.url), &[], json!({ "stream": true })).await;
    assert_eq!(status, 500);
    let err: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((err["type"].as_str(), err["error"]["type"].as_str()), (Some("error"), Some("api_error")));
    assert_eq!(mock.requests()[0].status, 500);

    let (status, _, text) = post(format!("{}/v1/messages", mock.url), &[], json!({ "stream": true })).await;
    assert_eq!((status, events(&text)[2].1["delta"]["text"].as_str()), (200, Some("slow")));

    let (status, _, text) = post(format!("{}/v1beta/models/m:streamGenerateContent", mock.url), &[], json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["error"]["code"], 429);
}

#[tokio::test]
async fn wait_for_requests_wakes_on_arrival_and_times_out() {
    let mock = MockModel::start(Script::new()).await.unwrap();
    let url = mock.url.clone();
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        post(format!("{url}/v1/responses"), &[], json!({ "stream": true, "model": "a" })).await;
        post(format!("{url}/v1/messages"), &[], json!({ "stream": true })).await;
    });
    let got = mock.wait_for_requests_for(Family::Anthropic, 1, WAIT).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(mock.wait_for_requests(2, WAIT).await.unwrap()[0].model.as_deref(), Some("a"));
    sender.await.unwrap();
    let err = mock.wait_for_requests(3, Duration::from_millis(100)).await.unwrap_err();
    assert!(format!("{err:#}").contains("timed out"), "{err:#}");
}

#[test]
fn script_loads_from_json() {
    let text = r#"{
        "anthropic": [
            {"blocks": [{"text": "hi"}, {"tool_call": {"name": "Write", "input": {"file_path": "{cwd}/a"}}}]},
            {"http_status": 500, "delay_ms": 5}
        ],
        "openai": [{"blocks": [{"custom_tool_call": {"name": "apply_patch", "input": "p"}}], "usage": {"input_tokens": 1}}],
        "gemini_side": [{"blocks": [{"text": "x"}]}]
    }"#;
    let script = Script::from_json(text).unwrap();
    let expected = Script::new()
        .turn(Family::Anthropic, Turn::text("hi").and(Block::ToolCall { name: "Write".into(), input: json!({ "file_path": "{cwd}/a" }) }))
        .turn(Family::Anthropic, Turn { delay_ms: 5, ..Turn::error(500) })
        .turn(Family::OpenAi, Turn::custom_tool("apply_patch", "p").with_usage(Usage { input_tokens: 1, ..Usage::default() }))
        .turn(Family::GeminiSide, Turn::text("x"));
    assert_eq!(script, expected);
    assert!(Script::from_json(r#"{"anthropic": [{"bloks": []}]}"#).is_err(), "typos are rejected");
}

#[test]
fn cwd_is_found_in_each_cli_format() {
    let s = |t: &str| json!({ "messages": [{ "content": t }] });
    assert_eq!(find_cwd(&s("x\nPrimary working directory: /a/b\ny")).as_deref(), Some("/a/b"));
    assert_eq!(find_cwd(&s("  <cwd>/c d/e</cwd>")).as_deref(), Some("/c d/e"));
    assert_eq!(find_cwd(&s("I'm currently working in the directory: /g\n")).as_deref(), Some("/g"));
    assert_eq!(find_cwd(&s("- **Workspace Directories:**\n  - /ws/one\n  - /ws/two")).as_deref(), Some("/ws/one"));
    assert_eq!(find_cwd(&s("Working directory: {cwd}\nWorking directory: /real")).as_deref(), Some("/real"));
    assert_eq!(find_cwd(&json!("raw <cwd>/raw</cwd>")).as_deref(), Some("/raw"));
    assert_eq!(find_cwd(&s("nothing here")), None);
    // Claude's own pattern wins over a generic one elsewhere in the body.
    let both = json!({ "a": "Working directory: /other", "z": "Primary working directory: /main" });
    assert_eq!(find_cwd(&both).as_deref(), Some("/main"));
}

#[test]
fn binary_serves_a_script_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.json");
    std::fs::write(&path, r#"{"anthropic": [{"blocks": [{"text": "from file"}]}]}"#).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bosun-mock-model"))
        .args(["--port", "0", "--script"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening ").expect("listening line").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, _, text) = rt.block_on(post(format!("{url}/v1/messages"), &[], json!({ "stream": true })));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!((status, events(&text)[2].1["delta"]["text"].as_str()), (200, Some("from file")));
}

#[tokio::test]
async fn chat_completions_stream_split_arguments_and_a_429_with_retry_after() {
    let script = Script::new()
        .turn(Family::Chat, Turn { retry_after: Some(2), ..Turn::error(429) })
        .turn(Family::Chat, Turn::text("Hi").and(Block::ToolCall { name: "write".into(), input: json!({"path": "a.md"}) }).split(4));
    let mock = MockModel::start(script).await.unwrap();
    let url = format!("{}/v1/chat/completions", mock.url);
    let resp = reqwest::Client::new().post(&url).json(&json!({"model": "m", "stream": true})).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "2");
    let (status, _, body) = post(url, &[], json!({"model": "m", "stream": true})).await;
    assert_eq!(status, 200);
    let data: Vec<&str> = body.split("\n\n").filter_map(|c| c.strip_prefix("data: ")).collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    let args: String =
        chunks.iter().filter_map(|c| c.pointer("/choices/0/delta/tool_calls/0/function/arguments").and_then(Value::as_str)).collect();
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"path": "a.md"}));
    let pieces = chunks.iter().filter(|c| c.pointer("/choices/0/delta/tool_calls/0/function/arguments").is_some()).count();
    assert!(pieces > 3, "the arguments came in pieces of four characters: {pieces}");
    let head = chunks.iter().find_map(|c| c.pointer("/choices/0/delta/tool_calls/0/id")).unwrap();
    assert_eq!(head, "call_mock_1_1");
    assert!(chunks.iter().any(|c| c.pointer("/choices/0/finish_reason") == Some(&json!("tool_calls"))));
    assert_eq!(chunks.last().unwrap()["usage"]["prompt_tokens"], 10);
    assert_eq!(mock.requests_for(Family::Chat).len(), 2);
}
