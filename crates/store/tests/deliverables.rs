//! Deliverables' story against `dyn Store` (SQLite, bare and cached): written with
//! their run's end in one transaction (a run that cannot finish records none), read
//! back per task in run order, and the paths a run declared found in its events (an
//! agent's only).

mod common;

use bosun_core::deliverable::{DeliverableChange, NewDeliverable};
use bosun_core::{EventKind, NewEvent, NewTask, RunStatus, Source, TaskEvent, TaskStatus};
use bosun_store::{RunEnd, StoreError, TaskRecord};
use chrono::Utc;
use common::stores;

fn item(path: &str, sha: &str, change: DeliverableChange) -> NewDeliverable {
    NewDeliverable {
        path: path.into(),
        size: 42,
        mime: bosun_core::deliverable::mime_for(path).into(),
        description: Some(format!("about {path}")),
        sha256: Some(sha.into()),
        change,
    }
}

fn done() -> RunEnd {
    RunEnd { status: RunStatus::Succeeded, exit_code: Some(0), reason: None, task_event: TaskEvent::Finished { success: true } }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliverables_are_written_with_the_end_of_their_run() {
    for (store, _dir) in stores().await {
        let record = TaskRecord { new: NewTask { title: "analysis".into(), ..Default::default() }, repo: None, base: None };
        let task = store.create_task(record, Utc::now()).await.unwrap();
        let (_, run) = store.start_run(task.id, "analyst", "tok", "n", Utc::now()).await.unwrap();
        let events = [
            (Source::Agent, EventKind::Deliverable { path: "report.md".into(), description: Some("the report".into()) }),
            (Source::Bosun, EventKind::Deliverable { path: "forged.md".into(), description: None }),
            (Source::Agent, EventKind::Message { text: "done".into(), role: None, from: None }),
        ];
        let events: Vec<NewEvent> = events
            .into_iter()
            .map(|(source, kind)| NewEvent { task_id: task.id, run_id: run.id, ts: Utc::now(), source, kind, charge: None })
            .collect();
        store.append_events(&events, &[]).await.unwrap();
        assert_eq!(store.deliverables().declared(task.id, run.id).await.unwrap(), vec![("report.md".into(), Some("the report".into()))]);

        let first = [item("report.md", "a", DeliverableChange::Added), item("data.csv", "b", DeliverableChange::Added)];
        let t = store.finish_run_with(run.id, done(), &first, Utc::now()).await.unwrap();
        assert_eq!(t.status, TaskStatus::Review);
        // A run that already ended records nothing more.
        let late = [item("late.md", "c", DeliverableChange::Added)];
        assert!(matches!(store.finish_run_with(run.id, done(), &late, Utc::now()).await, Err(StoreError::RunNotFound(_))));

        store.reopen_with_message(task.id, TaskStatus::Review, "shorter", Utc::now()).await.unwrap();
        let (_, second) = store.start_run(task.id, "analyst", "tok2", "n", Utc::now()).await.unwrap();
        store.finish_run_with(second.id, done(), &[item("report.md", "z", DeliverableChange::Modified)], Utc::now()).await.unwrap();

        let all = store.deliverables().deliverables(task.id).await.unwrap();
        let seen: Vec<(i64, &str, DeliverableChange)> = all.iter().map(|d| (d.run_id, d.path.as_str(), d.change)).collect();
        assert_eq!(
            seen,
            vec![
                (run.id, "data.csv", DeliverableChange::Added),
                (run.id, "report.md", DeliverableChange::Added),
                (second.id, "report.md", DeliverableChange::Modified)
            ]
        );
        assert_eq!(all[1].size, 42);
        assert_eq!(all[1].mime, "text/markdown");
        assert_eq!(all[1].description.as_deref(), Some("about report.md"));
        assert_eq!(all[2].sha256.as_deref(), Some("z"));
    }
}
