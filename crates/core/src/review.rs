//! Reviewing a task's change: which changed files are generated (shown collapsed),
//! and review comments on lines of the diff turned into the one message the agent
//! gets as its next turn, each quoted with its file and line.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A reviewer's comment on a line (or a range of lines) of a changed file, in the
/// numbering of the branch's version of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineComment {
    /// The file's path in the repository, e.g. `src/a.rs`.
    pub file: String,
    /// The (first) line commented on, from 1.
    pub line: u32,
    /// The last line of a range, when the comment is on more than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// The line's text as the reviewer saw it, quoted for the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    pub text: String,
}

/// Why a set of comments cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("comment {0}: the file is empty")]
    NoFile(usize),
    #[error("comment {0} on {1}: lines count from 1, and a range ends after it starts")]
    BadLine(usize, String),
    #[error("comment {0} on {1}: the comment is empty")]
    NoText(usize, String),
}

/// Most comments in one reply.
pub const MAX_COMMENTS: usize = 200;

impl LineComment {
    /// `src/a.rs:40` or `src/a.rs:40-44`.
    pub fn place(&self) -> String {
        match self.end_line {
            Some(end) if end != self.line => format!("{}:{}-{}", self.file, self.line, end),
            _ => format!("{}:{}", self.file, self.line),
        }
    }
}

/// Checks the comments: each names a file, a line from 1 (a range in order) and says something.
pub fn check_comments(comments: &[LineComment]) -> Result<(), CommentError> {
    for (i, c) in comments.iter().enumerate() {
        let n = i + 1;
        if c.file.trim().is_empty() {
            return Err(CommentError::NoFile(n));
        }
        if c.line == 0 || c.end_line.is_some_and(|e| e < c.line) {
            return Err(CommentError::BadLine(n, c.file.clone()));
        }
        if c.text.trim().is_empty() {
            return Err(CommentError::NoText(n, c.file.clone()));
        }
    }
    Ok(())
}

/// The message a review becomes: the overall note, then each comment as
/// `file:line`, the quoted line(s) and the comment. Without comments, the note as it is.
pub fn review_message(note: &str, comments: &[LineComment]) -> String {
    if comments.is_empty() {
        return note.to_owned();
    }
    let mut out = String::new();
    let note = note.trim();
    if !note.is_empty() {
        out.push_str(note);
        out.push_str("\n\n");
    }
    out.push_str(&format!("Review comments ({}):\n", comments.len()));
    for c in comments {
        out.push_str(&format!("\n{}:\n", c.place()));
        if let Some(q) = c.quote.as_deref().filter(|q| !q.trim().is_empty()) {
            for l in q.lines() {
                out.push_str(&format!("> {l}\n"));
            }
        }
        out.push_str(c.text.trim());
        out.push('\n');
    }
    out
}

/// Lines `from`..=`to` of the branch's version of a file, as far as its unified diff
/// shows them (added and unchanged lines), joined by newlines: the text a comment quotes.
pub fn new_side_lines(diff: &str, from: u32, to: u32) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut line: Option<u32> = None; // the branch's line number of the next diff line
    for l in diff.lines() {
        if let Some(rest) = l.strip_prefix("@@ ") {
            // "@@ -a,b +c,d @@": the branch's side starts at c.
            line = rest.split(' ').find_map(|p| p.strip_prefix('+')).and_then(|p| p.split(',').next()?.parse().ok());
            continue;
        }
        let Some(n) = line else { continue };
        let text = match l.as_bytes().first() {
            Some(b'+' | b' ') => &l[1..],
            _ => continue, // removed lines and "\ No newline" are not in the branch's version
        };
        if (from..=to).contains(&n) {
            out.push(text);
        }
        line = Some(n + 1);
    }
    out.join("\n")
}

/// Whether a changed file is generated or vendored (lockfiles, minified or bundled
/// output, build directories): the review shows it collapsed.
pub fn is_generated(path: &str) -> bool {
    const NAMES: [&str; 10] = [
        "Cargo.lock",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "Gemfile.lock",
        "composer.lock",
        "go.sum",
        "uv.lock",
        "flake.lock",
    ];
    const SUFFIXES: [&str; 5] = [".min.js", ".min.css", ".map", ".pb.go", ".snap"];
    const DIRS: [&str; 5] = ["dist", "build", "vendor", "node_modules", "target"];
    let name = path.rsplit('/').next().unwrap_or(path);
    NAMES.contains(&name) || SUFFIXES.iter().any(|s| name.ends_with(s)) || path.split('/').rev().skip(1).any(|d| DIRS.contains(&d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(file: &str, line: u32, end: Option<u32>, text: &str) -> LineComment {
        LineComment { file: file.into(), line, end_line: end, quote: None, text: text.into() }
    }

    #[test]
    fn a_review_quotes_each_comment_with_its_file_and_line() {
        let mut first = c("src/a.rs", 40, None, "use a match here");
        first.quote = Some("if x == 1 {".into());
        let msg = review_message("Nearly there.", &[first, c("b.md", 2, Some(4), " typo ")]);
        assert_eq!(msg, "Nearly there.\n\nReview comments (2):\n\nsrc/a.rs:40:\n> if x == 1 {\nuse a match here\n\nb.md:2-4:\ntypo\n");
        assert_eq!(review_message("just this", &[]), "just this");
        assert!(review_message("", &[c("a", 1, Some(1), "x")]).starts_with("Review comments (1):\n\na:1:\n"));
    }

    #[test]
    fn bad_comments_are_named() {
        assert_eq!(check_comments(&[c("a", 1, None, "ok"), c("b", 0, None, "x")]), Err(CommentError::BadLine(2, "b".into())));
        assert_eq!(check_comments(&[c("b", 5, Some(4), "x")]), Err(CommentError::BadLine(1, "b".into())));
        assert_eq!(check_comments(&[c(" ", 1, None, "x")]), Err(CommentError::NoFile(1)));
        assert_eq!(check_comments(&[c("a", 1, None, "  ")]), Err(CommentError::NoText(1, "a".into())));
        assert!(check_comments(&[c("a", 3, Some(3), "x")]).is_ok());
    }

    #[test]
    fn a_comment_quotes_the_branchs_lines() {
        let diff = "diff --git a/a.rs b/a.rs\n--- a/a.rs\n+++ b/a.rs\n@@ -1,3 +1,4 @@\n one\n-two\n+2\n+2.5\n three\n@@ -10 +11,2 @@ fn x\n ten\n+eleven\n";
        assert_eq!(new_side_lines(diff, 2, 3), "2\n2.5");
        assert_eq!(new_side_lines(diff, 4, 4), "three");
        assert_eq!(new_side_lines(diff, 12, 12), "eleven");
        assert_eq!(new_side_lines(diff, 7, 8), "", "not in the diff");
    }

    #[test]
    fn generated_files_are_recognised() {
        for p in ["Cargo.lock", "web/package-lock.json", "dist/app.js", "a/vendor/x.c", "app.min.js", "x.js.map"] {
            assert!(is_generated(p), "{p}");
        }
        for p in ["src/main.rs", "distance.rs", "build.rs", "README.md"] {
            assert!(!is_generated(p), "{p}");
        }
    }
}
