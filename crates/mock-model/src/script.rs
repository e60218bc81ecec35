//! What the mock answers: a `Script` holds one queue of `Turn`s per API family, and each
//! model request pops the next turn of its family. Everything here is plain data that also
//! loads from JSON, so the binary and the Rust tests script the mock the same way.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which queue a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `POST /v1/messages` (Claude Code).
    Anthropic,
    /// `POST /v1/responses` (Codex).
    #[serde(rename = "openai")]
    OpenAi,
    /// `POST /v1/chat/completions` (OpenAI Chat Completions: what local servers speak).
    Chat,
    /// `POST /v1beta/models/{m}:streamGenerateContent` (Gemini CLI's main turns).
    Gemini,
    /// `POST /v1beta/models/{m}:generateContent`: Gemini CLI's non-streaming side calls
    /// (next-speaker check, routing, ...). A queue of its own so they never eat main turns.
    GeminiSide,
}

/// One piece of a model answer.
///
/// JSON: `{"text": "..."}`, `{"tool_call": {"name": "Write", "input": {..}}}`,
/// `{"custom_tool_call": {"name": "apply_patch", "input": "*** Begin Patch\n..."}}`.
/// The string `{cwd}` anywhere inside a block is replaced by the working directory the
/// CLI reported in the request (see `wire::find_cwd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    Text(String),
    /// Anthropic `tool_use`, OpenAI `function_call`, Gemini `functionCall`.
    ToolCall {
        name: String,
        input: Value,
    },
    /// OpenAI `custom_tool_call` (Codex's freeform `apply_patch`). Other families see it
    /// as a tool call with input `{"input": <string>}`.
    CustomToolCall {
        name: String,
        input: String,
    },
}

/// Token counts reported with a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Anthropic `cache_read_input_tokens`, OpenAI `cached_tokens`, Gemini `cachedContentTokenCount`.
    pub cached_tokens: u64,
    /// OpenAI `reasoning_tokens`, Gemini `thoughtsTokenCount`.
    pub reasoning_tokens: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Usage { input_tokens: 10, output_tokens: 5, cached_tokens: 0, reasoning_tokens: 0 }
    }
}

/// One model response. JSON: `{"blocks": [..], "usage": {..}, "delay_ms": 0, "http_status": 500}`,
/// every field optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Turn {
    pub blocks: Vec<Block>,
    pub usage: Usage,
    /// Wait this long before answering (the request is recorded at once).
    pub delay_ms: u64,
    /// Answer with this HTTP status and a family-shaped JSON error instead of the blocks.
    pub http_status: Option<u16>,
    /// With `http_status`: a `Retry-After` header of this many seconds.
    pub retry_after: Option<u64>,
    /// Stream text and tool arguments in pieces of this many characters (0: whole),
    /// where the family streams them in deltas.
    pub split: usize,
    /// Wait this long between two events of the stream.
    pub chunk_delay_ms: u64,
}

impl Turn {
    /// A turn that says `text` and ends (`end_turn` / `STOP`).
    pub fn text(text: impl Into<String>) -> Turn {
        Turn { blocks: vec![Block::Text(text.into())], ..Turn::default() }
    }

    /// A turn that calls one tool (`tool_use` / `function_call` / `functionCall`).
    pub fn tool(name: impl Into<String>, input: Value) -> Turn {
        Turn { blocks: vec![Block::ToolCall { name: name.into(), input }], ..Turn::default() }
    }

    /// A turn with one OpenAI `custom_tool_call` (e.g. `apply_patch` with a patch text).
    pub fn custom_tool(name: impl Into<String>, input: impl Into<String>) -> Turn {
        Turn { blocks: vec![Block::CustomToolCall { name: name.into(), input: input.into() }], ..Turn::default() }
    }

    /// A turn that fails with `status` (e.g. 500, 429).
    pub fn error(status: u16) -> Turn {
        Turn { http_status: Some(status), ..Turn::default() }
    }

    /// Adds a block after the existing ones.
    pub fn and(mut self, block: Block) -> Turn {
        self.blocks.push(block);
        self
    }

    /// Text and tool arguments streamed in pieces of `n` characters.
    pub fn split(mut self, n: usize) -> Turn {
        self.split = n;
        self
    }

    pub fn with_usage(mut self, usage: Usage) -> Turn {
        self.usage = usage;
        self
    }
}

/// All queues. JSON: `{"anthropic": [turns], "openai": [..], "chat": [..], "gemini": [..], "gemini_side": [..]}`,
/// every key optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    pub anthropic: VecDeque<Turn>,
    pub openai: VecDeque<Turn>,
    pub chat: VecDeque<Turn>,
    pub gemini: VecDeque<Turn>,
    pub gemini_side: VecDeque<Turn>,
}

impl Script {
    pub fn new() -> Script {
        Script::default()
    }

    pub fn from_json(text: &str) -> anyhow::Result<Script> {
        Ok(serde_json::from_str(text)?)
    }

    /// Builder form of `push`: `Script::new().turn(Family::Anthropic, Turn::text("hi"))`.
    pub fn turn(mut self, family: Family, turn: Turn) -> Script {
        self.push(family, turn);
        self
    }

    pub fn push(&mut self, family: Family, turn: Turn) {
        self.queue(family).push_back(turn);
    }

    pub fn queue(&mut self, family: Family) -> &mut VecDeque<Turn> {
        match family {
            Family::Anthropic => &mut self.anthropic,
            Family::OpenAi => &mut self.openai,
            Family::Chat => &mut self.chat,
            Family::Gemini => &mut self.gemini,
            Family::GeminiSide => &mut self.gemini_side,
        }
    }
}
