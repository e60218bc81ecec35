//! `bosun-api-agent`: bosun's own agent on a model API, the `api` runtime.
//!
//! # Theory of operation
//!
//! bosun starts this program like an interactive `command` agent, in the task's
//! workspace, in its own process group under its holder. It speaks the same JSON
//! lines: a `prompt` (the task, and the profile's instructions as `system`) then
//! `message`s, `approval` answers and `interrupt`s on stdin; normalized events on
//! stdout. It loops: send the conversation to the model (through
//! `bosun-model-client`), print the answer's text, tool calls and usage, run the tools
//! (those that change things only once bosun's approval policy, or a human, said yes),
//! append their results, and ask again — until the model answers without a tool call
//! (exit 0: the task goes to review), `max_turns` requests were made, or an interrupt
//! cancels the request under way. A `say` that arrives meanwhile goes into the next
//! request. The conversation is saved after every step in the state dir under the
//! session id it prints, so `bosun reply` resumes it. The API key comes from the one
//! environment variable the profile names, is sent only to the API, and is removed
//! from what `run` commands see.

mod agent;
mod conversation;
mod io;
mod tools;

use std::path::PathBuf;

use clap::Parser;

/// bosun's agent on a model API (started by bosun for profiles of `runtime: api`).
#[derive(Parser, Debug)]
#[command(name = "bosun-api-agent", version)]
pub struct Args {
    /// anthropic | openai | openai-compatible | gemini
    #[arg(long)]
    pub provider: String,
    /// The API's base URL, with its version segment.
    #[arg(long)]
    pub base_url: String,
    #[arg(long)]
    pub model: String,
    /// The environment variable holding the API key.
    #[arg(long)]
    pub key_env: Option<String>,
    /// The tools offered, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = tools::ALL.map(String::from))]
    pub tools: Vec<String>,
    /// Model requests at most in this run.
    #[arg(long, default_value_t = bosun_core::profile::API_MAX_TURNS)]
    pub max_turns: u32,
    /// The model's context window in tokens (default: known per model, else 32k).
    #[arg(long)]
    pub context_window: Option<u64>,
    /// Output tokens asked for per request.
    #[arg(long, default_value_t = 8192)]
    pub max_tokens: u32,
    /// Where conversations are saved.
    #[arg(long)]
    pub state_dir: PathBuf,
    /// The session to continue.
    #[arg(long)]
    pub resume: Option<String>,
    /// Attempts per model request (429, 5xx and overloaded are retried).
    #[arg(long, default_value_t = 3)]
    pub attempts: u32,
    /// A `run` command's timeout unless it asks for less, in seconds.
    #[arg(long, default_value_t = 120)]
    pub run_timeout: u64,
}

/// The program: parses its arguments, runs the session; the exit code.
pub fn main() -> i32 {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bosun-api-agent: cannot start: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(agent::run(args));
    // Not waiting for the thread blocked reading stdin.
    runtime.shutdown_background();
    code
}
