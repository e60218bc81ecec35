//! `write`: a whole file, made with its directories if need be.

use serde_json::Value;

use super::{Ctx, Done, Plan, path_arg, text};
use bosun_core::{FileChangeKind, ToolKind};

pub const SPEC: (&str, &str) = (
    "Write a whole file of the workspace (created with its directories, or replaced).",
    r#"{"type":"object","properties":{"path":{"type":"string","description":"relative to the workspace"},"content":{"type":"string"}},"required":["path","content"]}"#,
);

pub fn plan(ctx: &Ctx, input: &Value) -> Result<Plan, String> {
    text(input, "content")?;
    let (path, abs) = path_arg(ctx, input, "path", None)?;
    if abs.is_dir() {
        return Err(format!("`{path}` is a directory"));
    }
    Ok(Plan { kind: ToolKind::Write, path: Some(path), abs: Some(abs), command: None, ask: true })
}

pub fn run(input: &Value, plan: &Plan) -> Result<Done, String> {
    let (rel, abs) = (plan.path.as_deref().unwrap_or("?"), plan.abs.as_ref().expect("planned with a path"));
    let content = text(input, "content")?;
    let existed = abs.exists();
    if let Some(dir) = abs.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make the directory of `{rel}`: {}", super::run::io_why(&e)))?;
    }
    std::fs::write(abs, content).map_err(|e| format!("cannot write `{rel}`: {}", super::run::io_why(&e)))?;
    let change = if existed { FileChangeKind::Modified } else { FileChangeKind::Added };
    Ok(Done { change: Some(change), ..Done::text(format!("wrote {} bytes to {rel}", content.len())) })
}
