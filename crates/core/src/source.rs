//! Task sources, pure: where tasks come from outside bosun (a Notion database, GitHub
//! issues, Linear issues), what an item of theirs says, what bosun writes back for
//! each task status, and whether a person changed an item while bosun worked on it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::TaskStatus;

/// The service a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Notion,
    Github,
    Linear,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Notion => "notion",
            SourceKind::Github => "github",
            SourceKind::Linear => "linear",
        }
    }

    /// The service's name for people.
    pub fn service(self) -> &'static str {
        match self {
            SourceKind::Notion => "Notion",
            SourceKind::Github => "GitHub",
            SourceKind::Linear => "Linear",
        }
    }

    /// The public API every source of this kind talks to unless told another (`--api`).
    pub fn default_api(self) -> &'static str {
        match self {
            SourceKind::Notion => "https://api.notion.com",
            SourceKind::Github => "https://api.github.com",
            SourceKind::Linear => "https://api.linear.app",
        }
    }
}

/// The names of the states bosun writes back, one per [`Phase`] (a Notion status
/// property's options; Linear's are found by type, GitHub's are labels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PhaseNames {
    pub in_progress: String,
    pub needs_input: String,
    pub review: String,
    pub done: String,
    pub failed: String,
}

impl Default for PhaseNames {
    fn default() -> Self {
        PhaseNames {
            in_progress: "In progress".into(),
            needs_input: "Needs input".into(),
            review: "Review".into(),
            done: "Done".into(),
            failed: "Failed".into(),
        }
    }
}

impl PhaseNames {
    pub fn name(&self, phase: Phase) -> &str {
        match phase {
            Phase::InProgress => &self.in_progress,
            Phase::NeedsInput => &self.needs_input,
            Phase::Review => &self.review,
            Phase::Done => &self.done,
            Phase::Failed => &self.failed,
        }
    }
}

/// A Notion database's settings: which properties say what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotionConfig {
    /// The database's id (dashed).
    pub database: String,
    /// The daemon's environment variable holding the integration token.
    pub token_env: String,
    /// A `status` (or `select`) property: a page whose value is `ready` becomes a task.
    pub status_property: String,
    pub ready: String,
    /// A select property naming the agent profile.
    pub agent_property: Option<String>,
    /// A multi-select property: the task's tags.
    pub tags_property: Option<String>,
    /// A text, select or URL property: the repo path (else the source's repo).
    pub repo_property: Option<String>,
    /// A people property: the task's assignee (its first person's name), which routing
    /// rules map to a profile (`when = { assignee = "Ada Lovelace" }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_property: Option<String>,
    #[serde(default)]
    pub phases: PhaseNames,
}

/// A GitHub repository's issues with a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GithubConfig {
    /// `owner/name` (`github_repo` on the wire: a source's `repo` is the checkout its tasks run in).
    #[serde(rename = "github_repo")]
    pub repo: String,
    pub label: String,
    /// Only issues assigned to this login.
    pub assignee: Option<String>,
    /// The variable holding the token (None: as for `bosun pr`: `GITHUB_TOKEN`, else `gh auth token`).
    pub token_env: Option<String>,
}

/// A Linear team's issues with a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinearConfig {
    /// The team's key (`ENG`).
    pub team: String,
    /// The label that makes an issue a task (None with `delegated`: every issue
    /// delegated to the app user).
    pub label: Option<String>,
    /// Also the issues delegated to the token's own (app) user, labelled or not.
    #[serde(default)]
    pub delegated: bool,
    pub token_env: String,
}

/// What a source watches, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[expect(clippy::large_enum_variant, reason = "a handful of sources, each made once: the size is of no account")]
pub enum SourceConfig {
    Notion(NotionConfig),
    Github(GithubConfig),
    Linear(LinearConfig),
}

impl SourceConfig {
    pub fn kind(&self) -> SourceKind {
        match self {
            SourceConfig::Notion(_) => SourceKind::Notion,
            SourceConfig::Github(_) => SourceKind::Github,
            SourceConfig::Linear(_) => SourceKind::Linear,
        }
    }

    /// What it watches, in a few words.
    pub fn watching(&self) -> String {
        match self {
            SourceConfig::Notion(n) => format!("database {} where {} is {:?}", n.database, n.status_property, n.ready),
            SourceConfig::Github(g) => match &g.assignee {
                Some(who) => format!("{} issues labelled {:?} assigned to {who}", g.repo, g.label),
                None => format!("{} issues labelled {:?}", g.repo, g.label),
            },
            SourceConfig::Linear(l) => match (&l.label, l.delegated) {
                (Some(label), false) => format!("team {} issues labelled {label:?}", l.team),
                (Some(label), true) => format!("team {} issues labelled {label:?} or delegated to bosun", l.team),
                (None, _) => format!("team {} issues delegated to bosun", l.team),
            },
        }
    }
}

/// A source as stored, with how its syncs went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Source {
    pub id: i64,
    #[serde(flatten)]
    pub config: SourceConfig,
    /// The repo its tasks run in when an item names none (None: scratch tasks).
    pub repo: Option<String>,
    /// Seconds between polls.
    pub interval_secs: u64,
    /// The API base when not the service's public one.
    pub api: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The last sync's failure, if it failed (cleared by the next good one).
    pub last_error: Option<String>,
    /// Items read, and tasks made from them, since the source was added.
    pub seen: i64,
    pub created: i64,
    /// How the service tells bosun of a change at once (None: polling alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
}

/// A source's webhook: `POST <public URL>/hooks/sources/<id>`, signed by the service
/// (Notion `X-Notion-Signature`, GitHub `X-Hub-Signature-256`, Linear
/// `Linear-Signature`); each verified delivery is "read these items again now".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    /// Where the service delivers (the daemon's public URL and [`webhook_path`]).
    #[serde(default)]
    pub url: String,
    /// The daemon's environment variable holding the signing secret. None (Notion
    /// only): the verification token Notion sends when the subscription is made is the
    /// secret, kept by bosun.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Without `secret_env`: whether Notion's verification token has come.
    #[serde(default)]
    pub token_received: bool,
    /// The last delivery whose signature held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_at: Option<DateTime<Utc>>,
}

/// The path a source's webhook is delivered to.
pub fn webhook_path(source_id: i64) -> String {
    format!("{WEBHOOK_PREFIX}{source_id}")
}

/// Outside `/api/`: a webhook carries its own credential, the service's signature.
pub const WEBHOOK_PREFIX: &str = "/hooks/sources/";

impl Source {
    pub fn kind(&self) -> SourceKind {
        self.config.kind()
    }

    pub fn api_base(&self) -> &str {
        self.api.as_deref().unwrap_or(self.kind().default_api()).trim_end_matches('/')
    }
}

pub const DEFAULT_INTERVAL_SECS: u64 = 30;
/// Polling faster than this spends the service's rate limit for nothing.
pub const MIN_INTERVAL_SECS: u64 = 2;

/// The item a task was made of, for people: where to open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Origin {
    pub source_id: i64,
    pub kind: SourceKind,
    /// `#12`, `ENG-7`, a page's title.
    pub reference: String,
    pub url: String,
}

/// Where an item stands in its service, as far as bosun cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemState {
    /// Asks for a task (Notion: status is the ready value; GitHub: open with the label;
    /// Linear: the label, not started).
    Ready,
    /// Any other state, by its name in the service.
    Other(String),
    /// Deleted, archived, in the trash, or closed by a person.
    Gone(String),
}

/// One item of a source, as bosun reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The service's id for it (Notion page id, GitHub issue number, Linear issue id).
    pub external_id: String,
    /// When it was last edited (by anyone): the version compared before writing.
    pub edited_at: DateTime<Utc>,
    pub title: String,
    /// The body as Markdown.
    pub body: String,
    pub tags: Vec<String>,
    pub agent: Option<String>,
    /// Who it is assigned to in the service (routing rules can match it).
    pub assignee: Option<String>,
    pub repo: Option<String>,
    /// Where a person opens it.
    pub url: String,
    pub state: ItemState,
    /// A short reference for people (`#12`, `ENG-7`, the page title).
    pub reference: String,
}

/// What bosun writes back for a task status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    InProgress,
    NeedsInput,
    Review,
    Done,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::InProgress => "in_progress",
            Phase::NeedsInput => "needs_input",
            Phase::Review => "review",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        [Phase::InProgress, Phase::NeedsInput, Phase::Review, Phase::Done, Phase::Failed].into_iter().find(|p| p.as_str() == s)
    }

    /// The phase a task in `status` shows in its source. None: nothing is written (a
    /// task stopped by a person, or cut off by a crash, keeps what the item says; a
    /// discarded one too).
    pub fn of(status: TaskStatus) -> Option<Phase> {
        match status {
            TaskStatus::Queued | TaskStatus::Running | TaskStatus::Blocked => Some(Phase::InProgress),
            // Triage waits for a person to pick the agent: input is needed.
            TaskStatus::NeedsInput | TaskStatus::Triage => Some(Phase::NeedsInput),
            TaskStatus::Review => Some(Phase::Review),
            TaskStatus::Done => Some(Phase::Done),
            TaskStatus::Failed => Some(Phase::Failed),
            TaskStatus::Stopped | TaskStatus::Interrupted | TaskStatus::Discarded => None,
        }
    }
}

/// What bosun last wrote to an item (or read, when it claimed it).
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The item's state in the service's words after bosun's write.
    pub state: String,
    /// The item's last-edited time that write left (or bosun read).
    pub at: DateTime<Utc>,
}

/// Whether a person changed the item since bosun last wrote it: its state is no longer
/// what bosun wrote, and it was edited since (not before: a read older than bosun's
/// write). Then bosun must not write over it, and stops the task's run. Edit times
/// can be coarse (Notion's are to the minute), so an edit in the same instant counts.
pub fn moved_by_person(item: &Item, written: &Written) -> Option<String> {
    match &item.state {
        ItemState::Gone(why) => Some(why.clone()),
        ItemState::Other(now) if *now != written.state && item.edited_at >= written.at => Some(format!("moved to {now:?}")),
        ItemState::Ready if item.edited_at >= written.at && written.state != READY_MARK => Some("set back to ready".into()),
        _ => None,
    }
}

/// The state recorded when bosun claims a ready item, before its first write.
pub const READY_MARK: &str = "(ready)";

/// A comment on an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: String,
    pub author: String,
    /// Whether bosun wrote it (its own integration, app or token user).
    pub by_bosun: bool,
    pub created_at: DateTime<Utc>,
    pub text: String,
}

/// A Notion database or page id from what a user pastes: the id with or without
/// dashes, or a notion.so URL ending in it (`.../Tasks-1f2e...?v=...`). Dashed.
pub fn notion_id(input: &str) -> Result<String, String> {
    let path = input.split(['?', '#']).next().unwrap_or(input);
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or(path);
    let hex: String = last.chars().filter(|c| *c != '-').collect();
    let tail = if hex.len() >= 32 { &hex[hex.len() - 32..] } else { hex.as_str() };
    if tail.len() != 32 || !tail.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{input:?} is not a Notion database id or URL (it ends in 32 hexadecimal digits)"));
    }
    let t = tail.to_ascii_lowercase();
    Ok(format!("{}-{}-{}-{}-{}", &t[0..8], &t[8..12], &t[12..16], &t[16..20], &t[20..32]))
}

/// The comment bosun leaves when a run ends: the agent's summary, the diff stat and the cost.
pub fn summary_comment(
    task_ref: &str,
    phase: Phase,
    summary: Option<&str>,
    diffstat: Option<&str>,
    cost: Option<f64>,
    link: Option<&str>,
) -> String {
    let mut out = match phase {
        Phase::Review => format!("bosun {task_ref} is ready for review."),
        Phase::Done => format!("bosun {task_ref} is done."),
        Phase::Failed => format!("bosun {task_ref} failed."),
        Phase::NeedsInput => format!("bosun {task_ref} needs an answer."),
        Phase::InProgress => format!("bosun {task_ref} is working on this."),
    };
    if let Some(link) = link {
        out.push_str(&format!(" {link}"));
    }
    if let Some(s) = summary.map(str::trim).filter(|s| !s.is_empty()) {
        out.push_str("\n\n");
        out.push_str(s);
    }
    if let Some(d) = diffstat.filter(|d| !d.is_empty()) {
        out.push_str(&format!("\n\nChanges: {d}"));
    }
    if let Some(c) = cost {
        out.push_str(&format!("\n\nCost: ${c:.2}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(state: ItemState, edited: i64) -> Item {
        Item {
            external_id: "p".into(),
            edited_at: DateTime::from_timestamp(edited, 0).unwrap(),
            title: "t".into(),
            body: String::new(),
            tags: vec![],
            agent: None,
            assignee: None,
            repo: None,
            url: String::new(),
            state,
            reference: "t".into(),
        }
    }

    #[test]
    fn notion_ids_come_from_urls_and_bare_ids() {
        let want = "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718";
        for input in [
            "1f2e3d4c5b6a7980a1b2c3d4e5f60718",
            want,
            "https://www.notion.so/acme/Tasks-1f2e3d4c5b6a7980a1b2c3d4e5f60718?v=0123",
            "https://notion.so/1F2E3D4C5B6A7980A1B2C3D4E5F60718/",
        ] {
            assert_eq!(notion_id(input).as_deref(), Ok(want), "{input}");
        }
        assert!(notion_id("https://notion.so/Tasks").unwrap_err().contains("32 hexadecimal digits"));
        assert!(notion_id("zz2e3d4c5b6a7980a1b2c3d4e5f60718").is_err());
    }

    #[test]
    fn a_person_moving_the_item_is_told_from_bosun_moving_it() {
        let written = Written { state: "In progress".into(), at: DateTime::from_timestamp(100, 0).unwrap() };
        // Still what bosun wrote: not moved, whenever edited (a person edited the text).
        assert_eq!(moved_by_person(&item(ItemState::Other("In progress".into()), 200), &written), None);
        // Another state, edited after bosun's write: a person moved it.
        assert_eq!(
            moved_by_person(&item(ItemState::Other("Not started".into()), 200), &written).as_deref(),
            Some("moved to \"Not started\"")
        );
        // Another state, last edited before bosun's write: a read older than the write.
        assert_eq!(moved_by_person(&item(ItemState::Other("Ready".into()), 90), &written), None);
        assert!(moved_by_person(&item(ItemState::Gone("deleted".into()), 50), &written).is_some());
        // Set back to ready after bosun claimed it and moved it on.
        assert!(moved_by_person(&item(ItemState::Ready, 200), &written).is_some());
        let claimed = Written { state: READY_MARK.into(), at: DateTime::from_timestamp(100, 0).unwrap() };
        assert_eq!(moved_by_person(&item(ItemState::Ready, 200), &claimed), None);
        // Edit times to the minute: a move in the minute of bosun's write still counts.
        assert!(moved_by_person(&item(ItemState::Other("Not started".into()), 100), &written).is_some());
    }

    #[test]
    fn phases_follow_the_task() {
        assert_eq!(Phase::of(TaskStatus::Running), Some(Phase::InProgress));
        assert_eq!(Phase::of(TaskStatus::NeedsInput), Some(Phase::NeedsInput));
        assert_eq!(Phase::of(TaskStatus::Review), Some(Phase::Review));
        assert_eq!(Phase::of(TaskStatus::Done), Some(Phase::Done));
        assert_eq!(Phase::of(TaskStatus::Stopped), None, "a stopped task keeps what a person set");
        for p in [Phase::InProgress, Phase::NeedsInput, Phase::Review, Phase::Done, Phase::Failed] {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn the_summary_comment_says_what_happened() {
        let c = summary_comment(
            "T-4",
            Phase::Review,
            Some("Added the greeting."),
            Some("1 file, +3 −0"),
            Some(0.0412),
            Some("http://x/tasks/4"),
        );
        assert!(c.starts_with("bosun T-4 is ready for review. http://x/tasks/4"));
        assert!(c.contains("Added the greeting."));
        assert!(c.contains("Changes: 1 file, +3 −0"));
        assert!(c.contains("Cost: $0.04"));
    }
}
