//! `bosun-fake-agent`: a scripted fake agent, the test double for every bosun test and
//! benchmark.
//!
//! It behaves like an agent CLI of the `command` runtime: it runs in a worktree, reads
//! its prompt on stdin, edits files, runs commands and prints bosun's normalized events
//! (`{"type":"message",..}`, `{"type":"tool_call",..}`, `{"type":"file_change",..}`, ...)
//! on stdout, one JSON object a line, flushed after each line. What it does comes from a
//! script, so a test controls exactly which events, edits, timings and exit code bosun
//! sees.
//!
//! Usage: `bosun-fake-agent [--script PATH]`. Without `--script` the script is the file
//! named by `BOSUN_FAKE_SCRIPT`, else the text of `BOSUN_FAKE_SCRIPT_JSON`, else a demo
//! (echo the prompt's first line, write `hello.txt`, report usage, exit 0).
//!
//! A script is a JSON array of steps, or JSON lines (one step a line; blank lines and
//! lines starting with `#` are ignored). Each step is an object with one key:
//!
//! | step | effect |
//! |---|---|
//! | `{"emit": {..}}` | print the object as one line |
//! | `{"say": "text"}` | `{"type":"message","text":"text"}` |
//! | `{"print": "raw"}` / `{"stderr": "text"}` | a raw stdout line / a stderr line |
//! | `{"write": {"path": p, "content": c}}` | create or overwrite `p` (parents too); emits a `write` tool call and an `added`/`modified` file change |
//! | `{"append": {"path": p, "content": c}}` | the same with an `edit` tool call |
//! | `{"delete": p}` | remove `p`; emits a `deleted` file change |
//! | `{"run": [prog, args..]}` | run a command (no shell); emits a command tool call and a tool result with `exit_code` and the output (4 KiB at most) |
//! | `{"commit": "msg"}` | `git add -A`, `git commit -q -m msg` as `fake-agent`; a command tool call and result |
//! | `{"sleep_ms": n}` | sleep |
//! | `{"read_stdin": true}` | read stdin to EOF, emit `prompt: <first line>` |
//! | `{"echo_env": [names..]}` | emit a message `NAME=value` for each |
//! | `{"usage": {"input_tokens":..,"output_tokens":..,"cached_tokens":..,"cost_usd":..}}` | a usage event |
//! | `{"repeat": {"times": n, "every_ms": m, "step": {..}}}` | the step n times, the i-th at `start + i*m` |
//! | `{"spawn": [prog, args..]}` | start a child that is never waited for; says `spawned <pid>` |
//! | `{"pid_file": p}` | write the agent's pid to `p` |
//! | `{"wait_file": p}` or `{"wait_file": {"path": p, "timeout_ms": n}}` | block until `p` exists (exit 124 on timeout) |
//! | `{"ignore_sigterm": true}` | ignore SIGTERM from now on (Unix) |
//! | `{"exit": n}` / `{"fail": "msg"}` | exit with n / print msg on stderr and exit 1 |
//!
//! In every string of a step, `{i}` is the index inside a `repeat`, `{now_ns}` the Unix
//! time in nanoseconds and `{prompt}` the prompt read by `read_stdin`. Relative paths
//! are relative to the agent's cwd. The end of the script exits 0; a broken script
//! (unknown step, bad JSON) exits 2 with a message on stderr; a failed file operation
//! exits 1.

mod run;
mod script;

pub use run::{Io, run_script, run_steps};
pub use script::{FileArg, Step, Usage, WaitFile, WaitSpec, default_script, parse, script};

use std::path::Path;

/// The binary's entry point: loads the script from the arguments or environment and
/// runs it with the real standard streams in the current directory. Returns the exit
/// code.
pub fn main() -> i32 {
    let text = match load_script(std::env::args().skip(1)) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("bosun-fake-agent: {e}");
            return 2;
        }
    };
    let (mut stdin, mut stdout, mut stderr) = (std::io::stdin().lock(), std::io::stdout().lock(), std::io::stderr().lock());
    run_script(&text, Path::new("."), Io { stdin: &mut stdin, stdout: &mut stdout, stderr: &mut stderr })
}

fn load_script(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let mut path = None;
    while let Some(arg) = args.next() {
        match arg.strip_prefix("--script") {
            Some("") => path = Some(args.next().ok_or("--script needs a path")?),
            Some(p) if p.starts_with('=') => path = Some(p[1..].to_string()),
            _ => return Err(format!("unknown argument {arg:?}; usage: bosun-fake-agent [--script PATH]")),
        }
    }
    let env = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    match path.or_else(|| env("BOSUN_FAKE_SCRIPT")) {
        Some(p) => std::fs::read_to_string(&p).map_err(|e| format!("cannot read script {p}: {e}")),
        None => Ok(env("BOSUN_FAKE_SCRIPT_JSON").unwrap_or_else(default_script)),
    }
}
