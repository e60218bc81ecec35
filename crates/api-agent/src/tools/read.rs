//! `read`: a text file of the workspace, whole or a range of lines, numbered.

use serde_json::Value;

use super::{Ctx, Done, MAX_FOR_MODEL, Plan, opt_u64, path_arg};
use bosun_core::ToolKind;

pub const SPEC: (&str, &str) = (
    "Read a text file of the workspace. Lines come numbered from 1; give offset (first line) and limit (how many) for a range.",
    r#"{"type":"object","properties":{"path":{"type":"string","description":"relative to the workspace"},"offset":{"type":"integer","description":"first line, from 1"},"limit":{"type":"integer","description":"number of lines"}},"required":["path"]}"#,
);

pub fn plan(ctx: &Ctx, input: &Value) -> Result<Plan, String> {
    Ok(Plan::reads(ToolKind::Read, Some(path_arg(ctx, input, "path", None)?)))
}

pub fn run(input: &Value, plan: &Plan) -> Result<Done, String> {
    let (rel, abs) = (plan.path.as_deref().unwrap_or("?"), plan.abs.as_ref().expect("planned with a path"));
    if abs.is_dir() {
        return Err(format!("`{rel}` is a directory: use `list`"));
    }
    let bytes = std::fs::read(abs).map_err(|e| format!("cannot read `{rel}`: {}", super::run::io_why(&e)))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("`{rel}` is not a text file (not UTF-8)"))?;
    let first = opt_u64(input, "offset").unwrap_or(1).max(1) as usize;
    let limit = opt_u64(input, "limit").unwrap_or(u64::MAX) as usize;
    let total = text.lines().count();
    let mut out = String::new();
    for (n, line) in text.lines().enumerate().skip(first - 1).take(limit) {
        out.push_str(&format!("{:>6}\t{line}\n", n + 1));
        if out.len() > MAX_FOR_MODEL {
            out.push_str(&format!("[... stopped at line {} of {total}: read on with offset ...]\n", n + 1));
            break;
        }
    }
    if out.is_empty() {
        out = if total == 0 { format!("`{rel}` is empty") } else { format!("`{rel}` has {total} lines; none from line {first}") };
    }
    Ok(Done::text(out))
}
