//! Whether a permission ask may be answered without a human: the profile's
//! `permissions` level and its `allow` patterns.

use std::path::Path;

use crate::event::ToolKind;
use crate::profile::Permissions;

/// What the agent wants to do, as far as the policy cares.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub tool: &'a str,
    pub kind: Option<ToolKind>,
    pub command: Option<&'a str>,
    pub path: Option<&'a str>,
}

/// True when the ask is allowed without asking a human.
pub fn allowed(perms: Permissions, allow: &[String], ask: Ask<'_>, workdir: &Path) -> bool {
    if perms == Permissions::Yolo || allow.iter().any(|p| matches_pattern(p, &ask)) {
        return true;
    }
    match ask.kind {
        Some(ToolKind::Read | ToolKind::Search) => true,
        Some(ToolKind::Edit | ToolKind::Write) => perms == Permissions::AutoEdits && ask.path.is_some_and(|p| inside(p, workdir)),
        _ => false,
    }
}

/// `Tool` matches the tool by name; `Tool(glob)` also needs its command or path to
/// match `glob`, where `*` stands for any run of characters.
pub fn matches_pattern(pattern: &str, ask: &Ask<'_>) -> bool {
    match pattern.split_once('(') {
        None => pattern == ask.tool,
        Some((tool, rest)) => {
            let Some(glob) = rest.strip_suffix(')') else { return false };
            tool == ask.tool && ask.command.or(ask.path).is_some_and(|subject| wildcard(glob, subject))
        }
    }
}

/// The pattern an `--always` answer adds for this ask: the tool and, for commands,
/// the first word of the command (`Bash(cargo *)`).
pub fn pattern_for(ask: &Ask<'_>) -> String {
    match ask.command.and_then(|c| c.split_whitespace().next()) {
        Some(word) => format!("{}({word}*)", ask.tool),
        None => ask.tool.to_string(),
    }
}

/// A path relative to the worktree, or absolute inside it, with no `..` escaping.
fn inside(path: &str, workdir: &Path) -> bool {
    let p = Path::new(path);
    let rel = if p.is_absolute() {
        match p.strip_prefix(workdir) {
            Ok(rel) => rel,
            Err(_) => return false,
        }
    } else {
        p
    };
    let mut depth = 0i32;
    for c in rel.components() {
        match c {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

fn wildcard(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask<'a>(tool: &'a str, kind: ToolKind, command: Option<&'a str>, path: Option<&'a str>) -> Ask<'a> {
        Ask { tool, kind: Some(kind), command, path }
    }

    #[test]
    fn levels() {
        let wt = Path::new("/data/worktrees/1-x");
        let edit_in = ask("Write", ToolKind::Write, None, Some("/data/worktrees/1-x/src/a.rs"));
        let edit_rel = ask("Edit", ToolKind::Edit, None, Some("src/a.rs"));
        let edit_out = ask("Write", ToolKind::Write, None, Some("/etc/hosts"));
        let escape = ask("Write", ToolKind::Write, None, Some("../../etc/hosts"));
        let cmd = ask("Bash", ToolKind::Command, Some("cargo test"), None);
        let read = ask("Read", ToolKind::Read, None, Some("/etc/hosts"));
        let p = Permissions::AutoEdits;
        assert!(allowed(p, &[], edit_in, wt) && allowed(p, &[], edit_rel, wt) && allowed(p, &[], read, wt));
        assert!(!allowed(p, &[], edit_out, wt) && !allowed(p, &[], escape, wt) && !allowed(p, &[], cmd, wt));
        assert!(!allowed(Permissions::Ask, &[], edit_in, wt));
        assert!(allowed(Permissions::Yolo, &[], cmd, wt) && allowed(Permissions::Yolo, &[], edit_out, wt));
    }

    #[test]
    fn patterns() {
        let wt = Path::new("/w");
        let cmd = ask("Bash", ToolKind::Command, Some("cargo test --workspace"), None);
        assert!(allowed(Permissions::Ask, &["Bash(cargo test*)".into()], cmd, wt));
        assert!(allowed(Permissions::Ask, &["Bash".into()], cmd, wt));
        assert!(!allowed(Permissions::Ask, &["Bash(rm *)".into(), "Write".into(), "Bash(cargo test".into()], cmd, wt));
        assert_eq!(pattern_for(&cmd), "Bash(cargo*)");
        assert!(matches_pattern("Bash(cargo*)", &cmd));
        assert!(wildcard("a*b*c", "axxbyyc") && !wildcard("a*b*c", "axxc") && wildcard("*", "") && !wildcard("ab", "abc"));
    }
}
