//! Notifications, as rules: which task transitions notify ([`on_transition`]), what a
//! message says ([`message`], [`digest`]), which channel wants it ([`Filter`],
//! [`QuietHours`]), when a failed delivery is tried again ([`backoff`]) and when a
//! channel's next message may go ([`due`]: bursts become one digest). No I/O: the store
//! writes what these decide, the engine's sender delivers it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::task::{TaskEvent, TaskId, TaskStatus};

/// What happened that a human may want to hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    /// The agent waits for a human answer to a permission ask.
    NeedsInput,
    /// The agent finished: the task is ready for review.
    Review,
    /// The run (or its dispatch) failed.
    Failed,
    /// The task was merged (its pull request, or `bosun merge`).
    Merged,
    /// A run has spent 80 % of a budget it falls under (no transition: written when
    /// the usage report that got there is stored).
    Budget,
}

impl NotifyKind {
    pub const ALL: [NotifyKind; 5] =
        [NotifyKind::NeedsInput, NotifyKind::Review, NotifyKind::Failed, NotifyKind::Merged, NotifyKind::Budget];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::NeedsInput => "needs_input",
            NotifyKind::Review => "review",
            NotifyKind::Failed => "failed",
            NotifyKind::Merged => "merged",
            NotifyKind::Budget => "budget",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyKind> {
        NotifyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// "Needs you" (a human is waiting to be asked) or "done" (something to look at).
    pub fn priority(self) -> Priority {
        match self {
            NotifyKind::NeedsInput | NotifyKind::Failed => Priority::High,
            NotifyKind::Review | NotifyKind::Merged | NotifyKind::Budget => Priority::Default,
        }
    }
}

/// How a channel reaches a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// An ntfy topic (ntfy.sh or self-hosted): phone notifications with action buttons.
    Ntfy,
    /// A signed JSON POST to any URL.
    Webhook,
    /// The board's service worker in every subscribed browser.
    Webpush,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [ChannelKind::Ntfy, ChannelKind::Webhook, ChannelKind::Webpush];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Ntfy => "ntfy",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Webpush => "webpush",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A configured channel, with how its last delivery went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub id: i64,
    pub kind: ChannelKind,
    pub name: String,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub filter: Filter,
    /// `HH:MM-HH:MM`, the daemon's local time.
    #[schema(value_type = Option<String>, example = "22:00-07:00")]
    pub quiet: Option<QuietHours>,
    pub created_at: DateTime<Utc>,
    /// "ok", or why the last attempt failed.
    pub last_result: Option<String>,
    pub last_at: Option<DateTime<Utc>>,
}

/// Whether a task moving `from` by `event` to `to` notifies, and as what. The one
/// place this is decided; the store calls it inside the transition's transaction.
pub fn on_transition(from: TaskStatus, event: TaskEvent, to: TaskStatus) -> Option<NotifyKind> {
    use TaskStatus as S;
    match (from, event, to) {
        (S::Running, TaskEvent::AwaitingInput, S::NeedsInput) => Some(NotifyKind::NeedsInput),
        // Its run crossed a budget: someone has to raise it.
        (_, TaskEvent::OutOfBudget, S::NeedsInput) => Some(NotifyKind::NeedsInput),
        (_, TaskEvent::Finished { success: true }, S::Review) => Some(NotifyKind::Review),
        (_, TaskEvent::Finished { success: false } | TaskEvent::DispatchFailed, S::Failed) => Some(NotifyKind::Failed),
        (S::Review, TaskEvent::Merged, S::Done) => Some(NotifyKind::Merged),
        _ => None,
    }
}

/// How urgently a message should be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Someone is waiting for you (ntfy 5).
    High,
    /// Something is done (ntfy 3).
    Default,
}

impl Priority {
    /// ntfy's 1-5 scale.
    pub fn ntfy(self) -> u8 {
        match self {
            Priority::High => 5,
            Priority::Default => 3,
        }
    }
}

/// What a notification is about, as known when it was written (the outbox keeps this
/// snapshot, so a message says what was true at the transition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Subject {
    pub task_id: TaskId,
    pub title: String,
    pub repo: Option<String>,
    pub agent: Option<String>,
    /// Why the task moved (a failure's reason, "pull request #4 merged").
    pub reason: Option<String>,
    /// For `needs_input`: the pending ask.
    pub ask: Option<AskSummary>,
}

/// The permission ask a `needs_input` notification is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AskSummary {
    pub approval_id: i64,
    pub tool: String,
    pub command: Option<String>,
    pub path: Option<String>,
}

impl AskSummary {
    /// The exact thing the agent wants to do, as a human should read it before approving.
    pub fn what(&self) -> String {
        match (&self.command, &self.path) {
            (Some(c), _) => c.clone(),
            (None, Some(p)) => format!("{} {p}", self.tool),
            (None, None) => self.tool.clone(),
        }
    }
}

/// A message, channel-neutral: each channel renders it in its own format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub title: String,
    pub body: String,
    pub priority: Priority,
    /// ntfy tags (emoji short codes) and a machine-readable kind for webhooks.
    pub tags: Vec<String>,
    /// The board path a tap opens (`/tasks/7`, or `/` for a digest).
    pub click: String,
    /// The tasks it names, in order.
    pub tasks: Vec<TaskId>,
}

/// The message for one notification.
pub fn message(kind: NotifyKind, s: &Subject) -> Message {
    let id = s.task_id;
    let (title, body, tag) = match kind {
        NotifyKind::NeedsInput => {
            let body = match (&s.ask, &s.reason) {
                (Some(ask), _) => format!("The agent asks to run: {}", ask.what()),
                (None, Some(reason)) => reason.clone(),
                (None, None) => "The agent asks to run: a permission ask".into(),
            };
            (format!("T-{id} needs you: {}", s.title), body, "raising_hand")
        }
        NotifyKind::Review => (format!("T-{id} is ready for review"), s.title.clone(), "white_check_mark"),
        NotifyKind::Failed => {
            let why = s.reason.clone().unwrap_or_else(|| "the run failed".into());
            (format!("T-{id} failed: {}", s.title), why, "x")
        }
        NotifyKind::Merged => {
            let how = s.reason.clone().unwrap_or_else(|| "merged".into());
            (format!("T-{id} merged"), format!("{}: {how}", s.title), "tada")
        }
        NotifyKind::Budget => {
            let what = s.reason.clone().unwrap_or_else(|| "80% of a budget is spent".into());
            (format!("T-{id} is near its budget: {}", s.title), what, "moneybag")
        }
    };
    Message {
        title,
        body,
        priority: kind.priority(),
        tags: vec![tag.into(), kind.as_str().into()],
        click: format!("/tasks/{id}"),
        tasks: vec![id],
    }
}

/// One message for a burst: "12 tasks need attention", one line per task, the highest
/// priority of them, opening the board.
pub fn digest(items: &[(NotifyKind, Subject)]) -> Message {
    if let [(kind, s)] = items {
        return message(*kind, s);
    }
    let priority = if items.iter().any(|(k, _)| k.priority() == Priority::High) { Priority::High } else { Priority::Default };
    let mut counts: Vec<(NotifyKind, usize)> = Vec::new();
    for (k, _) in items {
        match counts.iter_mut().find(|(c, _)| c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((*k, 1)),
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {}", words(*k))).collect();
    let body = items.iter().map(|(k, s)| format!("T-{} {}: {}", s.task_id, words(*k), s.title)).collect::<Vec<_>>().join("\n");
    let mut tags = vec!["bell".to_string(), "digest".to_string()];
    tags.extend(counts.iter().map(|(k, _)| k.as_str().to_string()));
    Message {
        title: format!("{} tasks: {}", items.len(), summary.join(", ")),
        body,
        priority,
        tags,
        click: "/".into(),
        tasks: items.iter().map(|(_, s)| s.task_id).collect(),
    }
}

fn words(kind: NotifyKind) -> &'static str {
    match kind {
        NotifyKind::NeedsInput => "needs input",
        NotifyKind::Review => "ready for review",
        NotifyKind::Failed => "failed",
        NotifyKind::Merged => "merged",
        NotifyKind::Budget => "near a budget",
    }
}

/// Which notifications a channel wants. An empty list means "any".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Filter {
    #[serde(default)]
    pub events: Vec<NotifyKind>,
    /// Repo roots (as tasks store them).
    #[serde(default)]
    pub repos: Vec<String>,
    /// Agent profile names.
    #[serde(default)]
    pub agents: Vec<String>,
}

impl Filter {
    pub fn matches(&self, kind: NotifyKind, s: &Subject) -> bool {
        let any_of = |list: &[String], v: &Option<String>| list.is_empty() || v.as_ref().is_some_and(|v| list.contains(v));
        (self.events.is_empty() || self.events.contains(&kind)) && any_of(&self.repos, &s.repo) && any_of(&self.agents, &s.agent)
    }
}

/// Parses `needs_input,review`: the unknown word is the error.
pub fn parse_kinds(list: &str) -> Result<Vec<NotifyKind>, String> {
    let mut out = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let kind = NotifyKind::parse(word).ok_or_else(|| word.to_string())?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

/// Hours a channel stays silent, `HH:MM-HH:MM` in the daemon's local time (it may wrap
/// past midnight: `22:00-07:00`). What falls inside is held, not dropped, and goes out
/// (as a digest if there are several) when they end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuietHours {
    /// Minutes after midnight.
    pub start: u16,
    pub end: u16,
}

impl QuietHours {
    pub fn parse(s: &str) -> Result<QuietHours, String> {
        let bad = || format!("quiet hours {s:?} are not HH:MM-HH:MM (e.g. 22:00-07:00)");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let minute = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60 && t.trim().len() == 5).then_some(h * 60 + m)
        };
        let (start, end) = (minute(a).ok_or_else(bad)?, minute(b).ok_or_else(bad)?);
        if start == end {
            return Err(format!("quiet hours {s:?} start and end at the same minute"));
        }
        Ok(QuietHours { start, end })
    }

    /// Whether `minute` (after local midnight) is quiet.
    pub fn contains(self, minute: u16) -> bool {
        if self.start < self.end { (self.start..self.end).contains(&minute) } else { minute >= self.start || minute < self.end }
    }

    /// Minutes from `minute` until the quiet hours end (0 outside them).
    pub fn minutes_left(self, minute: u16) -> u16 {
        if !self.contains(minute) {
            return 0;
        }
        (self.end + 24 * 60 - minute) % (24 * 60)
    }
}

impl TryFrom<String> for QuietHours {
    type Error = String;
    fn try_from(s: String) -> Result<QuietHours, String> {
        QuietHours::parse(&s)
    }
}

impl From<QuietHours> for String {
    fn from(q: QuietHours) -> String {
        q.to_string()
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}-{:02}:{:02}", self.start / 60, self.start % 60, self.end / 60, self.end % 60)
    }
}

/// Attempts a delivery gets before it is failed for good.
pub const MAX_ATTEMPTS: u32 = 12;

/// How long to wait before attempt `attempt + 1`, after `attempt` failed ones:
/// 1 s, 2 s, 4 s, ... doubling, at most 10 minutes.
pub fn backoff(attempt: u32) -> Duration {
    let secs = 1i64 << attempt.saturating_sub(1).min(20);
    Duration::seconds(secs.min(600))
}

/// How long a channel stays quiet after a message, gathering what else arrives into
/// one digest; and how long a burst may keep extending that.
pub const BATCH_WINDOW: Duration = Duration::seconds(3);
pub const MAX_HOLD: Duration = Duration::seconds(60);

/// When a channel's queued notifications (the oldest and newest queued at `oldest`
/// and `newest`) may go, after its last message went at `last_sent`: at once if the
/// channel was idle for a `window` when the oldest arrived; otherwise when the burst
/// has paused for a `window` (no newer one), but no later than [`MAX_HOLD`] after the
/// oldest, and never sooner than a `window` after the last message.
pub fn due(last_sent: Option<DateTime<Utc>>, oldest: DateTime<Utc>, newest: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    match last_sent {
        Some(last) if oldest - last < window => (last + window).max((newest + window).min(oldest + MAX_HOLD)),
        _ => oldest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn subject(id: TaskId) -> Subject {
        Subject { task_id: id, title: format!("task {id}"), repo: Some("/r".into()), agent: Some("fake".into()), reason: None, ask: None }
    }

    #[test]
    fn the_four_transitions_notify_and_nothing_else() {
        use TaskStatus as S;
        assert_eq!(on_transition(S::Running, TaskEvent::AwaitingInput, S::NeedsInput), Some(NotifyKind::NeedsInput));
        assert_eq!(on_transition(S::Running, TaskEvent::Finished { success: true }, S::Review), Some(NotifyKind::Review));
        assert_eq!(on_transition(S::NeedsInput, TaskEvent::Finished { success: false }, S::Failed), Some(NotifyKind::Failed));
        assert_eq!(on_transition(S::Queued, TaskEvent::DispatchFailed, S::Failed), Some(NotifyKind::Failed));
        assert_eq!(on_transition(S::Review, TaskEvent::Merged, S::Done), Some(NotifyKind::Merged));
        let mut notifying = 0;
        for from in TaskStatus::ALL {
            for event in [
                TaskEvent::Dispatched,
                TaskEvent::DispatchFailed,
                TaskEvent::Finished { success: true },
                TaskEvent::Finished { success: false },
                TaskEvent::Stopped,
                TaskEvent::Interrupted,
                TaskEvent::AwaitingInput,
                TaskEvent::InputGiven,
                TaskEvent::Merged,
                TaskEvent::Retried,
                TaskEvent::Reopened,
                TaskEvent::Blocked,
                TaskEvent::Unblocked,
                TaskEvent::Discarded,
            ] {
                if let Ok(to) = from.apply(event)
                    && on_transition(from, event, to).is_some()
                {
                    notifying += 1;
                }
            }
        }
        // running|needs_input x finished ok/failed, queued|blocked (by a budget) dispatch
        // failed, ask, merge.
        assert_eq!(notifying, 8);
    }

    #[test]
    fn needs_you_is_urgent_and_done_is_not() {
        let mut s = subject(7);
        s.ask = Some(AskSummary { approval_id: 1, tool: "Bash".into(), command: Some("rm -rf build".into()), path: None });
        let m = message(NotifyKind::NeedsInput, &s);
        assert_eq!(m.priority.ntfy(), 5);
        assert!(m.body.contains("rm -rf build"), "{}", m.body);
        assert_eq!(m.click, "/tasks/7");
        assert_eq!(message(NotifyKind::Review, &s).priority.ntfy(), 3);
    }

    #[test]
    fn a_burst_is_one_digest_naming_every_task() {
        let items: Vec<_> = (1..=30).map(|id| (NotifyKind::Review, subject(id))).collect();
        let d = digest(&items);
        assert_eq!(d.tasks.len(), 30);
        assert!(d.title.starts_with("30 tasks: 30 ready for review"), "{}", d.title);
        assert_eq!(d.body.lines().count(), 30);
        assert_eq!(digest(&items[..1]), message(NotifyKind::Review, &subject(1)));
    }

    #[test]
    fn filters_need_every_listed_dimension() {
        let s = subject(1);
        assert!(Filter::default().matches(NotifyKind::Failed, &s));
        let f = Filter { events: vec![NotifyKind::NeedsInput], ..Default::default() };
        assert!(!f.matches(NotifyKind::Review, &s) && f.matches(NotifyKind::NeedsInput, &s));
        let f = Filter { repos: vec!["/other".into()], ..Default::default() };
        assert!(!f.matches(NotifyKind::Review, &s));
        let f = Filter { agents: vec!["fake".into()], repos: vec!["/r".into()], ..Default::default() };
        assert!(f.matches(NotifyKind::Review, &s));
        assert_eq!(parse_kinds("review, merged,review"), Ok(vec![NotifyKind::Review, NotifyKind::Merged]));
        assert_eq!(parse_kinds("review,mergd"), Err("mergd".into()));
    }

    #[test]
    fn quiet_hours_wrap_past_midnight() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        assert_eq!(q.to_string(), "22:00-07:00");
        assert!(q.contains(23 * 60) && q.contains(0) && q.contains(6 * 60 + 59));
        assert!(!q.contains(7 * 60) && !q.contains(12 * 60));
        assert_eq!(q.minutes_left(23 * 60), 8 * 60);
        assert_eq!(q.minutes_left(12 * 60), 0);
        let day = QuietHours::parse("12:30-13:00").unwrap();
        assert!(day.contains(12 * 60 + 45) && !day.contains(13 * 60));
        for bad in ["22-07", "25:00-07:00", "22:00", "7:00-8:00", "10:00-10:00"] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_message_goes_at_once_and_a_burst_waits_for_a_pause() {
        let t = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let s = Duration::seconds;
        // Idle channel: at once.
        assert_eq!(due(None, t, t, BATCH_WINDOW), t);
        assert_eq!(due(Some(t - s(10)), t, t, BATCH_WINDOW), t);
        // Right after a message: a window after it at least...
        assert_eq!(due(Some(t - s(1)), t, t, BATCH_WINDOW), t + s(3));
        // ...and while the burst goes on, a window after its newest...
        assert_eq!(due(Some(t - s(1)), t, t + s(5), BATCH_WINDOW), t + s(8));
        // ...but never past the longest hold.
        assert_eq!(due(Some(t - s(1)), t, t + s(100), BATCH_WINDOW), t + MAX_HOLD);
    }

    proptest! {
        #[test]
        fn backoff_grows_and_is_bounded(a in 0u32..100) {
            prop_assert!(backoff(a) >= Duration::seconds(1));
            prop_assert!(backoff(a) <= Duration::seconds(600));
            prop_assert!(backoff(a + 1) >= backoff(a));
        }

        #[test]
        fn quiet_minutes_left_lands_on_the_end(start in 0u16..1440, end in 0u16..1440, m in 0u16..1440) {
            prop_assume!(start != end);
            let q = QuietHours { start, end };
            let left = q.minutes_left(m);
            prop_assert_eq!(left == 0, !q.contains(m));
            if left > 0 {
                prop_assert_eq!((m + left) % 1440, end);
            }
        }
    }

    #[test]
    fn a_run_stopped_by_its_budget_notifies_with_the_reason() {
        let kind = on_transition(TaskStatus::Running, TaskEvent::OutOfBudget, TaskStatus::NeedsInput);
        assert_eq!(kind, Some(NotifyKind::NeedsInput));
        let subject = Subject {
            task_id: 3,
            title: "Refactor".into(),
            repo: None,
            agent: None,
            reason: Some("stopped: budget `daily` crossed".into()),
            ask: None,
        };
        let m = message(NotifyKind::NeedsInput, &subject);
        assert_eq!((m.title.as_str(), m.body.as_str()), ("T-3 needs you: Refactor", "stopped: budget `daily` crossed"));
    }
}
