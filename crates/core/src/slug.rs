//! Turning a human title into a branch- and path-safe slug.
//!
//! The slug ends up in a git branch name (`bosun/<id>-<slug>`) and a directory name
//! under the data dir, so it is restricted to `[a-z0-9-]`: whatever the title holds
//! (shell metacharacters, `..`, slashes, unicode, 500 characters) cannot change the
//! meaning of a path or an argument.

/// The longest slug we produce, in bytes (all ASCII).
pub const MAX_SLUG_LEN: usize = 40;

/// A lowercase `[a-z0-9-]` slug of `title`, at most [`MAX_SLUG_LEN`] long, never empty,
/// never starting or ending with `-`.
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(MAX_SLUG_LEN);
    let mut pending_dash = false;
    for c in title.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                if out.len() + 1 >= MAX_SLUG_LEN {
                    break;
                }
                out.push('-');
            }
            pending_dash = false;
            if out.len() >= MAX_SLUG_LEN {
                break;
            }
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    if out.is_empty() { "task".to_string() } else { out }
}

/// The branch a task works on.
pub fn task_branch(id: i64, title: &str) -> String {
    format!("bosun/{id}-{}", slugify(title))
}

/// The directory name of a task's worktree or scratch workspace.
pub fn task_dir_name(id: i64, title: &str) -> String {
    format!("{id}-{}", slugify(title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_titles() {
        assert_eq!(slugify("Fix the flaky login test"), "fix-the-flaky-login-test");
        assert_eq!(task_branch(12, "Fix the flaky login test"), "bosun/12-fix-the-flaky-login-test");
    }

    #[test]
    fn hostile_titles_stay_inside_the_alphabet() {
        for title in ["\"; rm -rf ~", "../../etc/passwd", "$(reboot)`id`", "Ünïcödé ✨ 日本語", "--force", "/", ""] {
            let s = slugify(title);
            assert!(!s.is_empty());
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{title:?} -> {s:?}");
            assert!(!s.starts_with('-') && !s.ends_with('-'), "{title:?} -> {s:?}");
        }
        assert_eq!(slugify("\"; rm -rf ~"), "rm-rf");
        assert_eq!(slugify("../../etc"), "etc");
        assert_eq!(slugify("日本語"), "task");
    }

    #[test]
    fn long_titles_are_cut() {
        let s = slugify(&"word ".repeat(100));
        assert!(s.len() <= MAX_SLUG_LEN);
        assert!(!s.ends_with('-'));
        assert_eq!(slugify(&"a".repeat(500)).len(), MAX_SLUG_LEN);
    }
}
