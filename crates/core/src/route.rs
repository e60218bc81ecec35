//! Routing rules: which agent profile (and model, and budget) a task goes to, as a
//! pure function of the task and an ordered list of rules — the first match wins.
//!
//! ```toml
//! # <config-dir>/routing.toml, or [[route]] in a repo's .bosun/config.toml
//! [[route]]
//! when = { tags = ["docs"], title = "(?i)typo|readme" }
//! agent = "writer"
//! model = "haiku"
//! [[route]]
//! when = {}            # matches everything: the fallback
//! agent = "generalist"
//! ```
//!
//! `when` keys, all of which must hold: `tags` (the task has every one), `any_tags`
//! (it has at least one), `assignee`, `repo` (the task's repo is this directory or
//! inside it), `source` (`cli`, `board`, ...), `title` and `body` (regular
//! expressions, searched), `priority` (at least this). Parsing keeps each rule's line
//! so a bad rule (or one naming an unknown profile) is reported where it is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::task::SOURCES;

/// One rule, validated.
#[derive(Debug, Clone)]
pub struct Rule {
    pub when: When,
    pub agent: String,
    pub model: Option<String>,
    /// Dollars this task may spend, unless it names its own.
    pub budget: Option<f64>,
    /// Where it was written: file and line.
    pub file: String,
    pub line: usize,
}

/// What a rule matches on. Empty: everything.
#[derive(Debug, Clone, Default)]
pub struct When {
    pub tags: Vec<String>,
    pub any_tags: Vec<String>,
    pub assignee: Option<String>,
    pub repo: Option<String>,
    pub source: Option<String>,
    pub title: Option<regex_lite::Regex>,
    pub body: Option<regex_lite::Regex>,
    pub priority: Option<i64>,
}

/// What routing knows of a task.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub tags: &'a [String],
    pub assignee: Option<&'a str>,
    pub repo: Option<&'a str>,
    pub source: &'a str,
    pub priority: i64,
}

/// A rule that could not be used, and why, where it is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, ToSchema)]
#[error("{file} line {line}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
struct RulesFile {
    #[serde(default)]
    route: Vec<toml::Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    when: RawWhen,
    agent: String,
    model: Option<String>,
    budget: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    any_tags: Vec<String>,
    assignee: Option<String>,
    repo: Option<String>,
    source: Option<String>,
    title: Option<String>,
    body: Option<String>,
    priority: Option<i64>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

/// The rules of one file (its `[[route]]` entries; other keys are not routing's), in
/// order. `home` expands a `repo` starting with `~/`. A file that does not parse is
/// one error; otherwise each bad rule is an error of its own and the good ones stand.
pub fn parse(text: &str, file: &str, home: Option<&str>) -> (Vec<Rule>, Vec<RuleError>) {
    let err = |line: usize, message: String| RuleError { file: file.to_string(), line, message };
    let parsed: RulesFile = match toml::from_str(text) {
        Ok(p) => p,
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            return (Vec::new(), vec![err(line, e.message().trim().to_string())]);
        }
    };
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for spanned in parsed.route {
        let line = line_of(text, spanned.span().start);
        // One rule at a time, so one bad rule leaves the others standing.
        let raw = spanned.into_inner().try_into::<RawRule>().map_err(|e| e.message().trim().to_string());
        match raw.and_then(|raw| validate(raw, home)) {
            Ok((when, raw)) => {
                rules.push(Rule { when, agent: raw.agent, model: raw.model, budget: raw.budget, file: file.to_string(), line })
            }
            Err(message) => errors.push(err(line, message)),
        }
    }
    (rules, errors)
}

fn validate(raw: RawRule, home: Option<&str>) -> Result<(When, RawRule), String> {
    crate::profile::validate_name(&raw.agent).map_err(|e| format!("agent: {e}"))?;
    if let Some(model) = &raw.model {
        crate::task::validate_model(model)?;
    }
    if let Some(b) = raw.budget
        && !(b.is_finite() && b >= 0.0)
    {
        return Err(format!("budget must be a number of dollars, not {b}"));
    }
    let w = &raw.when;
    if let Some(source) = &w.source
        && !SOURCES.contains(&source.as_str())
    {
        return Err(format!("unknown source {source:?} (known: {})", SOURCES.join(", ")));
    }
    let regex = |what: &str, r: &Option<String>| {
        r.as_deref().map(regex_lite::Regex::new).transpose().map_err(|e| format!("{what} is not a regular expression: {e}"))
    };
    let repo = w.repo.as_deref().map(|r| match (r.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => format!("{}/{rest}", home.trim_end_matches('/')),
        _ => r.trim_end_matches('/').to_string(),
    });
    let when = When {
        tags: w.tags.clone(),
        any_tags: w.any_tags.clone(),
        assignee: w.assignee.clone(),
        repo,
        source: w.source.clone(),
        title: regex("title", &w.title)?,
        body: regex("body", &w.body)?,
        priority: w.priority,
    };
    Ok((when, raw))
}

impl When {
    /// Why the task does not match (the first condition that fails), or None: it does.
    pub fn miss(&self, t: &Facts<'_>) -> Option<String> {
        if let Some(tag) = self.tags.iter().find(|tag| !t.tags.contains(tag)) {
            return Some(format!("no tag `{tag}`"));
        }
        if !self.any_tags.is_empty() && !self.any_tags.iter().any(|tag| t.tags.contains(tag)) {
            return Some(format!("none of the tags {}", self.any_tags.join(", ")));
        }
        if let Some(a) = &self.assignee
            && t.assignee != Some(a.as_str())
        {
            return Some(format!("not assigned to `{a}`"));
        }
        if let Some(repo) = &self.repo {
            let inside = t.repo.is_some_and(|r| r == repo || r.strip_prefix(repo.as_str()).is_some_and(|rest| rest.starts_with('/')));
            if !inside {
                return Some(format!("not in {repo}"));
            }
        }
        if let Some(s) = &self.source
            && t.source != s
        {
            return Some(format!("source is {}, not {s}", t.source));
        }
        if let Some(r) = &self.title
            && !r.is_match(t.title)
        {
            return Some(format!("title does not match /{}/", r.as_str()));
        }
        if let Some(r) = &self.body
            && !r.is_match(t.body)
        {
            return Some(format!("body does not match /{}/", r.as_str()));
        }
        if let Some(p) = self.priority
            && t.priority < p
        {
            return Some(format!("priority {} is below {p}", t.priority));
        }
        None
    }
}

/// How one rule fared for a task, in order, up to the one that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub index: usize,
    /// None: it matched.
    pub miss: Option<String>,
}

/// The rules tried for a task, in order: each that missed with why, then the one that
/// matched (if any). The match is the last verdict with no `miss`.
pub fn explain(rules: &[Rule], task: &Facts<'_>) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let miss = rule.when.miss(task);
        let matched = miss.is_none();
        verdicts.push(Verdict { index, miss });
        if matched {
            break;
        }
    }
    verdicts
}

/// The first rule matching the task.
pub fn first_match<'a>(rules: &'a [Rule], task: &Facts<'_>) -> Option<&'a Rule> {
    rules.iter().find(|r| r.when.miss(task).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<Rule> {
        let (rules, errors) = parse(text, "routing.toml", Some("/home/u"));
        assert!(errors.is_empty(), "{errors:?}");
        rules
    }

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    fn pick(rules: &[Rule], facts: &Facts<'_>) -> Option<String> {
        first_match(rules, facts).map(|r| r.agent.clone())
    }

    const EXAMPLE: &str = r#"
[[route]]
when = { tags = ["docs"], title = "(?i)typo|readme" }
agent = "writer"
model = "haiku"

[[route]]
when = { assignee = "alice-reviewer" }
agent = "reviewer"

[[route]]
when = { repo = "~/code/payments", tags = ["backend"] }
agent = "senior"
model = "opus"
budget = 8.5

[[route]]
when = {}
agent = "generalist"
"#;

    #[test]
    fn first_match_wins_in_order() {
        let r = rules(EXAMPLE);
        assert_eq!(r.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 7, 11, 17]);
        let docs = tags(&["docs"]);
        let typo = Facts { title: "Fix typo in README", tags: &docs, source: "cli", ..Facts::default() };
        assert_eq!(pick(&r, &typo), Some("writer".into()));
        assert_eq!(r[0].model.as_deref(), Some("haiku"));
        // The same task assigned to alice still goes to the writer: rule 1 comes first.
        let both = Facts { assignee: Some("alice-reviewer"), ..typo.clone() };
        assert_eq!(pick(&r, &both), Some("writer".into()));
        let alice = Facts { title: "Look at auth", assignee: Some("alice-reviewer"), ..Facts::default() };
        assert_eq!(pick(&r, &alice), Some("reviewer".into()));
        let backend = tags(&["backend"]);
        let pay = Facts { title: "Refactor", tags: &backend, repo: Some("/home/u/code/payments"), ..Facts::default() };
        assert_eq!(pick(&r, &pay), Some("senior".into()));
        assert_eq!(first_match(&r, &pay).unwrap().budget, Some(8.5));
        let elsewhere = Facts { repo: Some("/home/u/code/payments-old"), ..pay.clone() };
        assert_eq!(pick(&r, &elsewhere), Some("generalist".into()), "a sibling directory is not inside the repo");
        let inside = Facts { repo: Some("/home/u/code/payments/sub"), ..pay };
        assert_eq!(pick(&r, &inside), Some("senior".into()));
    }

    #[test]
    fn every_matcher() {
        let r = rules(
            r#"
[[route]]
when = { any_tags = ["ui", "css"] }
agent = "designer"
[[route]]
when = { source = "github" }
agent = "triager"
[[route]]
when = { body = "(?m)^panic" }
agent = "debugger"
[[route]]
when = { priority = 5 }
agent = "urgent"
[[route]]
when = { tags = ["a", "b"] }
agent = "both"
"#,
        );
        let css = tags(&["css"]);
        assert_eq!(pick(&r, &Facts { tags: &css, ..Facts::default() }), Some("designer".into()));
        assert_eq!(pick(&r, &Facts { source: "github", ..Facts::default() }), Some("triager".into()));
        assert_eq!(pick(&r, &Facts { source: "cli", ..Facts::default() }), None);
        assert_eq!(pick(&r, &Facts { body: "log\npanic at x", ..Facts::default() }), Some("debugger".into()));
        assert_eq!(pick(&r, &Facts { priority: 5, ..Facts::default() }), Some("urgent".into()));
        assert_eq!(pick(&r, &Facts { priority: 4, ..Facts::default() }), None);
        let a = tags(&["a"]);
        assert_eq!(pick(&r, &Facts { tags: &a, ..Facts::default() }), None, "tags = all of them");
        let ab = tags(&["b", "a"]);
        assert_eq!(pick(&r, &Facts { tags: &ab, ..Facts::default() }), Some("both".into()));
    }

    #[test]
    fn explain_says_why_earlier_rules_missed() {
        let r = rules(EXAMPLE);
        let docs = tags(&["docs"]);
        let t = Facts { title: "Refactor auth", tags: &docs, ..Facts::default() };
        let v = explain(&r, &t);
        let misses: Vec<Option<&str>> = v.iter().map(|v| v.miss.as_deref()).collect();
        assert_eq!(
            misses,
            vec![Some("title does not match /(?i)typo|readme/"), Some("not assigned to `alice-reviewer`"), Some("no tag `backend`"), None]
        );
    }

    #[test]
    fn bad_rules_are_reported_with_their_line() {
        let text = "[[route]]\nwhen = {}\nagent = \"ok\"\n\n[[route]]\nwhen = { title = \"(unclosed\" }\nagent = \"x\"\n[[route]]\nwhen = { colour = \"red\" }\nagent = \"y\"\n[[route]]\nwhen = { source = \"fax\" }\nagent = \"z\"\n";
        let (good, bad) = parse(text, "routing.toml", None);
        assert_eq!(good.len(), 1);
        let lines: Vec<usize> = bad.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 8, 11], "{bad:?}");
        assert!(bad[0].to_string().starts_with("routing.toml line 5: title is not a regular expression"), "{}", bad[0]);
        assert!(bad[1].message.contains("unknown field `colour`"), "{}", bad[1]);
        assert!(bad[2].message.contains("unknown source \"fax\""), "{}", bad[2]);
        let (_, broken) = parse("[[route]]\nagent = \n", "f.toml", None);
        assert_eq!(broken[0].line, 2, "{broken:?}");
    }
}
