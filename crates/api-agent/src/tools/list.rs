//! `list`: a directory's entries, or the files a glob pattern matches.

use serde_json::Value;

use super::{Ctx, Done, Plan, opt_text, path::shown, path_arg};
use bosun_core::ToolKind;

const MAX_ENTRIES: usize = 1000;

pub const SPEC: (&str, &str) = (
    "List a directory of the workspace (directories end with /), or with pattern the files matching a glob such as **/*.md.",
    r#"{"type":"object","properties":{"path":{"type":"string","description":"a directory, relative to the workspace (default: the workspace)"},"pattern":{"type":"string","description":"a glob under path, e.g. **/*.rs"}}}"#,
);

pub fn plan(ctx: &Ctx, input: &Value) -> Result<Plan, String> {
    if let Some(p) = opt_text(input, "pattern")
        && (p.starts_with('/') || p.split('/').any(|part| part == ".."))
    {
        return Err(format!("the pattern `{p}` leaves the workspace"));
    }
    Ok(Plan::reads(ToolKind::Search, Some(path_arg(ctx, input, "path", Some("."))?)))
}

pub fn run(ctx: &Ctx, input: &Value, plan: &Plan) -> Result<Done, String> {
    let abs = plan.abs.as_ref().expect("planned with a path");
    let rel = plan.path.as_deref().unwrap_or(".");
    let mut found: Vec<String> = Vec::new();
    if let Some(pattern) = opt_text(input, "pattern") {
        let full = abs.join(pattern);
        let paths = glob::glob(&full.to_string_lossy()).map_err(|e| format!("bad pattern `{pattern}`: {e}"))?;
        for p in paths.flatten() {
            let inside = p.canonicalize().is_ok_and(|real| real.starts_with(&ctx.root));
            if inside && !p.components().any(|c| c.as_os_str() == ".git") {
                found.push(shown(&ctx.root, &p) + if p.is_dir() { "/" } else { "" });
            }
        }
    } else {
        let entries = std::fs::read_dir(abs).map_err(|e| format!("cannot list `{rel}`: {}", super::run::io_why(&e)))?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == ".git" {
                continue;
            }
            let dir = e.file_type().is_ok_and(|t| t.is_dir());
            found.push(if dir { format!("{name}/") } else { name });
        }
    }
    found.sort();
    let total = found.len();
    found.truncate(MAX_ENTRIES);
    let mut out = found.join("\n");
    if total > MAX_ENTRIES {
        out.push_str(&format!("\n[... {} more]", total - MAX_ENTRIES));
    }
    if out.is_empty() {
        out = "(nothing)".into();
    }
    Ok(Done::text(out))
}
