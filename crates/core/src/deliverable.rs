//! Deliverables: the files a run hands over as its work, for tasks whose output is not
//! a branch (a report, a chart, a table) and for any run that names its files.
//!
//! A run's deliverables are the files it declared (a `deliverable` event: a path
//! relative to its workspace, with a one-line description) and, for a scratch task (no
//! repo), every file the run created or changed in its workspace, found by comparing
//! the workspace before and after the run. Everything here is pure: paths are checked
//! as text, the engine walks and reads the files.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::task::{RunId, TaskId};

/// Deliverables recorded for one run, at most (declared first, then changed files).
pub const MAX_PER_RUN: usize = 100;
/// Files looked at in a scratch workspace, at most, when comparing before and after.
pub const MAX_WALKED: usize = 10_000;
/// Longest description kept (characters).
pub const MAX_DESCRIPTION: usize = 300;
/// Longest path accepted (bytes).
pub const MAX_PATH: usize = 1024;
/// Directories never looked into for changed files: tool caches and dependency trees
/// are not a task's work (hidden directories are skipped too).
pub const SKIP_DIRS: &[&str] = &["node_modules", "target", "venv", "__pycache__", "site-packages"];

/// A deliverable as recorded for a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Deliverable {
    pub task_id: TaskId,
    pub run_id: RunId,
    /// Relative to the task's workspace, `/`-separated, never `..` or absolute.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// The media type guessed from the name (`text/markdown`, `image/png`, ...).
    pub mime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Hex SHA-256 of the content as delivered (None: too large to hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Against the same path in the task's previous run that delivered it.
    pub change: DeliverableChange,
    pub created_at: DateTime<Utc>,
}

/// How a deliverable differs from the one of the same path an earlier run delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliverableChange {
    /// No earlier run delivered this path.
    Added,
    Modified,
    Unchanged,
}

impl DeliverableChange {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliverableChange::Added => "added",
            DeliverableChange::Modified => "modified",
            DeliverableChange::Unchanged => "unchanged",
        }
    }

    pub fn parse(s: &str) -> Option<DeliverableChange> {
        match s {
            "added" => Some(DeliverableChange::Added),
            "modified" => Some(DeliverableChange::Modified),
            "unchanged" => Some(DeliverableChange::Unchanged),
            _ => None,
        }
    }

    /// This content's hash against the previous delivery of the path (None: there was
    /// none); a missing hash on either side counts as modified.
    pub fn between(previous: Option<Option<&str>>, now: Option<&str>) -> DeliverableChange {
        match previous {
            None => DeliverableChange::Added,
            Some(Some(before)) if now == Some(before) => DeliverableChange::Unchanged,
            Some(_) => DeliverableChange::Modified,
        }
    }
}

/// A deliverable on its way to the store, with the run's end.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeliverable {
    pub path: String,
    pub size: u64,
    pub mime: String,
    pub description: Option<String>,
    pub sha256: Option<String>,
    pub change: DeliverableChange,
}

/// Why a deliverable's path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("{0:?} is absolute: a deliverable is named relative to the task's workspace")]
    Absolute(String),
    #[error("{0:?} leaves the task's workspace")]
    Escapes(String),
    #[error("the path has a control character in it")]
    Control,
    #[error("the path is longer than {MAX_PATH} bytes")]
    TooLong,
}

/// A deliverable's path, checked as text and normalized (`./a//b` is `a/b`): relative
/// to the workspace, with no `..`, no control characters.
pub fn check_path(raw: &str) -> Result<String, PathError> {
    if raw.len() > MAX_PATH {
        return Err(PathError::TooLong);
    }
    if raw.chars().any(char::is_control) {
        return Err(PathError::Control);
    }
    if raw.starts_with('/') || raw.starts_with('\\') || raw.as_bytes().get(1) == Some(&b':') || raw.starts_with('~') {
        return Err(PathError::Absolute(raw.to_string()));
    }
    let mut parts = Vec::new();
    for part in raw.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(PathError::Escapes(raw.to_string())),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(parts.join("/"))
}

/// A description as kept: its first line, trimmed, at most [`MAX_DESCRIPTION`]
/// characters; None when blank.
pub fn clean_description(raw: Option<&str>) -> Option<String> {
    let line = raw?.lines().next()?.trim();
    (!line.is_empty()).then(|| line.chars().take(MAX_DESCRIPTION).collect())
}

/// The media type of a file by its name.
pub fn mime_for(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "txt" | "log" | "text" => "text/plain",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The content type a deliverable is served with when shown (not downloaded): text of
/// any kind as plain text (HTML too: never rendered on bosun's origin), raster images
/// as themselves; None for the rest (SVG and HTML can run script), which are only
/// downloaded, as bytes.
pub fn shown_as(mime: &str) -> Option<&'static str> {
    match mime {
        "image/png" => Some("image/png"),
        "image/jpeg" => Some("image/jpeg"),
        "image/gif" => Some("image/gif"),
        "image/webp" => Some("image/webp"),
        m if m.starts_with("text/") && m != "text/html" => Some("text/plain; charset=utf-8"),
        "application/json" | "application/yaml" => Some("text/plain; charset=utf-8"),
        _ => None,
    }
}

/// A file as seen when its workspace was looked at: enough to tell it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified: i128,
}

/// A workspace's files (relative path → stamp).
pub type Snapshot = BTreeMap<String, Stamp>;

/// Whether a directory of this name is looked into for changed files.
pub fn walks_into(name: &str) -> bool {
    !name.starts_with('.') && !SKIP_DIRS.contains(&name)
}

/// The files of `after` that are new or changed since `before`, in path order.
pub fn changed(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    after.iter().filter(|(path, stamp)| before.get(*path) != Some(stamp)).map(|(path, _)| path.clone()).collect()
}

/// A run's deliverables: those it declared (the last description of a path wins), then
/// the changed files it did not declare, at most [`MAX_PER_RUN`].
pub fn gather(declared: &[(String, Option<String>)], changed: &[String]) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (path, description) in declared {
        match out.iter_mut().find(|(p, _)| p == path) {
            Some(seen) => seen.1 = description.clone().or(seen.1.take()),
            None => out.push((path.clone(), description.clone())),
        }
    }
    for path in changed {
        if !out.iter().any(|(p, _)| p == path) {
            out.push((path.clone(), None));
        }
    }
    out.truncate(MAX_PER_RUN);
    out
}

/// Each path's latest delivery across a task's runs (the list is in run order).
pub fn latest(all: &[Deliverable]) -> Vec<&Deliverable> {
    let mut by_path: BTreeMap<&str, &Deliverable> = BTreeMap::new();
    for d in all {
        by_path.insert(&d.path, d);
    }
    let mut out: Vec<&Deliverable> = by_path.into_values().collect();
    out.sort_by(|a, b| b.run_id.cmp(&a.run_id).then(a.path.cmp(&b.path)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_in_the_workspace() {
        assert_eq!(check_path("report.md").unwrap(), "report.md");
        assert_eq!(check_path("./out//chart.png").unwrap(), "out/chart.png");
        for bad in ["../x", "a/../../x", "a/..", "/etc/passwd", "\\x", "C:\\x", "~/x", "", ".", "./", "a\nb", "a\0b"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(check_path("../x"), Err(PathError::Escapes(_))));
        assert!(matches!(check_path("/x"), Err(PathError::Absolute(_))));
        assert_eq!(check_path(&"a".repeat(MAX_PATH + 1)), Err(PathError::TooLong));
    }

    #[test]
    fn descriptions_are_one_short_line() {
        assert_eq!(clean_description(Some("  The analysis \nsecond")), Some("The analysis".into()));
        assert_eq!(clean_description(Some("   ")), None);
        assert_eq!(clean_description(None), None);
        assert_eq!(clean_description(Some(&"x".repeat(1000))).unwrap().chars().count(), MAX_DESCRIPTION);
    }

    #[test]
    fn script_capable_types_are_never_shown() {
        assert_eq!(shown_as(mime_for("a.md")), Some("text/plain; charset=utf-8"));
        assert_eq!(shown_as(mime_for("a.CSV")), Some("text/plain; charset=utf-8"));
        assert_eq!(shown_as(mime_for("a.png")), Some("image/png"));
        for risky in ["a.html", "a.htm", "a.svg", "a.pdf", "a.exe", "noext"] {
            assert_eq!(shown_as(mime_for(risky)), None, "{risky}");
        }
    }

    #[test]
    fn changed_files_are_new_or_restamped() {
        let stamp = |size, modified| Stamp { size, modified };
        let before = Snapshot::from([("a".into(), stamp(1, 1)), ("b".into(), stamp(1, 1)), ("gone".into(), stamp(1, 1))]);
        let after = Snapshot::from([("a".into(), stamp(1, 1)), ("b".into(), stamp(1, 2)), ("c".into(), stamp(3, 3))]);
        assert_eq!(changed(&before, &after), vec!["b".to_string(), "c".to_string()]);
        assert!(walks_into("docs") && !walks_into(".git") && !walks_into("node_modules"));
    }

    #[test]
    fn declared_come_first_and_are_not_repeated() {
        let declared = vec![("r.md".to_string(), Some("the report".to_string())), ("r.md".to_string(), None)];
        let changed = vec!["a.csv".to_string(), "r.md".to_string()];
        assert_eq!(gather(&declared, &changed), vec![("r.md".into(), Some("the report".into())), ("a.csv".into(), None)]);
        let many: Vec<String> = (0..500).map(|i| format!("f{i}")).collect();
        assert_eq!(gather(&[], &many).len(), MAX_PER_RUN);
    }

    #[test]
    fn a_change_is_told_by_the_hash() {
        assert_eq!(DeliverableChange::between(None, Some("a")), DeliverableChange::Added);
        assert_eq!(DeliverableChange::between(Some(Some("a")), Some("a")), DeliverableChange::Unchanged);
        assert_eq!(DeliverableChange::between(Some(Some("a")), Some("b")), DeliverableChange::Modified);
        assert_eq!(DeliverableChange::between(Some(None), None), DeliverableChange::Modified);
    }
}
