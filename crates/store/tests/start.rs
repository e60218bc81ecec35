//! A run's start against `dyn Store` (SQLite, bare and cached): a first run's workspace
//! is recorded in the transaction that starts it, a pool claim for the same place
//! still succeeds after it, and a claim for another place does not.

mod common;

use bosun_core::{NewTask, TaskStatus};
use bosun_store::pool::{PoolClaim, PoolState};
use bosun_store::{RunStart, RunWorkspace, TaskRecord};
use chrono::Utc;
use common::stores;

fn in_repo(title: &str) -> TaskRecord {
    TaskRecord { new: NewTask { title: title.into(), ..Default::default() }, repo: Some("/r".into()), base: Some("main".into()) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_records_its_workspace_as_it_starts_and_a_claim_for_it_still_succeeds() {
    for (store, _dir) in stores().await {
        let task = store.create_task(in_repo("first"), Utc::now()).await.unwrap();
        let workspace = RunWorkspace { branch: Some("bosun/1-first"), worktree: "/d/worktrees/1-first" };
        let start = RunStart { agent: "x", token: "t", node: "here", model: None, reserve: None, workspace: Some(workspace) };
        let (started, _run) = store.start_run_with(task.id, &start, Utc::now()).await.unwrap();
        assert_eq!(started.status, TaskStatus::Running);
        assert_eq!((started.branch.as_deref(), started.worktree.as_deref()), (Some("bosun/1-first"), Some("/d/worktrees/1-first")));

        let pool = store.pool();
        for dir in ["/d/pool/1", "/d/pool/2"] {
            let entry = pool.add_pool_entry("/r", "main", dir, Utc::now()).await.unwrap();
            assert!(pool.set_pool_state(entry.id, entry.state, PoolState::Ready, Some("abc"), Some(false)).await.unwrap());
        }
        // Somewhere else than the start recorded: refused, the entry stays ready.
        let elsewhere = PoolClaim { task_id: task.id, repo: "/r", base: "main", branch: "bosun/1-first", worktree: "/d/other" };
        assert!(pool.claim_pool_entry(&elsewhere, Utc::now()).await.unwrap().is_none());
        // The place the start recorded: claimed.
        let claim = PoolClaim { worktree: "/d/worktrees/1-first", ..elsewhere };
        let entry = pool.claim_pool_entry(&claim, Utc::now()).await.unwrap().expect("a ready entry is claimed");
        assert_eq!((entry.state, entry.task_id), (PoolState::Claimed, Some(task.id)));
        let states: Vec<PoolState> = pool.pool_entries().await.unwrap().iter().map(|e| e.state).collect();
        assert_eq!(states, [PoolState::Claimed, PoolState::Ready], "one claimed, the other still ready");
    }
}
