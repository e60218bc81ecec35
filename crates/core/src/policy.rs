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

/// `Tool` matches the tool by name. `Tool(...)` also needs the ask's command or path:
///
/// - A command is compared as words (split as a POSIX shell would, with
///   `shell-words`), never as a string: `Bash(cargo test)` allows exactly `cargo test`;
///   a last word `*` allows any further arguments (`Bash(cargo test *)`), and a last
///   word ending in `*` also any word starting with the rest (`Bash(cargo test*)`:
///   `cargo test --workspace`, `cargo tests`). A command that chains, pipes,
///   substitutes or redirects (see [`simple_command`]) is never allowed by a pattern.
/// - A path is matched against a glob, where `*` stands for any run of characters
///   (`Write(docs/*)`).
pub fn matches_pattern(pattern: &str, ask: &Ask<'_>) -> bool {
    match pattern.split_once('(') {
        None => pattern == ask.tool,
        Some((tool, rest)) => {
            let Some(inner) = rest.strip_suffix(')') else { return false };
            if tool != ask.tool {
                return false;
            }
            match (ask.command, ask.path) {
                (Some(command), _) => simple_command(command).is_some_and(|argv| argv_matches(inner, &argv)),
                (None, Some(path)) => wildcard(inner, path),
                (None, None) => false,
            }
        }
    }
}

/// The command's words if it is one plain program call; None if it chains (`;`,
/// `&&`, `||`, `&`), pipes, substitutes (`$(…)`, backticks), redirects (`<`, `>`),
/// opens a subshell, spans lines, or does not parse. Conservative: a quoted `;` or
/// `>` counts too (such a command can still be allowed, by a human, once).
pub fn simple_command(command: &str) -> Option<Vec<String>> {
    if command.contains(['\n', '\r']) {
        return None; // a line break separates commands, and the splitter treats it as a space
    }
    let argv = shell_words::split(command).ok()?;
    let unsafe_word = |w: &String| w.contains([';', '&', '|', '<', '>', '`', '(', ')']) || w.contains("$(");
    (!argv.is_empty() && !argv.iter().any(unsafe_word)).then_some(argv)
}

fn argv_matches(pattern: &str, argv: &[String]) -> bool {
    let Ok(words) = shell_words::split(pattern) else { return false };
    let Some((last, fixed)) = words.split_last() else { return false };
    let starts = argv.len() >= fixed.len() && argv[..fixed.len()] == *fixed;
    match last.strip_suffix('*') {
        None => starts && argv.len() == words.len() && argv[fixed.len()] == *last,
        Some("") => starts,
        Some(prefix) => starts && argv.get(fixed.len()).is_some_and(|w| w.starts_with(prefix)),
    }
}

/// The rule an `--always` answer saves for this ask: the narrowest that covers it —
/// the exact command (as words), the exact path, or, for a tool with neither, the
/// tool. None when no rule could ever cover it (a command that chains, pipes,
/// substitutes or redirects is allowed only by an answer, each time).
pub fn pattern_for(ask: &Ask<'_>) -> Option<String> {
    match (ask.command, ask.path) {
        (Some(command), _) => simple_command(command).map(|argv| format!("{}({})", ask.tool, shell_words::join(&argv))),
        (None, Some(path)) if !path.contains(['*', ')']) => Some(format!("{}({path})", ask.tool)),
        (None, Some(_)) => None,
        (None, None) => Some(ask.tool.to_string()),
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
        assert!(allowed(Permissions::Ask, &["Bash(cargo test *)".into()], cmd, wt));
        assert!(allowed(Permissions::Ask, &["Bash".into()], cmd, wt));
        assert!(!allowed(Permissions::Ask, &["Bash(rm *)".into(), "Write".into(), "Bash(cargo test".into()], cmd, wt));
        assert!(!allowed(Permissions::Ask, &["Bash(cargo test)".into()], cmd, wt), "exact means exact");
        assert!(wildcard("a*b*c", "axxbyyc") && !wildcard("a*b*c", "axxc") && wildcard("*", "") && !wildcard("ab", "abc"));
        let write = ask("Write", ToolKind::Write, None, Some("docs/a.md"));
        assert!(matches_pattern("Write(docs/*)", &write) && !matches_pattern("Write(src/*)", &write));
    }

    /// The defects a hostile agent found: a pattern never lets a chained, piped,
    /// substituted or redirected command through.
    #[test]
    fn a_pattern_never_allows_shell_operators() {
        let wt = Path::new("/w");
        let rules: Vec<String> = ["Bash(echo*)", "Bash(cargo test*)", "Bash(cargo test *)", "Bash(echo *)"].map(String::from).to_vec();
        for evil in [
            "echo safe && touch PWNED",
            "echo safe; touch PWNED",
            "cargo test; rm -rf ~",
            "cargo test || rm -rf ~",
            "cargo test | sh",
            "echo $(touch PWNED)",
            "echo `touch PWNED`",
            "echo \"$(touch PWNED)\"",
            "echo safe > ~/.bashrc",
            "echo safe < /etc/passwd",
            "echo safe &",
            "echo safe\ntouch PWNED",
            "(touch PWNED)",
            "echo 'unterminated",
        ] {
            let a = ask("Bash", ToolKind::Command, Some(evil), None);
            assert!(!allowed(Permissions::AutoEdits, &rules, a, wt), "{evil:?} was allowed by a pattern");
            assert_eq!(pattern_for(&a), None, "{evil:?} gets no rule: only an answer allows it");
        }
        // What is plain still passes, quoting and all.
        let plain = ask("Bash", ToolKind::Command, Some("echo 'safe words'"), None);
        assert!(allowed(Permissions::AutoEdits, &rules, plain, wt));
    }

    #[test]
    fn always_saves_the_narrowest_rule() {
        let echo = ask("Bash", ToolKind::Command, Some("echo safe"), None);
        assert_eq!(pattern_for(&echo).as_deref(), Some("Bash(echo safe)"));
        let later = ask("Bash", ToolKind::Command, Some("echo safe && touch PWNED"), None);
        assert!(!matches_pattern("Bash(echo safe)", &later), "the saved rule does not cover a chained command");
        let other = ask("Bash", ToolKind::Command, Some("echo unsafe"), None);
        assert!(!matches_pattern("Bash(echo safe)", &other), "nor another argument");
        let quoted = ask("Bash", ToolKind::Command, Some("git commit -m 'a message'"), None);
        let rule = pattern_for(&quoted).unwrap();
        assert_eq!(rule, "Bash(git commit -m 'a message')");
        assert!(matches_pattern(&rule, &quoted), "a saved rule covers what it was saved for");
        let write = ask("Write", ToolKind::Write, None, Some("/etc/hosts"));
        assert_eq!(pattern_for(&write).as_deref(), Some("Write(/etc/hosts)"));
        let tool = Ask { tool: "WebFetch", kind: Some(ToolKind::Web), command: None, path: None };
        assert_eq!(pattern_for(&tool).as_deref(), Some("WebFetch"));
    }
}
