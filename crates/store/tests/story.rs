//! The store's story, told against `dyn Store` so that every backend runs the same
//! one: tasks, runs, events, approvals, messages, crash recovery, and what several
//! writers at once need (store-assigned seqs, compare-and-set). Each story runs here
//! on SQLite files, bare and behind the daemon's `CachedStore`; a second backend adds
//! one module in `backends`.

use std::sync::Arc;

use bosun_core::schedule::{Wait, Waiting};
use bosun_core::{EventKind, NewApproval, NewEvent, NewTask, RunStatus, Source, TaskEvent, TaskStatus};
use bosun_store::{
    ApprovalStatus, CachedStore, NewRule, RuleFilter, RunEnd, SqliteStore, Store, StoreError, TaskEdit, TaskFilter, TaskRecord,
};
use chrono::Utc;

fn record(title: &str, tags: &[&str], priority: i64) -> TaskRecord {
    TaskRecord {
        new: NewTask { title: title.into(), tags: tags.iter().map(|t| t.to_string()).collect(), priority, ..Default::default() },
        repo: Some("/r".into()),
        base: Some("main".into()),
    }
}

fn event(task_id: i64, run_id: i64, kind: EventKind) -> NewEvent {
    NewEvent { task_id, run_id, ts: Utc::now(), source: Source::Agent, kind, charge: None }
}

fn say(text: &str) -> EventKind {
    EventKind::Message { text: text.into(), role: None, from: None }
}

fn finished(success: bool) -> RunEnd {
    let status = if success { RunStatus::Succeeded } else { RunStatus::Failed };
    RunEnd {
        status,
        exit_code: Some(if success { 0 } else { 3 }),
        reason: (!success).then(|| "boom".into()),
        task_event: TaskEvent::Finished { success },
    }
}

/// A fresh store on a file of its own (kept alive by the returned dir).
async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bosun.db")).await.unwrap();
    (Arc::new(store), dir)
}

/// The same, behind the cache the daemon uses.
async fn cached_sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bosun.db")).await.unwrap();
    (Arc::new(CachedStore::new(store)), dir)
}

/// Runs a story on every backend.
macro_rules! backends {
    ($($story:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let (store, _dir) = super::sqlite().await;
                    super::$story(store).await;
                }
            )*
        }
        mod on_cached_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let (store, _dir) = super::cached_sqlite().await;
                    super::$story(store).await;
                }
            )*
        }
    };
}

backends!(
    tasks_runs_and_events,
    listing_filters_and_dispatch_order,
    transitions_go_through_the_state_machine,
    two_writers_racing_on_one_task_one_wins,
    concurrent_appends_number_each_task_without_gaps,
    approvals_are_answered_once,
    messages_are_delivered_once,
    crash_recovery_interrupts_this_nodes_live_runs_only,
    events_say_who_produced_them,
    cached_listing_matches_the_database_after_every_write,
    a_queued_task_says_what_it_waits_for_until_it_moves,
    a_reply_continues_the_session_and_a_retry_starts_over,
    only_final_tasks_are_archived_and_lists_leave_them_out,
    notifications_are_written_with_their_transition,
    a_second_ask_while_waiting_is_notified,
    a_queued_task_is_edited_only_while_queued,
    a_task_blocked_by_a_budget_says_which_and_is_still_dispatched,
);

async fn tasks_runs_and_events(store: Arc<dyn Store>) {
    let t = store.create_task(record("First", &["a"], 0), Utc::now()).await.unwrap();
    assert_eq!((t.id, t.status, t.title.as_str()), (1, TaskStatus::Queued, "First"));
    let (task, run) = store.start_run(t.id, "echoer", "tok-1", "local", Utc::now()).await.unwrap();
    assert_eq!((task.status, run.status), (TaskStatus::Running, RunStatus::Starting));
    assert_eq!(task.agent.as_deref(), Some("echoer"), "the run's agent is the task's, from the same start");
    // A second start of the same task is refused: it is no longer queued.
    assert!(matches!(
        store.start_run(t.id, "echoer", "tok-2", "local", Utc::now()).await,
        Err(StoreError::StatusChanged { expected: TaskStatus::Queued, actual: TaskStatus::Running, .. })
    ));
    store.set_run_pid(run.id, 4242).await.unwrap();
    let stored = store
        .append_events(
            &[
                event(t.id, run.id, say("hi")),
                event(t.id, run.id, EventKind::Usage { input_tokens: 10, output_tokens: 2, cached_tokens: 1, cost_usd: Some(0.5) }),
                event(t.id, run.id, EventKind::Usage { input_tokens: 5, output_tokens: 1, cached_tokens: 0, cost_usd: None }),
            ],
            &[(run.id, 3)],
        )
        .await
        .unwrap();
    assert_eq!(stored, vec![1, 2, 3], "the store numbers events");
    assert_eq!(store.output_seen(run.id).await.unwrap(), 3, "the output lines taken in, with their events");
    store.append_events(&[], &[(run.id, 2)]).await.unwrap();
    assert_eq!(store.output_seen(run.id).await.unwrap(), 3, "never goes back");
    let task = store.finish_run(run.id, finished(true), Utc::now()).await.unwrap();
    assert_eq!(task.status, TaskStatus::Review);
    // A run ends once.
    assert!(matches!(store.finish_run(run.id, finished(false), Utc::now()).await, Err(StoreError::RunNotFound(_))));
    let task = store.get_task(1).await.unwrap();
    let run = &task.runs[0];
    assert_eq!((run.status, run.pid, run.exit_code), (RunStatus::Succeeded, Some(4242), Some(0)));
    assert_eq!((run.usage.input_tokens, run.usage.output_tokens, run.usage.cached_tokens), (15, 3, 1));
    assert_eq!(run.usage.cost_usd, Some(0.5));
    let evs = store.events(1, 1, 100).await.unwrap();
    assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(store.last_seq(1).await.unwrap(), 3);
    assert!(matches!(store.get_task(99).await, Err(StoreError::TaskNotFound(99))));
}

async fn listing_filters_and_dispatch_order(store: Arc<dyn Store>) {
    store.create_task(record("low", &["docs"], 0), Utc::now()).await.unwrap();
    store.create_task(record("high", &["backend"], 5), Utc::now()).await.unwrap();
    store.create_task(record("low too", &["backend", "docs"], 0), Utc::now()).await.unwrap();
    let queued: Vec<i64> = store.queued_tasks().await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(queued, vec![2, 1, 3]);
    let by_tag = store.list_tasks(&TaskFilter { tag: Some("docs".into()), ..Default::default() }).await.unwrap();
    assert_eq!(by_tag.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1, 3]);
    store.transition_task(2, TaskStatus::Queued, TaskEvent::Stopped, Some("user"), Utc::now()).await.unwrap();
    let stopped = store.list_tasks(&TaskFilter { statuses: vec![TaskStatus::Stopped], ..Default::default() }).await.unwrap();
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].status_reason.as_deref(), Some("user"));
    let page = store.list_tasks(&TaskFilter { after_id: Some(1), limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(page.iter().map(|t| t.id).collect::<Vec<_>>(), vec![2]);
    // The cached JSON listing equals a fresh read.
    for f in [TaskFilter::default(), TaskFilter { statuses: vec![TaskStatus::Stopped], ..Default::default() }] {
        let fresh = serde_json::to_string(&store.list_tasks(&f).await.unwrap()).unwrap();
        assert_eq!(store.list_tasks_json(&f).await.unwrap(), fresh);
    }
}

async fn transitions_go_through_the_state_machine(store: Arc<dyn Store>) {
    store.create_task(record("a", &[], 0), Utc::now()).await.unwrap();
    // Compare-and-set: moving from a status the task is not in fails and says why.
    let err = store.transition_task(1, TaskStatus::Review, TaskEvent::Merged, None, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "task 1 is queued, not review");
    // The state machine refuses what it does not allow, even when `from` is right.
    let err = store.transition_task(1, TaskStatus::Queued, TaskEvent::Merged, None, Utc::now()).await.unwrap_err();
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    assert_eq!(store.get_task(1).await.unwrap().status, TaskStatus::Queued, "nothing moved");
    // Waiting for input and back, for the run and its task together.
    let (_, run) = store.start_run(1, "x", "tok", "local", Utc::now()).await.unwrap();
    store.set_run_pid(run.id, 1).await.unwrap();
    let t = store.set_waiting(run.id, true, Utc::now()).await.unwrap();
    assert_eq!((t.status, t.runs[0].status), (TaskStatus::NeedsInput, RunStatus::NeedsInput));
    assert!(store.set_waiting(run.id, true, Utc::now()).await.is_err(), "already waiting");
    let t = store.set_waiting(run.id, false, Utc::now()).await.unwrap();
    assert_eq!((t.status, t.runs[0].status), (TaskStatus::Running, RunStatus::Running));
    // A reply reopens a reviewed task with its message, in one write.
    store.finish_run(run.id, finished(true), Utc::now()).await.unwrap();
    let t = store.reopen_with_message(1, TaskStatus::Review, "also the logout path", Utc::now()).await.unwrap();
    assert_eq!(t.status, TaskStatus::Queued);
    let inbox = store.undelivered_messages(1).await.unwrap();
    assert_eq!(inbox.iter().map(|m| (m.text.as_str(), m.resolve)).collect::<Vec<_>>(), [("also the logout path", false)]);
    // A reply to a task not in review leaves no message behind.
    assert!(store.reopen_with_message(1, TaskStatus::Review, "again", Utc::now()).await.is_err());
    assert_eq!(store.undelivered_messages(1).await.unwrap().len(), 1);
    // A reply asking to resolve conflicts says so with its message.
    store.create_task(record("b", &[], 0), Utc::now()).await.unwrap();
    let (_, run) = store.start_run(2, "x", "tok2", "local", Utc::now()).await.unwrap();
    store.finish_run(run.id, finished(true), Utc::now()).await.unwrap();
    store.reopen_to_resolve(2, TaskStatus::Review, "fix the conflicts", Utc::now()).await.unwrap();
    let inbox = store.undelivered_messages(2).await.unwrap();
    assert_eq!(inbox.iter().map(|m| (m.text.as_str(), m.resolve)).collect::<Vec<_>>(), [("fix the conflicts", true)]);
}

async fn two_writers_racing_on_one_task_one_wins(store: Arc<dyn Store>) {
    for round in 0..20 {
        let id = store.create_task(record(&format!("race {round}"), &[], 0), Utc::now()).await.unwrap().id;
        let (a, b) = (store.clone(), store.clone());
        let start = tokio::spawn(async move { a.start_run(id, "x", "tok-a", "node-a", Utc::now()).await.map(|_| "start") });
        let stop = tokio::spawn(async move {
            b.transition_task(id, TaskStatus::Queued, TaskEvent::Stopped, Some("user"), Utc::now()).await.map(|_| "stop")
        });
        let results = [start.await.unwrap(), stop.await.unwrap()];
        let won: Vec<&str> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
        assert_eq!(won.len(), 1, "round {round}: exactly one writer wins: {results:?}");
        for r in &results {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::StatusChanged { .. }), "round {round}: the loser is told the task moved: {e}");
            }
        }
        let task = store.get_task(id).await.unwrap();
        let expected = if won[0] == "start" { TaskStatus::Running } else { TaskStatus::Stopped };
        assert_eq!(task.status, expected);
        assert_eq!(task.runs.len(), usize::from(won[0] == "start"), "a run exists only if the start won");
    }
}

async fn concurrent_appends_number_each_task_without_gaps(store: Arc<dyn Store>) {
    let mut runs = Vec::new();
    for title in ["one", "two"] {
        let t = store.create_task(record(title, &[], 0), Utc::now()).await.unwrap();
        runs.push((t.id, store.start_run(t.id, "x", title, "local", Utc::now()).await.unwrap().1.id));
    }
    // Four writers: two per task, each appending batches that mix both tasks.
    let mut writers = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        let runs = runs.clone();
        writers.push(tokio::spawn(async move {
            for batch in 0..25 {
                let events: Vec<NewEvent> =
                    (0..8).map(|i| event(runs[(w + i) % 2].0, runs[(w + i) % 2].1, say(&format!("w{w} b{batch} e{i}")))).collect();
                store.append_events(&events, &[]).await.unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    for (task, _) in runs {
        let evs = store.events(task, 0, 10_000).await.unwrap();
        assert_eq!(evs.len(), 400, "every event of task {task} is stored");
        assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=400).collect::<Vec<_>>(), "seqs 1..=400, no gaps");
    }
}

async fn approvals_are_answered_once(store: Arc<dyn Store>) {
    let t = store.create_task(record("ask", &[], 0), Utc::now()).await.unwrap();
    let (_, run) = store.start_run(t.id, "careful", "tok", "local", Utc::now()).await.unwrap();
    let ask = |request: &str| NewApproval {
        task_id: t.id,
        run_id: run.id,
        request_id: request.into(),
        tool: "Bash".into(),
        kind: None,
        command: Some("cargo test".into()),
        path: None,
        input: None,
    };
    let a = store.add_approval(ask("r1"), Utc::now()).await.unwrap();
    assert_eq!(a.status, ApprovalStatus::Pending);
    let rule = NewRule { profile: "careful", repo: Some("/r"), pattern: "Bash(cargo test)" };
    let answered = store.answer_approval(a.id, true, "user", None, Some(rule), Utc::now()).await.unwrap();
    assert_eq!((answered.status, answered.answered_by.as_deref()), (ApprovalStatus::Allowed, Some("user")));
    assert_eq!(store.allow_rules("careful", Some("/r")).await.unwrap(), ["Bash(cargo test)"], "the rule came with the answer");
    assert!(store.allow_rules("careful", Some("/elsewhere")).await.unwrap().is_empty(), "and holds in its repo only");
    assert!(store.allow_rules("other", Some("/r")).await.unwrap().is_empty(), "for its profile only");
    // Listed with the answer it came from, and revoked by its id.
    let saved = store.saved_rules(&RuleFilter { profile: Some("careful".into()), repo: None }).await.unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!((saved[0].repo.as_deref(), saved[0].pattern.as_str()), (Some("/r"), "Bash(cargo test)"));
    assert_eq!(saved[0].approval.as_ref().map(|a| (a.id, a.answered_by.as_deref())), Some((a.id, Some("user"))));
    assert!(store.saved_rules(&RuleFilter { profile: None, repo: Some("/elsewhere".into()) }).await.unwrap().is_empty());
    assert_eq!(store.delete_rule(saved[0].id).await.unwrap(), saved[0]);
    assert!(store.allow_rules("careful", Some("/r")).await.unwrap().is_empty(), "a revoked rule no longer holds");
    assert!(matches!(store.delete_rule(saved[0].id).await, Err(StoreError::RuleNotFound(_))));
    let again = store.answer_approval(a.id, false, "user", Some("no"), None, Utc::now()).await.unwrap_err();
    assert!(matches!(again, StoreError::AlreadyAnswered { status: ApprovalStatus::Allowed, .. }), "{again}");
    assert!(matches!(store.answer_approval(999, true, "user", None, None, Utc::now()).await, Err(StoreError::ApprovalNotFound(999))));
    // A run's end expires what is still pending.
    let b = store.add_approval(ask("r2"), Utc::now()).await.unwrap();
    store.expire_approvals(run.id, Utc::now()).await.unwrap();
    let err = store.answer_approval(b.id, true, "user", None, None, Utc::now()).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyAnswered { status: ApprovalStatus::Expired, .. }), "{err}");
    assert!(store.approvals(Some(t.id), true).await.unwrap().is_empty());
}

async fn messages_are_delivered_once(store: Arc<dyn Store>) {
    let t = store.create_task(record("talk", &[], 0), Utc::now()).await.unwrap();
    store.queue_message(t.id, "first", Utc::now()).await.unwrap();
    store.queue_message(t.id, "second", Utc::now()).await.unwrap();
    // Reading does not consume: a start that fails leaves them for the retry.
    let inbox = store.undelivered_messages(t.id).await.unwrap();
    assert_eq!(store.undelivered_messages(t.id).await.unwrap(), inbox);
    store.queue_message(t.id, "third, after the start read the inbox", Utc::now()).await.unwrap();
    store.mark_delivered(t.id, inbox.last().unwrap().id, Utc::now()).await.unwrap();
    let left: Vec<String> = store.undelivered_messages(t.id).await.unwrap().into_iter().map(|m| m.text).collect();
    assert_eq!(left, ["third, after the start read the inbox"], "only what the agent got is marked");
    // The agent's start records its pid and hands it every message, in one step.
    let (_, run) = store.start_run(t.id, "x", "tok", "here", Utc::now()).await.unwrap();
    store.agent_started(run.id, 4343, Utc::now()).await.unwrap();
    assert!(store.undelivered_messages(t.id).await.unwrap().is_empty());
    let run = store.get_task(t.id).await.unwrap().runs.pop().unwrap();
    assert_eq!((run.pid, run.status), (Some(4343), bosun_core::RunStatus::Running));
    // Only a starting run gets a pid.
    assert!(matches!(store.agent_started(run.id, 1, Utc::now()).await, Err(StoreError::RunNotFound(_))));
}

async fn crash_recovery_interrupts_this_nodes_live_runs_only(store: Arc<dyn Store>) {
    for title in ["a", "b", "c", "d", "e"] {
        store.create_task(record(title, &[], 0), Utc::now()).await.unwrap();
    }
    let (_, r1) = store.start_run(1, "x", "tok-a", "here", Utc::now()).await.unwrap();
    store.set_run_pid(r1.id, 100).await.unwrap();
    let (_, r2) = store.start_run(2, "x", "tok-b", "here", Utc::now()).await.unwrap();
    store.finish_run(r2.id, finished(false), Utc::now()).await.unwrap();
    let (_, r4) = store.start_run(4, "x", "tok-d", "elsewhere", Utc::now()).await.unwrap();
    // Its agent's holder answered: the new daemon takes it back.
    let (_, r5) = store.start_run(5, "x", "tok-e", "here", Utc::now()).await.unwrap();
    let live: Vec<(i64, &str)> = vec![(r1.id, "here"), (r4.id, "elsewhere"), (r5.id, "here")];
    let listed = store.live_runs().await.unwrap();
    assert_eq!(listed.iter().map(|r| (r.run_id, r.node.as_str())).collect::<Vec<_>>(), live, "what the profile limits count");

    let orphans = store.interrupt_live_runs("here", &[r5.id], Utc::now()).await.unwrap();
    assert_eq!(orphans.iter().map(|o| (o.run.id, o.token.as_str())).collect::<Vec<_>>(), [(r1.id, "tok-a")]);
    let t1 = store.get_task(1).await.unwrap();
    assert_eq!((t1.status, t1.runs[0].status), (TaskStatus::Interrupted, RunStatus::Interrupted));
    assert_eq!(store.get_task(2).await.unwrap().status, TaskStatus::Failed);
    assert_eq!(store.get_task(3).await.unwrap().status, TaskStatus::Queued);
    let t4 = store.get_task(4).await.unwrap();
    assert_eq!((t4.status, t4.runs[0].status), (TaskStatus::Running, RunStatus::Starting), "another node's run is its own");
    let t5 = store.get_task(5).await.unwrap();
    assert_eq!((t5.status, t5.runs[0].status), (TaskStatus::Running, RunStatus::Starting), "a kept run stays live");
    assert!(store.interrupt_live_runs("here", &[r5.id], Utc::now()).await.unwrap().is_empty(), "idempotent");
    assert_eq!(store.live_runs().await.unwrap().iter().map(|r| r.run_id).collect::<Vec<_>>(), [r4.id, r5.id]);
}

async fn events_say_who_produced_them(store: Arc<dyn Store>) {
    let t = store.create_task(record("who", &[], 0), Utc::now()).await.unwrap();
    let sources = [Source::Agent, Source::Bosun, Source::Human("alice".into())];
    let events: Vec<NewEvent> = sources.iter().map(|s| NewEvent { source: s.clone(), ..event(t.id, 0, say("x")) }).collect();
    store.append_events(&events, &[]).await.unwrap();
    let stored: Vec<Source> = store.events(t.id, 0, 10).await.unwrap().into_iter().map(|e| e.source).collect();
    assert_eq!(stored, sources);
    let json = serde_json::to_value(&store.events(t.id, 2, 1).await.unwrap()[0]).unwrap();
    assert_eq!(json["source"], "human:alice");
}

/// The (cached) JSON listing always equals a fresh read, whatever was written since.
async fn cached_listing_matches_the_database_after_every_write(store: Arc<dyn Store>) {
    let filters = [
        TaskFilter::default(),
        TaskFilter { statuses: vec![TaskStatus::Running, TaskStatus::Review], ..Default::default() },
        TaskFilter { tag: Some("b".into()), ..Default::default() },
        TaskFilter { after_id: Some(1), limit: Some(2), ..Default::default() },
        TaskFilter { archived: Some(false), ..Default::default() },
        TaskFilter { archived: Some(true), ..Default::default() },
    ];
    let check = |label: &'static str| {
        let store = store.clone();
        let filters = filters.clone();
        async move {
            for f in &filters {
                let cached = store.list_tasks_json(f).await.unwrap();
                let fresh = serde_json::to_string(&store.list_tasks(f).await.unwrap()).unwrap();
                assert_eq!(cached, fresh, "after {label}, filter {f:?}");
            }
        }
    };
    check("nothing").await;
    for (i, tags) in [&["a"][..], &["b"], &["a", "b"]].iter().enumerate() {
        store.create_task(record(&format!("t{i}"), tags, 0), Utc::now()).await.unwrap();
    }
    check("creating").await;
    let (_, run) = store.start_run(2, "x", "tok", "local", Utc::now()).await.unwrap();
    check("start_run").await;
    store.set_run_pid(run.id, 77).await.unwrap();
    check("set_run_pid").await;
    let usage = EventKind::Usage { input_tokens: 5, output_tokens: 1, cached_tokens: 0, cost_usd: Some(0.1) };
    store.append_events(&[event(2, run.id, usage)], &[]).await.unwrap();
    check("usage").await;
    store.set_waiting(run.id, true, Utc::now()).await.unwrap();
    check("set_waiting").await;
    store.set_task_workspace(3, Some("bosun/3-t2"), "/w/3", Utc::now()).await.unwrap();
    store.set_task_agent(3, "y", Utc::now()).await.unwrap();
    check("workspace and agent").await;
    store.finish_run(run.id, finished(true), Utc::now()).await.unwrap();
    check("finish_run").await;
    store.add_deps(3, &[1], Utc::now()).await.unwrap();
    check("add_deps").await;
    let pr = bosun_core::PullRequest { number: 4, url: "u".into(), state: bosun_core::PrState::Open, draft: false };
    store.set_pr(2, &pr, Utc::now()).await.unwrap();
    check("set_pr").await;
    store.reopen_with_message(2, TaskStatus::Review, "more", Utc::now()).await.unwrap();
    check("reopen_with_message").await;
    store.start_run(1, "x", "tok2", "local", Utc::now()).await.unwrap();
    store.interrupt_live_runs("local", &[], Utc::now()).await.unwrap();
    check("interrupt_live_runs").await;
    store.transition_task(1, TaskStatus::Interrupted, TaskEvent::Discarded, None, Utc::now()).await.unwrap();
    store.archive_tasks(&[1], Utc::now()).await.unwrap();
    check("archive_tasks").await;
}

async fn only_final_tasks_are_archived_and_lists_leave_them_out(store: Arc<dyn Store>) {
    for title in ["merged", "discarded", "queued"] {
        store.create_task(record(title, &[], 0), Utc::now()).await.unwrap();
    }
    let (_, run) = store.start_run(1, "x", "tok", "local", Utc::now()).await.unwrap();
    store.finish_run(run.id, finished(true), Utc::now()).await.unwrap();
    store.transition_task(1, TaskStatus::Review, TaskEvent::Merged, None, Utc::now()).await.unwrap();
    store.transition_task(2, TaskStatus::Queued, TaskEvent::Discarded, Some("not needed"), Utc::now()).await.unwrap();
    // The queued one is not final: left alone. Archiving twice archives once.
    assert_eq!(store.archive_tasks(&[1, 2, 3], Utc::now()).await.unwrap(), vec![1, 2]);
    assert_eq!(store.archive_tasks(&[1, 2, 3], Utc::now()).await.unwrap(), Vec::<i64>::new());
    let ids = |f: TaskFilter| {
        let store = store.clone();
        async move { store.list_tasks(&f).await.unwrap().iter().map(|t| t.id).collect::<Vec<_>>() }
    };
    assert_eq!(ids(TaskFilter { archived: Some(false), ..Default::default() }).await, vec![3]);
    assert_eq!(ids(TaskFilter { archived: Some(true), ..Default::default() }).await, vec![1, 2]);
    assert_eq!(ids(TaskFilter::default()).await, vec![1, 2, 3]);
    assert!(store.get_task(2).await.unwrap().archived_at.is_some());
    assert!(store.get_task(3).await.unwrap().archived_at.is_none());
}

async fn a_queued_task_says_what_it_waits_for_until_it_moves(store: Arc<dyn Store>) {
    store.create_task(record("a", &[], 0), Utc::now()).await.unwrap();
    store.create_task(record("b", &[], 0), Utc::now()).await.unwrap();
    store.transition_task(2, TaskStatus::Queued, TaskEvent::Stopped, None, Utc::now()).await.unwrap();
    let full: Waiting = Wait::ProfileLimit { profile: "claude".into(), running: 3, limit: 3 }.into();
    let waits = [(1, Some(full.clone())), (2, Some(full.clone()))];
    assert_eq!(store.set_waits(&waits).await.unwrap(), vec![1], "only a queued task waits");
    assert_eq!(store.set_waits(&waits).await.unwrap(), Vec::<i64>::new(), "unchanged: nothing written");
    assert_eq!(store.get_task(1).await.unwrap().waiting, Some(full));
    assert_eq!(store.get_task(2).await.unwrap().waiting, None);
    let listed = store.list_tasks_json(&TaskFilter::default()).await.unwrap();
    assert!(listed.contains("claude 3/3 running"), "{listed}");
    // Any move of its status ends the wait.
    store.start_run(1, "claude", "tok", "local", Utc::now()).await.unwrap();
    assert_eq!(store.get_task(1).await.unwrap().waiting, None);
    assert!(!store.list_tasks_json(&TaskFilter::default()).await.unwrap().contains("claude 3/3 running"));
}

async fn a_reply_continues_the_session_and_a_retry_starts_over(store: Arc<dyn Store>) {
    let stopped = || RunEnd { status: RunStatus::Stopped, exit_code: None, reason: None, task_event: TaskEvent::Stopped };
    store.create_task(record("a", &[], 0), Utc::now()).await.unwrap();
    let (_, run) = store.start_run(1, "claude", "tok", "local", Utc::now()).await.unwrap();
    store.finish_run(run.id, stopped(), Utc::now()).await.unwrap();
    // No session to continue: a reply starts a new one.
    let t = store.reopen_with_message(1, TaskStatus::Stopped, "go on", Utc::now()).await.unwrap();
    assert_eq!((t.status, t.resume), (TaskStatus::Queued, false));
    let (_, run) = store.start_run(1, "claude", "tok", "local", Utc::now()).await.unwrap();
    store.set_run_session(run.id, "s-1").await.unwrap();
    let t = store.finish_run(run.id, stopped(), Utc::now()).await.unwrap();
    assert_eq!(t.runs[1].session_id.as_deref(), Some("s-1"));
    let t = store.reopen_with_message(1, TaskStatus::Stopped, "go on", Utc::now()).await.unwrap();
    assert!(t.resume, "a reply continues the session");
    let (t, run) = store.start_run(1, "claude", "tok", "local", Utc::now()).await.unwrap();
    assert!(t.resume, "the run that starts continues it");
    store.finish_run(run.id, stopped(), Utc::now()).await.unwrap();
    let t = store.transition_task(1, TaskStatus::Stopped, TaskEvent::Retried, None, Utc::now()).await.unwrap();
    assert!(!t.resume, "a retry starts over");
    let (_, run) = store.start_run(1, "claude", "tok", "local", Utc::now()).await.unwrap();
    store.set_run_pid(run.id, 1).await.unwrap();
    store.interrupt_live_runs("local", &[], Utc::now()).await.unwrap();
    let t = store.transition_task(1, TaskStatus::Interrupted, TaskEvent::Retried, None, Utc::now()).await.unwrap();
    assert!(t.resume, "a retry after the daemon cut the run off continues it");
}

async fn notifications_are_written_with_their_transition(store: Arc<dyn Store>) {
    use bosun_core::notify::{ChannelKind, Filter, NotifyKind};
    use bosun_store::notify::{LinkRefusal, LinkVerb, NewChannel};
    let n = store.notify();
    let now = Utc::now();
    let channel = |name: &str, filter: Filter| NewChannel {
        kind: ChannelKind::Ntfy,
        name: name.into(),
        config: serde_json::json!({"url": "https://ntfy.example/t"}),
        filter,
        quiet: None,
    };
    let all = n.add_channel(channel("all", Filter::default()), now).await.unwrap();
    let asks = n.add_channel(channel("asks", Filter { events: vec![NotifyKind::NeedsInput], ..Default::default() }), now).await.unwrap();
    let t = store.create_task(record("ask", &[], 0), now).await.unwrap();
    let (_, run) = store.start_run(t.id, "careful", "tok", "local", now).await.unwrap();
    store.set_run_pid(run.id, 1).await.unwrap();
    assert_eq!(n.fan_out().await.unwrap(), 0, "starting notifies no one");
    let ask = NewApproval {
        task_id: t.id,
        run_id: run.id,
        request_id: "r1".into(),
        tool: "Bash".into(),
        kind: None,
        command: Some("rm -rf build".into()),
        path: None,
        input: None,
    };
    let a = store.add_approval(ask, now).await.unwrap();
    store.set_waiting(run.id, true, now).await.unwrap();
    assert_eq!(n.fan_out().await.unwrap(), 2, "the ask goes to both channels");
    store.set_waiting(run.id, false, now).await.unwrap();
    store.finish_run(run.id, finished(true), now).await.unwrap();
    assert_eq!(n.fan_out().await.unwrap(), 1, "review only to the channel without a filter");
    assert_eq!(n.fan_out().await.unwrap(), 0, "each outbox row is fanned out once");
    let queued = n.queued().await.unwrap();
    let of = |c: i64| queued.iter().filter(|q| q.channel_id == c).map(|q| q.notification_id).collect::<Vec<_>>();
    assert_eq!((of(all.id).len(), of(asks.id).len()), (2, 1));

    // One delivery carries both; its notifications cannot go in another.
    let d = n.create_delivery(all.id, &of(all.id), now).await.unwrap().expect("a delivery");
    assert_eq!(n.create_delivery(all.id, &of(all.id), now).await.unwrap(), None);
    let due = n.due_deliveries(now).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].items.iter().map(|i| i.kind).collect::<Vec<_>>(), [NotifyKind::NeedsInput, NotifyKind::Review]);
    let subject = &due[0].items[0].subject;
    assert_eq!((subject.task_id, subject.ask.as_ref().map(|a| a.approval_id)), (t.id, Some(a.id)));
    assert_eq!(subject.ask.as_ref().unwrap().command.as_deref(), Some("rm -rf build"));
    let later = now + chrono::Duration::seconds(2);
    // One attempt at a time: the claim is a compare-and-set.
    assert!(n.claim_delivery(d, now).await.unwrap());
    assert!(!n.claim_delivery(d, now).await.unwrap(), "a second attempt of the same delivery is refused");
    assert!(n.due_deliveries(now).await.unwrap().is_empty(), "a delivery being sent is not due");
    n.delivery_failed(d, "answered 503", Some(later), now).await.unwrap();
    assert!(n.due_deliveries(now).await.unwrap().is_empty(), "not before its retry");
    assert_eq!(n.next_attempt().await.unwrap().map(|t| t.timestamp_millis()), Some(later.timestamp_millis()));
    assert_eq!(n.channels().await.unwrap()[0].last_result.as_deref(), Some("failed: answered 503"));
    let retry = n.due_deliveries(later).await.unwrap();
    assert_eq!((retry.len(), retry[0].attempts), (1, 1));
    assert!(!n.claim_delivery(d, now).await.unwrap(), "not claimed before it is due");
    assert!(n.claim_delivery(d, later).await.unwrap());
    // A daemon stopped mid-attempt: the next one puts it back.
    assert_eq!(n.release_claims().await.unwrap(), 1);
    assert!(n.claim_delivery(d, later).await.unwrap());
    n.delivery_sent(d, later).await.unwrap();
    assert!(n.due_deliveries(later).await.unwrap().is_empty());
    assert_eq!(n.next_attempt().await.unwrap(), None);
    assert_eq!(n.channels().await.unwrap()[0].last_result.as_deref(), Some("ok"));

    // Action links: once, for a pending ask, before they expire.
    let t2 = store.create_task(record("ask again", &[], 0), now).await.unwrap();
    let (_, run2) = store.start_run(t2.id, "careful", "tok2", "local", now).await.unwrap();
    let b = store
        .add_approval(
            NewApproval {
                task_id: t2.id,
                run_id: run2.id,
                request_id: "r2".into(),
                tool: "Bash".into(),
                kind: None,
                command: None,
                path: None,
                input: None,
            },
            now,
        )
        .await
        .unwrap();
    let hour = now + chrono::Duration::hours(1);
    n.add_action_link(b"approve", b.id, LinkVerb::Approve, "all", hour, now).await.unwrap();
    n.add_action_link(b"deny", b.id, LinkVerb::Deny, "all", hour, now).await.unwrap();
    n.add_action_link(b"old", b.id, LinkVerb::Approve, "all", now, now).await.unwrap();
    assert_eq!(n.use_action_link(b"old", now).await.unwrap(), Err(LinkRefusal::Expired));
    assert_eq!(n.use_action_link(b"nope", now).await.unwrap(), Err(LinkRefusal::Unknown));
    let used = n.use_action_link(b"approve", now).await.unwrap().expect("usable once");
    assert_eq!((used.approval_id, used.task_id, used.verb), (b.id, t2.id, LinkVerb::Approve));
    assert_eq!(n.use_action_link(b"approve", now).await.unwrap(), Err(LinkRefusal::Used));
    assert_eq!(n.use_action_link(b"deny", now).await.unwrap(), Err(LinkRefusal::Used), "one answer per ask");
    n.add_action_link(b"late", b.id, LinkVerb::Deny, "all", hour, now).await.unwrap();
    store.answer_approval(b.id, true, "user", None, None, now).await.unwrap();
    assert_eq!(n.action_link(b"late", now).await.unwrap(), Err(LinkRefusal::Answered));

    // A delivery with nothing left to say is skipped, never attempted.
    let d2 = n.create_delivery(asks.id, &of(asks.id), later).await.unwrap().expect("a delivery");
    assert!(n.claim_delivery(d2, later).await.unwrap());
    n.delivery_skipped(d2, "answered meanwhile").await.unwrap();
    assert!(n.due_deliveries(later).await.unwrap().is_empty());
    assert_eq!(n.next_attempt().await.unwrap(), None);

    // What ended long ago is forgotten; what is pending or still usable stays.
    n.add_action_link(b"fresh", b.id, LinkVerb::Approve, "all", hour, now).await.unwrap();
    let soon = now + chrono::Duration::minutes(1);
    let gone = n.prune(soon).await.unwrap();
    // The link `old` (the others expire in an hour); deliveries d (sent) and d2
    // (skipped), their three queue rows, and the two notifications (the ask, the review).
    assert_eq!(gone, 1 + 3 + 2 + 2, "expired link, queue rows, deliveries, notifications");
    assert_eq!(n.use_action_link(b"old", now).await.unwrap(), Err(LinkRefusal::Unknown));
    assert_eq!(n.action_link(b"fresh", now).await.unwrap(), Err(LinkRefusal::Answered), "kept until it expires");
    assert_eq!(n.prune(soon).await.unwrap(), 0, "nothing twice");

    // Removing a channel removes it and what was queued or delivered for it.
    n.delete_channel(asks.id).await.unwrap();
    assert_eq!(n.channels().await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), [all.id]);
    assert!(matches!(n.delete_channel(asks.id).await, Err(StoreError::ChannelNotFound(_))));
}

async fn a_second_ask_while_waiting_is_notified(store: Arc<dyn Store>) {
    use bosun_core::notify::{ChannelKind, Filter, NotifyKind};
    use bosun_store::notify::NewChannel;
    let n = store.notify();
    let now = Utc::now();
    let config = serde_json::json!({"url": "https://ntfy.example/t"});
    n.add_channel(NewChannel { kind: ChannelKind::Ntfy, name: "c".into(), config, filter: Filter::default(), quiet: None }, now)
        .await
        .unwrap();
    let t = store.create_task(record("two asks", &[], 0), now).await.unwrap();
    let (_, run) = store.start_run(t.id, "careful", "tok", "local", now).await.unwrap();
    store.set_run_pid(run.id, 1).await.unwrap();
    let ask = |id: &str| NewApproval {
        task_id: t.id,
        run_id: run.id,
        request_id: id.into(),
        tool: "Bash".into(),
        kind: None,
        command: Some(format!("echo {id}")),
        path: None,
        input: None,
    };
    let a = store.add_approval(ask("r1"), now).await.unwrap();
    assert_eq!(n.fan_out().await.unwrap(), 0, "a running task's ask is notified by its transition");
    store.set_waiting(run.id, true, now).await.unwrap();
    assert_eq!(n.fan_out().await.unwrap(), 1);
    // The task already waits: no transition, but the second ask is news of its own.
    let b = store.add_approval(ask("r2"), now).await.unwrap();
    assert_eq!(n.fan_out().await.unwrap(), 1, "the second ask is notified");
    let queued = n.queued().await.unwrap();
    let ids: Vec<i64> = queued.iter().map(|q| q.notification_id).collect();
    assert!(queued.iter().all(|q| q.kind == NotifyKind::NeedsInput));
    for (i, want) in [a.id, b.id].into_iter().enumerate() {
        let d = n.create_delivery(queued[i].channel_id, &ids[i..=i], now).await.unwrap().unwrap();
        let due = n.due_deliveries(now).await.unwrap();
        let item = &due.iter().find(|x| x.id == d).unwrap().items[0];
        assert_eq!(item.subject.ask.as_ref().map(|s| s.approval_id), Some(want), "each names its own ask");
    }
}

async fn a_queued_task_is_edited_only_while_queued(store: Arc<dyn Store>) {
    store.create_task(record("draft", &["a"], 0), Utc::now()).await.unwrap();
    let edit =
        TaskEdit { title: Some("final".into()), tags: Some(vec!["b".into()]), agent: Some(Some("quick".into())), ..Default::default() };
    let t = store.edit_queued_task(1, &edit, Utc::now()).await.unwrap();
    assert_eq!((t.title.as_str(), t.tags.clone(), t.agent.as_deref(), t.priority), ("final", vec!["b".to_string()], Some("quick"), 0));
    // What is left out stays; `Some(None)` routes it by tags again.
    let t = store.edit_queued_task(1, &TaskEdit { priority: Some(5), agent: Some(None), ..Default::default() }, Utc::now()).await.unwrap();
    assert_eq!((t.title.as_str(), t.priority, t.agent), ("final", 5, None));
    let listed = store.list_tasks(&TaskFilter::default()).await.unwrap();
    assert_eq!(listed[0].priority, 5, "the listing (cached too) sees the edit");
    // Started meanwhile: refused, nothing changed.
    store.start_run(1, "quick", "tok", "local", Utc::now()).await.unwrap();
    let late = store.edit_queued_task(1, &TaskEdit { title: Some("too late".into()), ..Default::default() }, Utc::now()).await;
    assert!(
        matches!(late, Err(StoreError::StatusChanged { id: 1, expected: TaskStatus::Queued, actual: TaskStatus::Running })),
        "{late:?}"
    );
    assert_eq!(store.get_task(1).await.unwrap().title, "final");
    assert!(matches!(store.edit_queued_task(9, &TaskEdit::default(), Utc::now()).await, Err(StoreError::TaskNotFound(9))));
}

async fn a_task_blocked_by_a_budget_says_which_and_is_still_dispatched(store: Arc<dyn Store>) {
    for t in ["over budget", "after a failed one", "plain"] {
        store.create_task(record(t, &[], 0), Utc::now()).await.unwrap();
    }
    let wait: Waiting =
        Wait::Budget { budget: "daily".into(), detail: "budget `daily`: $3.00 spent + $0.00 reserved of $3.00".into() }.into();
    let t = store.transition_waiting(1, TaskStatus::Queued, TaskEvent::Blocked, Some(&wait.text), Some(&wait), Utc::now()).await.unwrap();
    assert_eq!((t.status, t.waiting.as_ref(), t.status_reason.as_deref()), (TaskStatus::Blocked, Some(&wait), Some(wait.text.as_str())));
    // Compare-and-set like any transition.
    let again = store.transition_waiting(1, TaskStatus::Queued, TaskEvent::Blocked, None, Some(&wait), Utc::now()).await;
    assert!(matches!(again, Err(StoreError::StatusChanged { .. })), "{again:?}");
    // Blocked by a dependency (no budget wait): not the dispatcher's.
    store.transition_task(2, TaskStatus::Queued, TaskEvent::Blocked, Some("dependency T-9 is failed"), Utc::now()).await.unwrap();
    let queued: Vec<i64> = store.queued_tasks().await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(queued, vec![1, 3], "a budget's block is looked at again at each pass");
    // Its figures change while it stays blocked; moving out of it ends the wait.
    let later: Waiting =
        Wait::Budget { budget: "daily".into(), detail: "budget `daily`: $3.00 spent + $1.00 reserved of $3.00".into() }.into();
    assert_eq!(store.set_waits(&[(1, Some(later.clone()))]).await.unwrap(), vec![1]);
    assert_eq!(store.get_task(1).await.unwrap().waiting, Some(later));
    let t = store.transition_task(1, TaskStatus::Blocked, TaskEvent::Unblocked, None, Utc::now()).await.unwrap();
    assert_eq!((t.status, t.waiting), (TaskStatus::Queued, None));
}
