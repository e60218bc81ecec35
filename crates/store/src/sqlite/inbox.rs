//! A task's inbox: messages for its next run (`say` before the agent started, a reply),
//! kept until a spawned agent was handed them.

use bosun_core::task::TaskId;
use chrono::{DateTime, Utc};

use super::SqliteStore;
use super::rows::ms;
use crate::{InboxMessage, Result};

impl SqliteStore {
    pub(super) async fn queue_message_in(&self, task_id: TaskId, text: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO inbox (task_id, text, created_at) VALUES (?, ?, ?)")
            .bind(task_id)
            .bind(text)
            .bind(ms(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn undelivered_in(&self, task_id: TaskId) -> Result<Vec<InboxMessage>> {
        let rows: Vec<(i64, String, bool)> =
            sqlx::query_as("SELECT id, text, resolve FROM inbox WHERE task_id = ? AND delivered_at IS NULL ORDER BY id")
                .bind(task_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id, text, resolve)| InboxMessage { id, text, resolve }).collect())
    }

    pub(super) async fn mark_delivered_in(&self, task_id: TaskId, up_to: i64, now: DateTime<Utc>) -> Result<()> {
        mark_delivered_tx(&mut *self.pool.acquire().await?, task_id, up_to, now).await
    }
}

/// Marks the messages queued for task `task_id` up to id `up_to` delivered, inside `tx`.
pub(super) async fn mark_delivered_tx(tx: &mut sqlx::SqliteConnection, task_id: TaskId, up_to: i64, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE inbox SET delivered_at = ? WHERE task_id = ? AND id <= ? AND delivered_at IS NULL")
        .bind(ms(now))
        .bind(task_id)
        .bind(up_to)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
