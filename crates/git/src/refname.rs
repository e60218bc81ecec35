//! Branch names checked in-process by git's own rules (`git help check-ref-format`,
//! as `check-ref-format --branch` applies them), so a task's start spawns no git
//! process just to ask whether a name is valid.

/// Why `name` is not a valid branch name, or `None` when it is.
pub fn branch_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("a branch name cannot be empty");
    }
    if name.starts_with('-') {
        return Some("a branch name cannot start with '-'");
    }
    if name == "HEAD" {
        return Some("HEAD is not a branch name");
    }
    if name == "@" {
        return Some("a branch name cannot be the single character '@'");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Some("a branch name cannot begin or end with '/' or hold '//'");
    }
    if name.ends_with('.') {
        return Some("a branch name cannot end with '.'");
    }
    if name.contains("..") {
        return Some("a branch name cannot hold '..'");
    }
    if name.contains("@{") {
        return Some("a branch name cannot hold '@{'");
    }
    if name.chars().any(|c| c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')) {
        return Some("a branch name cannot hold control characters, space, or any of ~ ^ : ? * [ \\");
    }
    if name.split('/').any(|part| part.starts_with('.') || part.ends_with(".lock")) {
        return Some("no part of a branch name can begin with '.' or end with '.lock'");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::branch_name_problem;

    #[test]
    fn git_rules() {
        for ok in ["main", "feat/x-1", "bosun/12-fix-the-thing", "a.b", "v1.2/x", "@x", "x@y", "ünï"] {
            assert_eq!(branch_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "", "-f", "HEAD", "@", "/a", "a/", "a//b", "a.", "a..b", "a@{1}", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[b", "a\\b",
            "a\x01", "a\x7f", ".a", "a/.b", "a.lock", "a.lock/b",
        ] {
            assert!(branch_name_problem(bad).is_some(), "{bad:?}");
        }
    }
}
