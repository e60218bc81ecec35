//! The agent's two pipes: stdin carries the daemon's JSON lines (the prompt, messages,
//! approval answers, interrupts) and stdout the normalized events, one JSON object a
//! line. Anything else the agent has to say (retries, compaction) goes to stderr,
//! which bosun keeps as `output`.

use serde::Deserialize;
use serde_json::Value;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

/// One line the daemon wrote.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// The first line: the task (or, resuming, what is new), and the standing instructions.
    Prompt {
        text: String,
        #[serde(default)]
        system: String,
    },
    /// `bosun say`: delivered before the next model request.
    Message { text: String },
    /// The answer to an `approval_request`.
    Approval {
        id: String,
        allow: bool,
        #[serde(default)]
        message: Option<String>,
    },
    /// `bosun interrupt`: cancel what is under way and end the turn.
    Interrupt,
}

/// Reads stdin into a channel until EOF (then the channel closes). A line that is not
/// one of [`Input`] is said on stderr and skipped.
pub fn read_stdin() -> mpsc::UnboundedReceiver<Input> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Input>(&line) {
                Ok(input) => {
                    if tx.send(input).is_err() {
                        return;
                    }
                }
                Err(e) => eprintln!("bosun-api-agent: ignoring an input line that is not understood ({e})"),
            }
        }
    });
    rx
}

/// Prints one event line on stdout.
pub fn emit(event: &impl serde::Serialize) {
    use std::io::Write;
    let line = serde_json::to_string(event).unwrap_or_else(|e| format!(r#"{{"type":"error","message":"unprintable event: {e}"}}"#));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Prints a raw JSON line (a kind bosun's core does not know yet, e.g. `deliverable`).
pub fn emit_raw(value: &Value) {
    emit(value)
}
