//! The SQLite side of [`DeliverableStore`]: the `deliverables` table (schema17), rows
//! inserted in the transaction that finishes their run.

use async_trait::async_trait;
use bosun_core::EventKind;
use bosun_core::deliverable::{Deliverable, DeliverableChange, NewDeliverable};
use bosun_core::task::{RunId, TaskId};
use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

use super::SqliteStore;
use super::rows::{ms, time};
use crate::deliverables::DeliverableStore;
use crate::{Result, StoreError};

/// Records a finishing run's deliverables (inside `finish_run_with`'s transaction).
pub(super) async fn insert_in(
    conn: &mut SqliteConnection,
    task_id: TaskId,
    run_id: RunId,
    items: &[NewDeliverable],
    now: DateTime<Utc>,
) -> Result<()> {
    for d in items {
        sqlx::query(
            "INSERT INTO deliverables (task_id, run_id, path, size, mime, description, sha256, change, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, path) DO UPDATE SET size = excluded.size, mime = excluded.mime,
               description = excluded.description, sha256 = excluded.sha256, change = excluded.change",
        )
        .bind(task_id)
        .bind(run_id)
        .bind(&d.path)
        .bind(i64::try_from(d.size).unwrap_or(i64::MAX))
        .bind(&d.mime)
        .bind(&d.description)
        .bind(&d.sha256)
        .bind(d.change.as_str())
        .bind(ms(now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl DeliverableStore for SqliteStore {
    async fn deliverables(&self, task_id: TaskId) -> Result<Vec<Deliverable>> {
        let rows = sqlx::query(
            "SELECT task_id, run_id, path, size, mime, description, sha256, change, created_at
             FROM deliverables WHERE task_id = ? ORDER BY run_id, path",
        )
        .bind(task_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let change: String = row.try_get("change")?;
                Ok(Deliverable {
                    task_id: row.try_get("task_id")?,
                    run_id: row.try_get("run_id")?,
                    path: row.try_get("path")?,
                    size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or_default(),
                    mime: row.try_get("mime")?,
                    description: row.try_get("description")?,
                    sha256: row.try_get("sha256")?,
                    change: DeliverableChange::parse(&change)
                        .ok_or_else(|| StoreError::Corrupt(format!("deliverable change {change:?}")))?,
                    created_at: time(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }

    async fn declared(&self, task_id: TaskId, run_id: RunId) -> Result<Vec<(String, Option<String>)>> {
        // An event's JSON starts with its type (serde writes the tag first): a prefix
        // test, not a JSON parse of every row.
        let rows: Vec<String> = sqlx::query_scalar(
            r#"SELECT data FROM events WHERE task_id = ? AND run_id = ? AND source = 'agent'
               AND data LIKE '{"type":"deliverable",%' ORDER BY seq"#,
        )
        .bind(task_id)
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|data| match serde_json::from_str::<EventKind>(data) {
                Ok(EventKind::Deliverable { path, description }) => Some((path, description)),
                _ => None,
            })
            .collect())
    }
}
