//! The SQLite [`SourceStore`]: sources, item links (made with their task in one
//! transaction), and the write-back queue ([`queue_write_in`] runs inside a task's
//! transition).

use async_trait::async_trait;
use bosun_core::source::{Phase, Source, Webhook, Written};
use bosun_core::task::TaskId;
use bosun_core::{Task, TaskStatus};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use super::rows::ms;
use super::tx::WRITE;
use super::tx::insert_task;
use crate::sources::{Link, Linked, NewLink, NewSource, SourceStore, SourceWrite, SyncMark};
use crate::{Result, Store, StoreError, TaskRecord};

const SOURCE_COLUMNS: &str = "id, config, repo, interval_secs, api, created_at, last_sync_at, last_error, seen, created, hook, hook_secret_env, hook_token IS NOT NULL AS token_received, last_hook_at";
const LINK_COLUMNS: &str = "task_id, source_id, external_id, url, reference, written_state, written_at, comment_cursor, status_comment";

fn time(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt(format!("bad timestamp {v}")))
}

fn source_from_row(row: &SqliteRow) -> Result<Source> {
    let config: String = row.try_get("config")?;
    Ok(Source {
        id: row.try_get("id")?,
        config: serde_json::from_str(&config).map_err(|e| StoreError::Corrupt(format!("source config: {e}")))?,
        repo: row.try_get("repo")?,
        interval_secs: row.try_get::<i64, _>("interval_secs")?.max(0) as u64,
        api: row.try_get("api")?,
        created_at: time(row.try_get("created_at")?)?,
        last_sync_at: row.try_get::<Option<i64>, _>("last_sync_at")?.map(time).transpose()?,
        last_error: row.try_get("last_error")?,
        seen: row.try_get("seen")?,
        created: row.try_get("created")?,
        webhook: match row.try_get::<bool, _>("hook")? {
            false => None,
            true => Some(Webhook {
                url: bosun_core::source::webhook_path(row.try_get("id")?),
                secret_env: row.try_get("hook_secret_env")?,
                token_received: row.try_get("token_received")?,
                last_delivery_at: row.try_get::<Option<i64>, _>("last_hook_at")?.map(time).transpose()?,
            }),
        },
    })
}

fn link_from_row(row: &SqliteRow) -> Result<Link> {
    Ok(Link {
        task_id: row.try_get("task_id")?,
        source_id: row.try_get("source_id")?,
        external_id: row.try_get("external_id")?,
        url: row.try_get("url")?,
        reference: row.try_get("reference")?,
        written: Written { state: row.try_get("written_state")?, at: time(row.try_get("written_at")?)? },
        comment_cursor: row.try_get("comment_cursor")?,
        status_comment: row.try_get("status_comment")?,
    })
}

/// Queues what task `id`'s item should now show, inside the transition's transaction,
/// when the task came from a source and the phase changed.
pub(super) async fn queue_write_in(
    tx: &mut sqlx::SqliteConnection,
    id: TaskId,
    from: TaskStatus,
    to: TaskStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(phase) = Phase::of(to) else { return Ok(()) };
    if Phase::of(from) == Some(phase) {
        return Ok(());
    }
    queue_phase_in(tx, id, phase, now).await
}

/// Queues a write of `phase` to task `id`'s item (if it has one), inside the caller's transaction.
pub(super) async fn queue_phase_in(tx: &mut sqlx::SqliteConnection, id: TaskId, phase: Phase, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO source_writes (task_id, phase, created_at, next_at)
         SELECT task_id, ?, ?, ? FROM external_links WHERE task_id = ?",
    )
    .bind(phase.as_str())
    .bind(ms(now))
    .bind(ms(now))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[async_trait]
impl SourceStore for SqliteStore {
    async fn add_source(&self, new: NewSource, now: DateTime<Utc>) -> Result<Source> {
        let config = serde_json::to_string(&new.config).expect("a source config serializes");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sources (kind, config, repo, interval_secs, api, created_at, hook, hook_secret_env) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.config.kind().as_str())
        .bind(config)
        .bind(&new.repo)
        .bind(i64::try_from(new.interval_secs).unwrap_or(i64::MAX))
        .bind(&new.api)
        .bind(ms(now))
        .bind(new.webhook.is_some())
        .bind(new.webhook.flatten())
        .fetch_one(&self.pool)
        .await?;
        self.source(id).await
    }

    async fn sources(&self) -> Result<Vec<Source>> {
        let rows = sqlx::query(&format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE removed_at IS NULL ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(source_from_row).collect()
    }

    async fn source(&self, id: i64) -> Result<Source> {
        let row = sqlx::query(&format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE id = ? AND removed_at IS NULL"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::SourceNotFound(id))?;
        source_from_row(&row)
    }

    async fn hook_token(&self, id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT hook_token FROM sources WHERE id = ? AND removed_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::SourceNotFound(id))?)
    }

    async fn set_hook_token(&self, id: i64, token: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE sources SET hook_token = ? WHERE id = ? AND removed_at IS NULL AND hook = 1 AND last_hook_at IS NULL")
                .bind(token)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_hook(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sources SET last_hook_at = ? WHERE id = ?").bind(ms(now)).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn remove_source(&self, id: i64, now: DateTime<Utc>) -> Result<Source> {
        let source = self.source(id).await?;
        sqlx::query("UPDATE sources SET removed_at = ? WHERE id = ? AND removed_at IS NULL")
            .bind(ms(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(source)
    }

    async fn sync_mark(&self, id: i64) -> Result<SyncMark> {
        let row: Option<(Option<String>, String)> =
            sqlx::query_as("SELECT cursor, state FROM sources WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        let (cursor, state) = row.ok_or(StoreError::SourceNotFound(id))?;
        let state = serde_json::from_str(&state).map_err(|e| StoreError::Corrupt(format!("source state: {e}")))?;
        Ok(SyncMark { cursor, state })
    }

    async fn record_sync(&self, id: i64, mark: Option<&SyncMark>, seen: i64, error: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE sources SET cursor = CASE WHEN ?1 THEN ?2 ELSE cursor END, state = CASE WHEN ?1 THEN ?3 ELSE state END,
               seen = seen + ?4, last_error = ?5, last_sync_at = ?6
             WHERE id = ?7",
        )
        .bind(mark.is_some())
        .bind(mark.and_then(|m| m.cursor.clone()))
        .bind(mark.map(|m| m.state.to_string()))
        .bind(seen)
        .bind(error)
        .bind(ms(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn linked(&self, source_id: i64, external_id: &str) -> Result<Option<TaskId>> {
        Ok(sqlx::query_scalar("SELECT task_id FROM external_links WHERE source_id = ? AND external_id = ?")
            .bind(source_id)
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn create_linked(&self, task: TaskRecord, link: NewLink, now: DateTime<Utc>) -> Result<Linked> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let existing: Option<TaskId> = sqlx::query_scalar("SELECT task_id FROM external_links WHERE source_id = ? AND external_id = ?")
            .bind(link.source_id)
            .bind(&link.external_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(id) = existing {
            return Ok(Linked::Exists(id));
        }
        let id = insert_task(&mut tx, &task, now).await?;
        sqlx::query(&format!("INSERT INTO external_links ({LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)"))
            .bind(id)
            .bind(link.source_id)
            .bind(&link.external_id)
            .bind(&link.url)
            .bind(&link.reference)
            .bind(&link.written.state)
            .bind(ms(link.written.at))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO source_writes (task_id, phase, created_at, next_at) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(Phase::InProgress.as_str())
            .bind(ms(now))
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE sources SET created = created + 1 WHERE id = ?").bind(link.source_id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.changed(id);
        Ok(Linked::Created(Box::new(self.get_task(id).await?)))
    }

    async fn link(&self, task: TaskId) -> Result<Option<Link>> {
        let row = sqlx::query(&format!("SELECT {LINK_COLUMNS} FROM external_links WHERE task_id = ?"))
            .bind(task)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    async fn open_links(&self, source_id: i64) -> Result<Vec<(Link, Task)>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM external_links
             WHERE source_id = ? AND task_id IN (SELECT id FROM tasks WHERE status IN ('queued', 'blocked', 'running', 'needs_input', 'review'))
             ORDER BY task_id"
        ))
        .bind(source_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let link = link_from_row(row)?;
            match self.get_task(link.task_id).await {
                Ok(task) => out.push((link, task)),
                Err(StoreError::TaskNotFound(_)) => {} // removed with `rm` meanwhile
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn set_written(&self, task: TaskId, written: &Written) -> Result<()> {
        sqlx::query("UPDATE external_links SET written_state = ?, written_at = ? WHERE task_id = ?")
            .bind(&written.state)
            .bind(ms(written.at))
            .bind(task)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_comment_cursor(&self, task: TaskId, cursor: &str) -> Result<()> {
        sqlx::query("UPDATE external_links SET comment_cursor = ? WHERE task_id = ?").bind(cursor).bind(task).execute(&self.pool).await?;
        Ok(())
    }

    async fn set_status_comment(&self, task: TaskId, id: &str) -> Result<()> {
        sqlx::query("UPDATE external_links SET status_comment = ? WHERE task_id = ?").bind(id).bind(task).execute(&self.pool).await?;
        Ok(())
    }

    async fn due_writes(&self, now: DateTime<Utc>) -> Result<Vec<SourceWrite>> {
        let rows: Vec<(i64, TaskId, i64, String, i64)> = sqlx::query_as(
            "SELECT w.id, w.task_id, l.source_id, w.phase, w.attempts FROM source_writes w JOIN external_links l ON l.task_id = w.task_id
             WHERE w.done_at IS NULL AND w.next_at <= ? ORDER BY w.id",
        )
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, task_id, source_id, phase, attempts)| {
                let phase = Phase::parse(&phase).ok_or_else(|| StoreError::Corrupt(format!("source write phase {phase:?}")))?;
                Ok(SourceWrite { id, task_id, source_id, phase, attempts: attempts.max(0) as u32 })
            })
            .collect()
    }

    async fn next_write_at(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<i64> =
            sqlx::query_scalar("SELECT MIN(next_at) FROM source_writes WHERE done_at IS NULL").fetch_one(&self.pool).await?;
        next.map(time).transpose()
    }

    async fn finish_write(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE source_writes SET done_at = ? WHERE id = ?").bind(ms(now)).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn retry_write(&self, id: i64, error: &str, next_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<()> {
        // Given up: done, with its error kept.
        sqlx::query(
            "UPDATE source_writes SET attempts = attempts + 1, last_error = ?, next_at = COALESCE(?, next_at),
               done_at = CASE WHEN ? IS NULL THEN ? ELSE NULL END
             WHERE id = ?",
        )
        .bind(error)
        .bind(next_at.map(ms))
        .bind(next_at.map(ms))
        .bind(ms(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
