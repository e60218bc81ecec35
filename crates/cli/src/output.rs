//! Human-readable rendering of tasks and events (the `--json` forms print the API's
//! objects as they are).

use bosun_api::PendingApproval;
use bosun_core::{Approval, Event, EventKind, Task, TaskStatus, Usage};
use chrono::{DateTime, Local, Utc};

pub fn short_duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

pub fn age(t: DateTime<Utc>) -> String {
    short_duration((Utc::now() - t).num_seconds().max(0))
}

/// Dollars for people: cents, or four decimals below a cent, and never a nonzero
/// cost shown as zero (`--json` keeps the full figure).
pub fn dollars(c: f64) -> String {
    match c {
        c if c > 0.0 && c < 0.00005 => "<$0.0001".into(),
        c if c > 0.0 && c < 0.01 => format!("${c:.4}"),
        c => format!("${c:.2}"),
    }
}

/// How long ago, in its largest unit: `45s`, `3m`, `2h`, `4d`.
pub fn rough_age(t: DateTime<Utc>) -> String {
    match (Utc::now() - t).num_seconds().max(0) {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// What an ask wants: the tool and the command, else the path, on one line with its
/// line breaks shown (`\n`): a second line of a command must not hide behind the first.
pub fn ask(a: &Approval) -> String {
    match a.command.as_deref().or(a.path.as_deref()) {
        Some(what) => format!("{} {}", a.tool, visible_line(what)),
        None => a.tool.clone(),
    }
}

/// Why a task is where it is, in a few words: what a queued (or budget-blocked) one
/// waits for, what a needs_input one asks (from `asks`, the pending approvals), else
/// its status reason.
pub fn reason(t: &Task, asks: &[PendingApproval]) -> Option<String> {
    match t.status {
        TaskStatus::Queued => t.waiting.as_ref().map(|w| w.text.clone()),
        TaskStatus::Blocked => t.waiting.as_ref().map(|w| w.text.clone()).or_else(|| t.status_reason.clone()),
        TaskStatus::NeedsInput => asks.iter().find(|p| p.approval.task_id == t.id).map(|p| format!("asks {}", ask(&p.approval))),
        _ => t.status_reason.clone(),
    }
}

pub fn cost(u: &Usage) -> String {
    match u.cost_usd {
        Some(c) => dollars(c),
        None if u.input_tokens + u.output_tokens > 0 => format!("{}tok", u.input_tokens + u.output_tokens),
        None => "-".into(),
    }
}

/// Cuts `s` to at most `max` characters, marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut out: String = one_line.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// What a task queued again by `reply`, `say` or `retry` will do next.
pub fn next_run(t: &Task, message: bool) -> String {
    let with = if message { " with your message" } else { "" };
    match (t.resume, message) {
        (true, _) => format!("T-{} {}: its next run continues the agent's session{with}", t.id, t.status),
        (false, true) => format!(
            "T-{} {}: its next run starts a new session with the task and your message (the agent left no session to continue)",
            t.id, t.status
        ),
        (false, false) => format!("T-{} {}: its next run starts over in a new session", t.id, t.status),
    }
}

/// The task table; `asks` are the pending approvals (for the REASON of a task that
/// needs input).
pub fn task_table(tasks: &[Task], asks: &[PendingApproval]) {
    println!("{:<7} {:<12} {:<14} {:>7} {:>8}  {:<32} TITLE", "ID", "STATUS", "AGENT", "AGE", "COST", "REASON");
    for t in tasks {
        println!(
            "{:<7} {:<12} {:<14} {:>7} {:>8}  {:<32} {}",
            format!("T-{}", t.id),
            t.status.as_str(),
            clip(t.agent.as_deref().unwrap_or("-"), 14),
            age(t.created_at),
            cost(&t.usage()),
            visible(&clip(reason(t, asks).as_deref().unwrap_or("-"), 32)),
            visible(&clip(&t.title, 80))
        );
        if let Some(pr) = &t.pr {
            println!("{:<7} {:<12} {}", "", format!("pr {}", pr.state.as_str()), pr.url);
        }
    }
}

/// One task in full; `asks` are its pending approvals.
pub fn task_details(t: &Task, asks: &[PendingApproval]) {
    println!("T-{}  {}", t.id, visible(&t.title));
    let status = match &t.status_reason {
        Some(r) => format!("{} ({r})", t.status),
        None => t.status.to_string(),
    };
    println!("status:    {}", visible(&status));
    if let Some(w) = t.waiting.as_ref().filter(|_| matches!(t.status, TaskStatus::Queued | TaskStatus::Blocked)) {
        println!("waiting:   {}", w.text);
    }
    for (i, p) in asks.iter().enumerate() {
        let a = &p.approval;
        let label = if i == 0 { "waiting:" } else { "" };
        println!("{label:<10} approval #{} ({} ago): {}", a.id, rough_age(a.created_at), visible(&clip(&ask(a), 160)));
        // Which ask, when there are several (the default is the oldest).
        let which = if asks.len() > 1 { format!(" --approval {}", a.id) } else { String::new() };
        println!("{:<10} bosun approve {}{which} / bosun deny {}{which}", "", t.id, t.id);
    }
    println!("agent:     {}", t.agent.as_deref().unwrap_or("(routed at dispatch)"));
    match (&t.repo, &t.base) {
        (Some(repo), Some(base)) => println!("repo:      {repo} (base {base})"),
        _ => println!("repo:      none (scratch workspace)"),
    }
    if let Some(b) = &t.branch {
        println!("branch:    {b}");
    }
    if let Some(w) = &t.worktree {
        println!("worktree:  {w}");
    }
    if !t.tags.is_empty() {
        println!("tags:      {}", t.tags.join(", "));
    }
    if !t.after.is_empty() {
        println!("after:     {}", t.after.iter().map(|d| format!("T-{d}")).collect::<Vec<_>>().join(", "));
    }
    if let Some(o) = &t.origin {
        println!("from:      {} {} {}", o.kind.service(), visible(&o.reference), o.url);
    }
    if let Some(pr) = &t.pr {
        println!("pr:        #{} {} ({}{})", pr.number, pr.url, pr.state.as_str(), if pr.draft { ", draft" } else { "" });
    }
    if t.priority != 0 {
        println!("priority:  {}", t.priority);
    }
    println!("created:   {} ({} ago)", t.created_at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S"), age(t.created_at));
    if let Some(at) = t.archived_at {
        println!("archived:  {}", at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S"));
    }
    let total = t.usage();
    if !total.is_zero() {
        println!("usage:     {} in, {} out, {} cached, {}", total.input_tokens, total.output_tokens, total.cached_tokens, cost(&total));
    }
    if !t.body.trim().is_empty() {
        println!("\n{}\n", visible(t.body.trim()));
    }
    if t.runs.is_empty() {
        println!("runs:      none yet");
        return;
    }
    println!("runs:");
    for r in &t.runs {
        let took = r.ended_at.map(|e| short_duration((e - r.started_at).num_seconds().max(0))).unwrap_or_else(|| "…".into());
        let exit = r.exit_code.map(|c| format!("exit {c}")).unwrap_or_else(|| "-".into());
        println!(
            "  run {:<5} {:<12} {:<8} {:<14} started {} took {:<7} {}",
            r.id,
            r.status.as_str(),
            exit,
            clip(&r.agent, 14),
            r.started_at.with_timezone(&Local).format("%H:%M:%S"),
            took,
            cost(&r.usage)
        );
        if let Some(reason) = &r.reason {
            println!("            {}", visible(&clip(reason, 160)));
        }
    }
}

pub fn event_line(e: &Event) -> String {
    let ts = e.ts.with_timezone(&Local).format("%H:%M:%S");
    let (label, text) = match &e.kind {
        EventKind::Message { text, role, from } => match role.as_deref() {
            Some("user") => (from.clone().unwrap_or_else(|| "you".into()), text.clone()),
            _ => ("message".to_string(), text.clone()),
        },
        EventKind::ToolCall { kind, name, path, command, .. } => {
            let what = path.clone().or_else(|| command.clone()).unwrap_or_else(|| name.clone());
            (format!("{kind:?}").to_lowercase(), visible_line(&what).into_owned())
        }
        EventKind::ToolResult { exit_code, is_error, output, .. } => {
            let head = match exit_code {
                Some(c) => format!("exit {c}"),
                None if *is_error => "error".into(),
                None => "ok".into(),
            };
            let out = output.as_deref().map(|o| format!(" {}", clip(o, 100))).unwrap_or_default();
            ("result".into(), format!("{head}{out}"))
        }
        EventKind::FileChange { path, change, .. } => ("file".into(), format!("{change:?} {path}").to_lowercase()),
        EventKind::Usage { input_tokens, output_tokens, cached_tokens, cost_usd } => (
            "usage".into(),
            format!(
                "{input_tokens} in, {output_tokens} out, {cached_tokens} cached{}",
                cost_usd.map(|c| format!(", {}", dollars(c))).unwrap_or_default()
            ),
        ),
        EventKind::Status { status, message } => (
            "status".into(),
            match message {
                Some(m) => format!("{status}: {m}"),
                None => status.clone(),
            },
        ),
        EventKind::Error { message } => ("error".into(), message.clone()),
        EventKind::Output { stream, line } => (format!("{stream:?}").to_lowercase(), line.clone()),
        EventKind::ApprovalRequest { tool, command, path, .. } => {
            ("ask".into(), format!("{tool} {}  (bosun approve / deny)", visible_line(command.as_deref().or(path.as_deref()).unwrap_or(""))))
        }
        EventKind::Approval { allow, by, message, .. } => (
            if *allow { "allowed" } else { "denied" }.into(),
            format!("by {by}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()),
        ),
        EventKind::Session { session_id } => ("session".into(), session_id.clone()),
        EventKind::Deliverable { path, description } => {
            ("deliver".into(), format!("{path}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()))
        }
    };
    format!("{ts} {label:<8} {}", visible(&clip(&text, 400)))
}

/// `s` safe to print to a terminal: control characters (an agent's clear-screen,
/// window-title or NUL bytes) are shown as escapes (`\x1b`) instead of obeyed.
/// Newlines and tabs stay. `--json` keeps the text exact.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    escaped(s, |c| c == '\n' || c == '\t')
}

/// Like [`visible`], for what must read as one line (a command): line breaks and
/// tabs are shown too (`\n`, `\r`, `\t`).
pub fn visible_line(s: &str) -> std::borrow::Cow<'_, str> {
    escaped(s, |_| false)
}

fn escaped(s: &str, keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    let shown = |c: char| keep(c) || !c.is_control();
    if s.chars().all(shown) {
        return s.into();
    }
    let escape = |c: char| match c {
        '\n' => "\\n".to_string(),
        '\r' => "\\r".to_string(),
        '\t' => "\\t".to_string(),
        c => format!("\\x{:02x}", c as u32),
    };
    s.chars().map(|c| if shown(c) { c.to_string() } else { escape(c) }).collect::<String>().into()
}

#[cfg(test)]
mod tests {
    use super::{dollars, visible, visible_line};

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("\x1b[2J\x1b]0;owned\x07 ok\0"), "\\x1b[2J\\x1b]0;owned\\x07 ok\\x00");
        assert_eq!(visible("C1: \u{9b}31m"), "C1: \\x9b31m");
        assert_eq!(visible("two\nlines\tand tabs, ünïcödé"), "two\nlines\tand tabs, ünïcödé");
        assert_eq!(visible_line("echo hello\nrm -rf ~/x\r"), "echo hello\\nrm -rf ~/x\\r", "a command reads as one line");
    }

    #[test]
    fn dollars_are_rounded_for_people() {
        assert_eq!(dollars(0.0064639999999999975), "$0.0065");
        assert_eq!(dollars(2.2500000000000004), "$2.25");
        assert_eq!(dollars(0.00001), "<$0.0001", "a cost is never shown as zero");
        assert_eq!(dollars(0.0), "$0.00");
    }
}
