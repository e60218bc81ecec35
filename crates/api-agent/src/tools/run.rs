//! `run`: a shell command in the workspace, after bosun's approval policy said yes;
//! in a process group of its own, killed whole at its timeout; its output capped.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::{Ctx, Done, MAX_FOR_MODEL, Plan, cap, opt_u64, text};
use bosun_core::ToolKind;

/// No command runs longer, whatever it asks.
const MAX_TIMEOUT: Duration = Duration::from_secs(1800);

pub const SPEC: (&str, &str) = (
    "Run a shell command (sh -c) in the workspace; bosun may ask the user first. Gives the exit code and the output.",
    r#"{"type":"object","properties":{"command":{"type":"string"},"timeout_secs":{"type":"integer","description":"give up after this long"}},"required":["command"]}"#,
);

pub fn plan(input: &Value) -> Result<Plan, String> {
    let command = text(input, "command")?;
    if command.trim().is_empty() {
        return Err("the command is empty".into());
    }
    Ok(Plan { kind: ToolKind::Command, path: None, abs: None, command: Some(command.to_string()), ask: true })
}

pub async fn run(ctx: &Ctx, input: &Value, plan: &Plan) -> Result<Done, String> {
    let command = plan.command.as_deref().unwrap_or_default();
    let timeout = opt_u64(input, "timeout_secs").map_or(ctx.run_timeout, Duration::from_secs).min(MAX_TIMEOUT);
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c").arg(command).current_dir(&ctx.root).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.process_group(0).kill_on_drop(true);
    if let Some(key) = &ctx.key_env {
        cmd.env_remove(key);
    }
    let child = cmd.spawn().map_err(|e| format!("cannot start sh: {}", io_why(&e)))?;
    let pid = child.id();
    let kill_group = || {
        if let Some(pid) = pid {
            // SAFETY: kill(2) on our own child's process group; no memory involved.
            unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
        }
    };
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("the command failed to run: {}", io_why(&e))),
        Err(_) => {
            kill_group();
            return Err(format!("the command did not finish within {}s and was killed", timeout.as_secs()));
        }
    };
    kill_group(); // what it left in the background
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&err);
    }
    let code = out.status.code().map(i64::from);
    let mut output = cap(&text, MAX_FOR_MODEL);
    output.push_str(&match code {
        Some(c) => format!("\n[exit code {c}]"),
        None => "\n[killed by a signal]".to_string(),
    });
    Ok(Done { output, exit_code: code, is_error: code != Some(0), ..Done::default() })
}

/// An I/O error said without Rust's `(os error N)`.
pub fn io_why(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}
