//! A task's pull request (a new one for a task in review tells its source's item, in
//! the same transaction) and the merge intents recovery finishes after a crash.

use bosun_core::task::TaskId;
use bosun_core::{PullRequest, Task, TaskStatus};
use chrono::{DateTime, Utc};

use super::rows::ms;
use super::{SqliteStore, sources, tx};
use crate::{Result, Store};

impl SqliteStore {
    pub(super) async fn set_pr_in(&self, id: TaskId, pr: &PullRequest, now: DateTime<Utc>) -> Result<Task> {
        let mut tx = self.pool.begin_with(tx::WRITE).await?;
        let before: Option<(Option<i64>, String)> =
            sqlx::query_as("SELECT pr_number, status FROM tasks WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
        let done = sqlx::query("UPDATE tasks SET pr_number = ?, pr_url = ?, pr_state = ?, pr_draft = ?, updated_at = ? WHERE id = ?")
            .bind(pr.number)
            .bind(&pr.url)
            .bind(pr.state.as_str())
            .bind(pr.draft)
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // A new pull request of a task in review: its item is told (the review note again, with the PR).
        if let Some((old, status)) = before
            && old != Some(pr.number)
            && status == TaskStatus::Review.as_str()
        {
            sources::queue_phase_in(&mut tx, id, bosun_core::source::Phase::Review, now).await?;
        }
        tx.commit().await?;
        self.wrote_task(id, done)?;
        self.get_task(id).await
    }

    pub(super) async fn set_merge_intent_in(&self, id: TaskId, strategy: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT OR REPLACE INTO merge_intents (task_id, strategy, created_at) VALUES (?, ?, ?)")
            .bind(id)
            .bind(strategy)
            .bind(ms(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn merge_intents_in(&self) -> Result<Vec<(TaskId, String)>> {
        Ok(sqlx::query_as("SELECT task_id, strategy FROM merge_intents ORDER BY created_at, task_id").fetch_all(&self.pool).await?)
    }

    pub(super) async fn clear_merge_intent_in(&self, id: TaskId) -> Result<()> {
        sqlx::query("DELETE FROM merge_intents WHERE task_id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }
}
