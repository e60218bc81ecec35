//! The pool queries of [`SqliteStore`]: entries' compare-and-set state changes and a
//! task's claim (the entry and the task's workspace in one write transaction).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use super::rows::ms;
use super::tx::WRITE;
use crate::pool::{PoolClaim, PoolEntry, PoolState, PoolStore};
use crate::{Result, StoreError};

const COLUMNS: &str = "id, repo, base, path, state, head, setup_ran, task_id";

fn entry(row: &SqliteRow) -> Result<PoolEntry> {
    let state: String = row.try_get("state")?;
    Ok(PoolEntry {
        id: row.try_get("id")?,
        repo: row.try_get("repo")?,
        base: row.try_get("base")?,
        path: row.try_get("path")?,
        state: PoolState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("pool entry state {state:?}")))?,
        head: row.try_get("head")?,
        setup_ran: row.try_get("setup_ran")?,
        task_id: row.try_get("task_id")?,
    })
}

#[async_trait]
impl PoolStore for SqliteStore {
    async fn pool_entries(&self) -> Result<Vec<PoolEntry>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM pool_worktrees ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(entry).collect()
    }

    async fn add_pool_entry(&self, repo: &str, base: &str, dir: &str, now: DateTime<Utc>) -> Result<PoolEntry> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO pool_worktrees (repo, base, path, state, created_at) VALUES (?, ?, '', 'making', ?) RETURNING id",
        )
        .bind(repo)
        .bind(base)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let path = format!("{}/{id}", dir.trim_end_matches('/'));
        sqlx::query("UPDATE pool_worktrees SET path = ? WHERE id = ?").bind(&path).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        let (repo, base) = (repo.to_string(), base.to_string());
        Ok(PoolEntry { id, repo, base, path, state: PoolState::Making, head: None, setup_ran: false, task_id: None })
    }

    async fn set_pool_state(&self, id: i64, from: PoolState, to: PoolState, head: Option<&str>, setup_ran: Option<bool>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE pool_worktrees SET state = ?, head = coalesce(?, head), setup_ran = coalesce(?, setup_ran) WHERE id = ? AND state = ?",
        )
        .bind(to.as_str())
        .bind(head)
        .bind(setup_ran)
        .bind(id)
        .bind(from.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_pool_entry(&self, claim: &PoolClaim<'_>, now: DateTime<Utc>) -> Result<Option<PoolEntry>> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let row = sqlx::query(&format!(
            "UPDATE pool_worktrees SET state = 'claimed', task_id = ?1 WHERE id = (SELECT id FROM pool_worktrees
             WHERE repo = ?2 AND base = ?3 AND state = 'ready' ORDER BY id LIMIT 1) RETURNING {COLUMNS}"
        ))
        .bind(claim.task_id)
        .bind(claim.repo)
        .bind(claim.base)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let recorded = sqlx::query(
            "UPDATE tasks SET branch = ?1, worktree = ?2, updated_at = ?3 WHERE id = ?4 AND (worktree IS NULL OR worktree = ?2)",
        )
        .bind(claim.branch)
        .bind(claim.worktree)
        .bind(ms(now))
        .bind(claim.task_id)
        .execute(&mut *tx)
        .await?;
        if recorded.rows_affected() == 0 {
            return Ok(None); // rolled back: the entry stays ready
        }
        let taken = entry(&row)?;
        tx.commit().await?;
        self.changed(claim.task_id);
        Ok(Some(taken))
    }

    async fn delete_pool_entry(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM pool_worktrees WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }
}
