//! `deliver`: marks a file of the workspace as one of the task's deliverables, with a
//! one-line description (bosun lists it for the user's review).

use serde_json::Value;

use super::{Ctx, Done, Plan, path_arg, text};
use bosun_core::ToolKind;

pub const SPEC: (&str, &str) = (
    "Mark a file you made as a deliverable of the task (what the user gets), with a one-line description.",
    r#"{"type":"object","properties":{"path":{"type":"string","description":"a file of the workspace"},"description":{"type":"string","description":"one line"}},"required":["path","description"]}"#,
);

pub fn plan(ctx: &Ctx, input: &Value) -> Result<Plan, String> {
    text(input, "description")?;
    let (path, abs) = path_arg(ctx, input, "path", None)?;
    if !abs.is_file() {
        return Err(format!("`{path}` is not a file of the workspace: write it first"));
    }
    Ok(Plan::reads(ToolKind::Other, Some((path, abs))))
}

pub fn run(input: &Value, plan: &Plan) -> Result<Done, String> {
    let rel = plan.path.clone().unwrap_or_default();
    let description: String = text(input, "description")?.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
    let size = plan.abs.as_ref().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
    Ok(Done { delivered: Some((rel.clone(), description)), ..Done::text(format!("delivered {rel} ({size} bytes)")) })
}
