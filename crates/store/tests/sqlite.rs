//! The store's story on a real SQLite file: tasks, runs, events, crash recovery.

use bosun_core::{Event, EventKind, NewTask, RunStatus, TaskStatus};
use bosun_store::{RunEnd, SqliteStore, Store, StoreError, TaskFilter, TaskRecord};
use chrono::Utc;

fn record(title: &str, tags: &[&str], priority: i64) -> TaskRecord {
    TaskRecord {
        new: NewTask {
            title: title.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            priority,
            ..Default::default()
        },
        repo: Some("/r".into()),
        base: Some("main".into()),
    }
}

fn event(task_id: i64, run_id: i64, seq: i64, kind: EventKind) -> Event {
    Event { task_id, run_id, seq, ts: Utc::now(), kind }
}

#[tokio::test]
async fn tasks_runs_and_events_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bosun.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let t = store.create_task(record("First", &["a"], 0), Utc::now()).await.unwrap();
    assert_eq!((t.id, t.status, t.title.as_str()), (1, TaskStatus::Queued, "First"));

    let (task, run) = store.start_run(t.id, "echoer", "tok-1", Utc::now()).await.unwrap();
    assert_eq!(task.status, TaskStatus::Running);
    assert_eq!(run.status, RunStatus::Starting);
    // A second start of the same task is refused: it is no longer queued.
    assert!(matches!(
        store.start_run(t.id, "echoer", "tok-2", Utc::now()).await,
        Err(StoreError::StatusChanged { expected: TaskStatus::Queued, actual: TaskStatus::Running, .. })
    ));
    store.set_run_pid(run.id, 4242).await.unwrap();
    store
        .append_events(&[
            event(t.id, run.id, 1, EventKind::Message { text: "hi".into(), role: None, from: None }),
            event(t.id, run.id, 2, EventKind::Usage { input_tokens: 10, output_tokens: 2, cached_tokens: 1, cost_usd: Some(0.5) }),
            event(t.id, run.id, 3, EventKind::Usage { input_tokens: 5, output_tokens: 1, cached_tokens: 0, cost_usd: None }),
        ])
        .await
        .unwrap();
    // seq is unique per task: a duplicate is an error, not a silent overwrite.
    assert!(store.append_events(&[event(t.id, run.id, 3, EventKind::Error { message: "dup".into() })]).await.is_err());

    let end = RunEnd { status: RunStatus::Succeeded, exit_code: Some(0), reason: None, task_status: TaskStatus::Review };
    let task = store.finish_run(run.id, end, Utc::now()).await.unwrap();
    assert_eq!(task.status, TaskStatus::Review);
    drop(store);

    let store = SqliteStore::open(&path).await.unwrap();
    let task = store.get_task(1).await.unwrap();
    assert_eq!(task.runs.len(), 1);
    let run = &task.runs[0];
    assert_eq!((run.status, run.pid, run.exit_code), (RunStatus::Succeeded, Some(4242), Some(0)));
    assert_eq!((run.usage.input_tokens, run.usage.output_tokens, run.usage.cached_tokens), (15, 3, 1));
    assert_eq!(run.usage.cost_usd, Some(0.5));
    let evs = store.events(1, 1, 100).await.unwrap();
    assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(store.last_seq(1).await.unwrap(), 3);
    assert!(matches!(store.get_task(99).await, Err(StoreError::TaskNotFound(99))));
}

#[tokio::test]
async fn listing_filters_and_dispatch_order() {
    let store = SqliteStore::in_memory().await.unwrap();
    store.create_task(record("low", &["docs"], 0), Utc::now()).await.unwrap();
    store.create_task(record("high", &["backend"], 5), Utc::now()).await.unwrap();
    store.create_task(record("low too", &["backend", "docs"], 0), Utc::now()).await.unwrap();
    let queued: Vec<i64> = store.queued_tasks().await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(queued, vec![2, 1, 3]);

    let by_tag = store.list_tasks(&TaskFilter { tag: Some("docs".into()), ..Default::default() }).await.unwrap();
    assert_eq!(by_tag.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1, 3]);
    store.set_task_status(2, TaskStatus::Queued, TaskStatus::Stopped, Some("user"), Utc::now()).await.unwrap();
    let stopped = store
        .list_tasks(&TaskFilter { statuses: vec![TaskStatus::Stopped], ..Default::default() })
        .await
        .unwrap();
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].status_reason.as_deref(), Some("user"));
    // Compare-and-set: moving from a status the task is not in fails and says why.
    let err = store.set_task_status(2, TaskStatus::Queued, TaskStatus::Running, None, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "task 2 is stopped, not queued");
    let page = store.list_tasks(&TaskFilter { after_id: Some(1), limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(page.iter().map(|t| t.id).collect::<Vec<_>>(), vec![2]);
}

#[tokio::test]
async fn crash_recovery_interrupts_live_runs_only() {
    let store = SqliteStore::in_memory().await.unwrap();
    for title in ["a", "b", "c"] {
        store.create_task(record(title, &[], 0), Utc::now()).await.unwrap();
    }
    let (_, r1) = store.start_run(1, "x", "tok-a", Utc::now()).await.unwrap();
    store.set_run_pid(r1.id, 100).await.unwrap();
    let (_, r2) = store.start_run(2, "x", "tok-b", Utc::now()).await.unwrap();
    let end = RunEnd { status: RunStatus::Failed, exit_code: Some(3), reason: Some("boom".into()), task_status: TaskStatus::Failed };
    store.finish_run(r2.id, end, Utc::now()).await.unwrap();

    let orphans = store.interrupt_live_runs(Utc::now()).await.unwrap();
    assert_eq!(orphans.len(), 1);
    assert_eq!((orphans[0].run.id, orphans[0].token.as_str()), (r1.id, "tok-a"));
    let t1 = store.get_task(1).await.unwrap();
    assert_eq!(t1.status, TaskStatus::Interrupted);
    assert_eq!(t1.runs[0].status, RunStatus::Interrupted);
    assert_eq!(store.get_task(2).await.unwrap().status, TaskStatus::Failed);
    assert_eq!(store.get_task(3).await.unwrap().status, TaskStatus::Queued);
    assert!(store.interrupt_live_runs(Utc::now()).await.unwrap().is_empty(), "idempotent");
}

/// The cached JSON listing always equals a fresh read, whatever was written since.
#[tokio::test]
async fn cached_listing_matches_the_database_after_every_write() {
    let store = SqliteStore::in_memory().await.unwrap();
    let filters = [
        TaskFilter::default(),
        TaskFilter { statuses: vec![TaskStatus::Running, TaskStatus::Review], ..Default::default() },
        TaskFilter { tag: Some("b".into()), ..Default::default() },
        TaskFilter { after_id: Some(1), limit: Some(2), ..Default::default() },
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
    let (_, run) = store.start_run(2, "x", "tok", Utc::now()).await.unwrap();
    check("start_run").await;
    store.set_run_pid(run.id, 77).await.unwrap();
    check("set_run_pid").await;
    store.append_events(&[event(2, run.id, 1, EventKind::Usage { input_tokens: 5, output_tokens: 1, cached_tokens: 0, cost_usd: Some(0.1) })]).await.unwrap();
    check("usage").await;
    store.set_task_workspace(3, Some("bosun/3-t2"), "/w/3", Utc::now()).await.unwrap();
    store.set_task_agent(3, "y", Utc::now()).await.unwrap();
    check("workspace and agent").await;
    let end = RunEnd { status: RunStatus::Succeeded, exit_code: Some(0), reason: None, task_status: TaskStatus::Review };
    store.finish_run(run.id, end, Utc::now()).await.unwrap();
    check("finish_run").await;
    store.add_deps(3, &[1], Utc::now()).await.unwrap();
    check("add_deps").await;
    let pr = bosun_core::PullRequest { number: 4, url: "u".into(), state: bosun_core::PrState::Open, draft: false };
    store.set_pr(2, &pr, Utc::now()).await.unwrap();
    check("set_pr").await;
    store.start_run(1, "x", "tok2", Utc::now()).await.unwrap();
    store.interrupt_live_runs(Utc::now()).await.unwrap();
    check("interrupt_live_runs").await;
}
