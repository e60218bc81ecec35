//! The tools the model may call, one module each, all confined to the workspace (see
//! [`path`]). A call is first *planned* (its arguments checked, its paths resolved:
//! what the `tool_call` event shows and what an approval asks about), then, if allowed,
//! *run*. Every failure is a message for the model, never a crash.

mod deliver;
mod edit;
mod grep;
mod list;
pub mod path;
mod read;
mod run;
mod write;

use std::path::PathBuf;
use std::time::Duration;

use bosun_core::{FileChangeKind, ToolKind};
use bosun_model_client::ToolSpec;
use serde_json::Value;

/// What the tools know of their surroundings.
pub struct Ctx {
    /// The workspace, canonical.
    pub root: PathBuf,
    /// The API key's variable: never handed to a command the model runs.
    pub key_env: Option<String>,
    /// How long a `run` command may take unless it asks for less.
    pub run_timeout: Duration,
}

/// A checked call, before it runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: ToolKind,
    /// The path as the model named it, relative to the workspace.
    pub path: Option<String>,
    /// The path resolved.
    pub abs: Option<PathBuf>,
    pub command: Option<String>,
    /// Whether bosun's approval policy is asked first (edits, writes, commands).
    pub ask: bool,
}

impl Plan {
    fn reads(kind: ToolKind, path: Option<(String, PathBuf)>) -> Plan {
        let (path, abs) = path.unzip();
        Plan { kind, path, abs, command: None, ask: false }
    }
}

/// What a call did.
#[derive(Debug, Default)]
pub struct Done {
    pub output: String,
    pub exit_code: Option<i64>,
    /// A command that ran but failed is an error result too.
    pub is_error: bool,
    pub change: Option<FileChangeKind>,
    /// `deliver`: the path and its one-line description.
    pub delivered: Option<(String, String)>,
}

impl Done {
    fn text(output: impl Into<String>) -> Done {
        Done { output: output.into(), ..Done::default() }
    }
}

/// The tools by name, in the order offered.
pub const ALL: [&str; 7] = bosun_core::profile::API_TOOLS;

pub fn specs(enabled: &[String]) -> Vec<ToolSpec> {
    enabled.iter().filter_map(|name| spec(name)).collect()
}

fn spec(name: &str) -> Option<ToolSpec> {
    let (description, parameters) = match name {
        "read" => read::SPEC,
        "list" => list::SPEC,
        "grep" => grep::SPEC,
        "write" => write::SPEC,
        "edit" => edit::SPEC,
        "run" => run::SPEC,
        "deliver" => deliver::SPEC,
        _ => return None,
    };
    let parameters = serde_json::from_str(parameters).expect("a tool's schema is JSON");
    Some(ToolSpec { name: name.into(), description: description.into(), parameters })
}

/// The kind of a tool by name (for a call that cannot even be planned).
pub fn kind(name: &str) -> ToolKind {
    match name {
        "read" => ToolKind::Read,
        "list" | "grep" => ToolKind::Search,
        "write" => ToolKind::Write,
        "edit" => ToolKind::Edit,
        "run" => ToolKind::Command,
        _ => ToolKind::Other,
    }
}

pub fn plan(ctx: &Ctx, enabled: &[String], name: &str, input: &Value) -> Result<Plan, String> {
    if !enabled.iter().any(|t| t == name) {
        return Err(format!("there is no tool `{name}` (tools: {})", enabled.join(", ")));
    }
    match name {
        "read" => read::plan(ctx, input),
        "list" => list::plan(ctx, input),
        "grep" => grep::plan(ctx, input),
        "write" => write::plan(ctx, input),
        "edit" => edit::plan(ctx, input),
        "run" => run::plan(input),
        "deliver" => deliver::plan(ctx, input),
        _ => Err(format!("there is no tool `{name}`")),
    }
}

pub async fn run(ctx: &Ctx, name: &str, input: &Value, plan: &Plan) -> Result<Done, String> {
    match name {
        "read" => read::run(input, plan),
        "list" => list::run(ctx, input, plan),
        "grep" => grep::run(ctx, input, plan),
        "write" => write::run(input, plan),
        "edit" => edit::run(input, plan),
        "run" => run::run(ctx, input, plan).await,
        "deliver" => deliver::run(input, plan),
        _ => Err(format!("there is no tool `{name}`")),
    }
}

/// A required string argument.
fn text<'a>(input: &'a Value, name: &str) -> Result<&'a str, String> {
    input.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing the string argument `{name}`"))
}

/// An optional string argument.
fn opt_text<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// An optional whole-number argument (a number or a numeric string: models send both).
fn opt_u64(input: &Value, name: &str) -> Option<u64> {
    let v = input.get(name)?;
    v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)).or_else(|| v.as_str()?.trim().parse().ok())
}

/// The path argument `name`, resolved.
fn path_arg(ctx: &Ctx, input: &Value, name: &str, default: Option<&str>) -> Result<(String, PathBuf), String> {
    let rel = match (opt_text(input, name), default) {
        (Some(p), _) => p,
        (None, Some(d)) => d,
        (None, None) => return Err(format!("missing the string argument `{name}`")),
    };
    let abs = path::resolve(&ctx.root, rel)?;
    Ok((path::shown(&ctx.root, &abs), abs))
}

/// Output kept for the model, in bytes: longer output keeps its head and tail.
pub const MAX_FOR_MODEL: usize = 16 * 1024;

/// `s` cut to about `max` bytes on character boundaries: the first and last halves, and
/// how much was left out between them.
pub fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let half = max / 2;
    let head = (0..=half).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    let tail = (s.len() - half..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(s.len());
    format!("{}\n[... {} bytes left out ...]\n{}", &s[..head], tail - head, &s[tail..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(dir: &std::path::Path) -> Ctx {
        Ctx { root: dir.canonicalize().unwrap(), key_env: Some("SECRET_KEY_FOR_TEST".into()), run_timeout: Duration::from_secs(5) }
    }

    async fn call(ctx: &Ctx, name: &str, input: Value) -> Result<Done, String> {
        let all: Vec<String> = ALL.iter().map(|t| t.to_string()).collect();
        let plan = plan(ctx, &all, name, &input)?;
        run(ctx, name, &input, &plan).await
    }

    #[tokio::test]
    async fn tools_do_what_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        let w = call(&c, "write", json!({"path": "docs/a.md", "content": "one\ntwo\nthree\ntwo\n"})).await.unwrap();
        assert_eq!(w.change, Some(FileChangeKind::Added));
        let r = call(&c, "read", json!({"path": "docs/a.md", "offset": 2, "limit": 2})).await.unwrap();
        assert_eq!(r.output, "     2\ttwo\n     3\tthree\n");
        let e = call(&c, "edit", json!({"path": "docs/a.md", "old_string": "two", "new_string": "2"})).await.unwrap_err();
        assert!(e.contains("occurs 2 times"), "{e}");
        let e = call(&c, "edit", json!({"path": "docs/a.md", "old_string": "four", "new_string": "4"})).await.unwrap_err();
        assert!(e.contains("not found"), "{e}");
        call(&c, "edit", json!({"path": "docs/a.md", "old_string": "two", "new_string": "2", "replace_all": true})).await.unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("docs/a.md")).unwrap(), "one\n2\nthree\n2\n");
        assert_eq!(call(&c, "list", json!({})).await.unwrap().output, "docs/");
        assert_eq!(call(&c, "list", json!({"pattern": "**/*.md"})).await.unwrap().output, "docs/a.md");
        assert!(call(&c, "list", json!({"pattern": "../*"})).await.unwrap_err().contains("leaves the workspace"));
        assert_eq!(call(&c, "grep", json!({"pattern": "^th"})).await.unwrap().output, "docs/a.md:3: three");
        let d = call(&c, "deliver", json!({"path": "docs/a.md", "description": "the\nanalysis"})).await.unwrap();
        assert_eq!(d.delivered, Some(("docs/a.md".into(), "the analysis".into())));
        assert!(call(&c, "deliver", json!({"path": "nope.md", "description": "x"})).await.unwrap_err().contains("not a file"));
        assert!(call(&c, "browse", json!({})).await.unwrap_err().contains("there is no tool `browse`"));
    }

    #[tokio::test]
    async fn run_reports_exit_codes_hides_the_key_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let c = ctx(dir.path());
        // SAFETY: set before any thread of this test reads the environment.
        unsafe { std::env::set_var("SECRET_KEY_FOR_TEST", "sk-1") };
        let r = call(&c, "run", json!({"command": "echo \"key=$SECRET_KEY_FOR_TEST\"; exit 3"})).await.unwrap();
        assert_eq!((r.exit_code, r.is_error), (Some(3), true));
        assert_eq!(r.output, "key=\n\n[exit code 3]");
        let e = call(&c, "run", json!({"command": "sleep 30", "timeout_secs": 1})).await.unwrap_err();
        assert!(e.contains("did not finish within 1s"), "{e}");
        assert!(cap(&"a".repeat(100), 20).contains("bytes left out"));
    }
}
