//! The ledger's and budgets' story against `dyn Store` (SQLite, bare and cached): a
//! usage report is counted once however often it is stored, totals are queries that
//! agree with the runs, and reservations taken at the start of runs never together
//! exceed a budget, however many start at once.

mod common;

use bosun_core::budget::{Budget, Charge, Scope};
use bosun_core::{EventKind, NewEvent, NewTask, RunStatus, Source, TaskEvent, TaskStatus};
use bosun_store::ledger::CostBy;
use bosun_store::{RunEnd, RunStart, StoreError, TaskRecord};
use chrono::Utc;
use common::stores;

fn record(title: &str) -> TaskRecord {
    TaskRecord { new: NewTask { title: title.into(), ..Default::default() }, repo: Some("/r".into()), base: Some("main".into()) }
}

fn usage(task_id: i64, run_id: i64, line: u64, cost: f64) -> NewEvent {
    let charge = Charge {
        line: Some(line),
        profile: "claude".into(),
        repo: Some("/r".into()),
        model: Some("sonnet".into()),
        reported_usd: Some(cost),
        priced_usd: None,
        counted: "reported",
    };
    NewEvent {
        task_id,
        run_id,
        ts: Utc::now(),
        source: Source::Bosun,
        kind: EventKind::Usage { input_tokens: 100, output_tokens: 10, cached_tokens: 0, cost_usd: Some(cost) },
        charge: Some(Box::new(charge)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_usage_report_is_counted_once_and_totals_agree_with_the_runs() {
    for (store, _dir) in stores().await {
        let now = Utc::now();
        let t = store.create_task(record("spend"), now).await.unwrap();
        let (_, run) = store.start_run(t.id, "claude", "tok", "local", now).await.unwrap();
        store.append_events(&[usage(t.id, run.id, 3, 0.25), usage(t.id, run.id, 7, 0.5)], &[]).await.unwrap();
        // The daemon died between storing line 7's events and its count: the next one
        // replays line 7.
        store.append_events(&[usage(t.id, run.id, 7, 0.5)], &[]).await.unwrap();
        let task = store.get_task(t.id).await.unwrap();
        assert_eq!(task.runs[0].usage.cost_usd, Some(0.75), "the run counted line 7 once");
        assert_eq!(task.runs[0].usage.input_tokens, 200);
        let costs = store.ledger().costs(CostBy::Task, None).await.unwrap();
        assert_eq!((costs.len(), costs[0].cost_usd, costs[0].reports), (1, 0.75, 2));
        assert_eq!(costs[0].key.as_deref(), Some(t.id.to_string().as_str()));
        let by_model = store.ledger().costs(CostBy::Model, None).await.unwrap();
        assert_eq!(by_model[0].key.as_deref(), Some("sonnet"));
        assert_eq!(store.ledger().task_spent(t.id).await.unwrap(), 0.75);
        let later = store.ledger().costs(CostBy::Day, Some(now + chrono::Duration::hours(1))).await.unwrap();
        assert!(later.is_empty(), "since a later time: nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_runs_starting_at_once_under_a_budget_for_three_reservations() {
    for (store, _dir) in stores().await {
        let now = Utc::now();
        let daily = Budget { name: "daily".into(), scope: Scope::All, since: None, limit: 3.0 };
        let mut ids = Vec::new();
        for i in 0..10 {
            ids.push(store.create_task(record(&format!("t{i}")), now).await.unwrap().id);
        }
        let starts = ids.iter().map(|&id| {
            let store = store.clone();
            let daily = daily.clone();
            tokio::spawn(async move {
                let token = format!("tok{id}");
                let start = RunStart {
                    agent: "claude",
                    token: &token,
                    node: "local",
                    model: None,
                    reserve: Some((1.0, vec![daily])),
                    workspace: None,
                };
                store.start_run_with(id, &start, Utc::now()).await
            })
        });
        let mut started = Vec::new();
        for (id, result) in ids.iter().zip(futures_join(starts).await) {
            match result {
                Ok((_, run)) => started.push((*id, run.id)),
                Err(StoreError::OverBudget(state)) => {
                    assert_eq!(state.budget.name, "daily");
                    assert_eq!(store.get_task(*id).await.unwrap().status, TaskStatus::Queued, "nothing written for it");
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(started.len(), 3, "three reservations of $1 fit $3");
        let state = &store.ledger().budget_states(std::slice::from_ref(&daily)).await.unwrap()[0];
        assert_eq!((state.spent, state.reserved), (0.0, 3.0));
        // A run spends part of its reservation: spent and reserved still add up to it.
        let (task, run) = started[0];
        store.append_events(&[usage(task, run, 1, 0.4)], &[]).await.unwrap();
        let state = &store.ledger().budget_states(std::slice::from_ref(&daily)).await.unwrap()[0];
        assert!((state.spent - 0.4).abs() < 1e-9 && (state.reserved - 2.6).abs() < 1e-9, "{state:?}");
        // Its end releases what it did not spend: one more run of $0.6 fits, not of $1.
        let end =
            RunEnd { status: RunStatus::Succeeded, exit_code: Some(0), reason: None, task_event: TaskEvent::Finished { success: true } };
        store.finish_run(run, end, Utc::now()).await.unwrap();
        let try_start = |amount: f64| {
            let daily = daily.clone();
            let store = store.clone();
            let id = ids.iter().copied().find(|id| !started.iter().any(|(t, _)| t == id)).unwrap();
            async move {
                let start = RunStart {
                    agent: "claude",
                    token: "t",
                    node: "local",
                    model: None,
                    reserve: Some((amount, vec![daily])),
                    workspace: None,
                };
                store.start_run_with(id, &start, Utc::now()).await
            }
        };
        assert!(matches!(try_start(1.0).await, Err(StoreError::OverBudget(_))));
        assert!(try_start(0.6).await.is_ok());
    }
}

/// Awaits every handle, in order.
async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
