//! `grep`: lines matching a regular expression, in a file or under a directory
//! (`.git` and symlinks skipped, files of at most 1 MB, text only).

use std::path::Path;

use serde_json::Value;

use super::{Ctx, Done, Plan, opt_text, path::shown, path_arg, text};
use bosun_core::ToolKind;

const MAX_MATCHES: usize = 200;
const MAX_FILE: u64 = 1 << 20;

pub const SPEC: (&str, &str) = (
    "Search files of the workspace for a regular expression; prints path:line: text for each matching line.",
    r#"{"type":"object","properties":{"pattern":{"type":"string","description":"a regular expression"},"path":{"type":"string","description":"a file or directory (default: the workspace)"},"glob":{"type":"string","description":"only files whose name matches, e.g. *.md"}},"required":["pattern"]}"#,
);

pub fn plan(ctx: &Ctx, input: &Value) -> Result<Plan, String> {
    let pattern = text(input, "pattern")?;
    regex_lite::Regex::new(pattern).map_err(|e| format!("bad regular expression: {e}"))?;
    Ok(Plan::reads(ToolKind::Search, Some(path_arg(ctx, input, "path", Some("."))?)))
}

pub fn run(ctx: &Ctx, input: &Value, plan: &Plan) -> Result<Done, String> {
    let re = regex_lite::Regex::new(text(input, "pattern")?).map_err(|e| format!("bad regular expression: {e}"))?;
    let only = match opt_text(input, "glob") {
        Some(g) => Some(glob::Pattern::new(g).map_err(|e| format!("bad glob `{g}`: {e}"))?),
        None => None,
    };
    let mut hits = Vec::new();
    let mut more = 0;
    walk(plan.abs.as_ref().expect("planned with a path"), &mut |file| {
        if only.as_ref().is_some_and(|g| !file.file_name().is_some_and(|n| g.matches(&n.to_string_lossy()))) {
            return;
        }
        let Ok(text) = std::fs::read_to_string(file) else { return };
        for (n, line) in text.lines().enumerate() {
            if re.is_match(line) {
                if hits.len() < MAX_MATCHES {
                    let line: String = line.chars().take(300).collect();
                    hits.push(format!("{}:{}: {line}", shown(&ctx.root, file), n + 1));
                } else {
                    more += 1;
                }
            }
        }
    });
    let mut out = if hits.is_empty() { "no matches".to_string() } else { hits.join("\n") };
    if more > 0 {
        out.push_str(&format!("\n[... {more} more matches]"));
    }
    Ok(Done::text(out))
}

/// Calls `visit` for each regular file under `path` (or `path` itself), in name order.
fn walk(path: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return };
    if meta.is_file() {
        if meta.len() <= MAX_FILE {
            visit(path);
        }
        return;
    }
    if !meta.is_dir() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        walk(&p, visit);
    }
}
