//! `edit`: replaces an exact string in a file; refused when the string is missing or
//! occurs more than once (unless every occurrence is to be replaced).

use serde_json::Value;

use super::{Ctx, Done, Plan, path_arg, text};
use bosun_core::{FileChangeKind, ToolKind};

pub const SPEC: (&str, &str) = (
    "Replace an exact string in a file of the workspace. old_string must occur exactly once (include surrounding lines to make it unique), unless replace_all is true.",
    r#"{"type":"object","properties":{"path":{"type":"string"},"old_string":{"type":"string"},"new_string":{"type":"string"},"replace_all":{"type":"boolean"}},"required":["path","old_string","new_string"]}"#,
);

pub fn plan(ctx: &Ctx, input: &Value) -> Result<Plan, String> {
    text(input, "old_string")?;
    text(input, "new_string")?;
    let (path, abs) = path_arg(ctx, input, "path", None)?;
    Ok(Plan { kind: ToolKind::Edit, path: Some(path), abs: Some(abs), command: None, ask: true })
}

pub fn run(input: &Value, plan: &Plan) -> Result<Done, String> {
    let (rel, abs) = (plan.path.as_deref().unwrap_or("?"), plan.abs.as_ref().expect("planned with a path"));
    let (old, new) = (text(input, "old_string")?, text(input, "new_string")?);
    if old.is_empty() {
        return Err("old_string is empty: use `write` for a new file".into());
    }
    let body = std::fs::read_to_string(abs).map_err(|e| format!("cannot read `{rel}`: {}", super::run::io_why(&e)))?;
    let all = input.get("replace_all").and_then(Value::as_bool).unwrap_or(false);
    let found = body.matches(old).count();
    match found {
        0 => return Err(format!("old_string was not found in {rel}")),
        n if n > 1 && !all => {
            return Err(format!(
                "old_string occurs {n} times in {rel}: include more of the surrounding text so it is unique, or set replace_all"
            ));
        }
        _ => {}
    }
    let edited = if all { body.replace(old, new) } else { body.replacen(old, new, 1) };
    std::fs::write(abs, &edited).map_err(|e| format!("cannot write `{rel}`: {}", super::run::io_why(&e)))?;
    Ok(Done { change: Some(FileChangeKind::Modified), ..Done::text(format!("replaced {found} occurrence(s) in {rel}")) })
}
