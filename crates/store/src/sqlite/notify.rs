//! The SQLite [`NotifyStore`]: channels, the outbox (written by [`outbox_in`] inside a
//! transition's transaction), deliveries, action links and push subscriptions.

use async_trait::async_trait;
use bosun_core::notify::{AskSummary, ChannelKind, NotifyKind, QuietHours, Subject};
use bosun_core::task::TaskId;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use super::rows::ms;
use super::tx::WRITE;
use crate::notify::{
    ActionLink, Channel, Delivery, LinkRefusal, LinkVerb, NewChannel, Notification, NotifyStore, PushSubscription, Queued,
};
use crate::{Result, StoreError};

const CHANNEL_COLUMNS: &str = "id, kind, name, config, filter, quiet, created_at, last_result, last_at";

fn time(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt(format!("bad timestamp {v}")))
}

fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn channel_from_row(row: &SqliteRow) -> Result<Channel> {
    let kind: String = row.try_get("kind")?;
    let quiet: Option<String> = row.try_get("quiet")?;
    Ok(Channel {
        id: row.try_get("id")?,
        kind: ChannelKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("channel kind {kind:?}")))?,
        name: row.try_get("name")?,
        config: json("channel config", &row.try_get::<String, _>("config")?)?,
        filter: json("channel filter", &row.try_get::<String, _>("filter")?)?,
        quiet: quiet.map(|q| QuietHours::parse(&q).map_err(StoreError::Corrupt)).transpose()?,
        created_at: time(row.try_get("created_at")?)?,
        last_result: row.try_get("last_result")?,
        last_at: row.try_get::<Option<i64>, _>("last_at")?.map(time).transpose()?,
    })
}

fn notification_from_row(row: &SqliteRow) -> Result<Notification> {
    let kind: String = row.try_get("kind")?;
    Ok(Notification {
        id: row.try_get("id")?,
        kind: NotifyKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("notification kind {kind:?}")))?,
        subject: json("notification subject", &row.try_get::<String, _>("subject")?)?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

/// Writes the outbox row for a transition of task `id` that notifies as `kind`, inside
/// the transition's transaction (`reason` is why it moved).
pub(super) async fn outbox_in(
    tx: &mut sqlx::SqliteConnection,
    id: TaskId,
    kind: NotifyKind,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (title, repo, agent): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT title, repo, agent FROM tasks WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
    let ask = if kind == NotifyKind::NeedsInput {
        let row: Option<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, tool, command, path FROM approvals WHERE task_id = ? AND status = 'pending' ORDER BY id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        row.map(|(approval_id, tool, command, path)| AskSummary { approval_id, tool, command, path })
    } else {
        None
    };
    let subject = Subject { task_id: id, title, repo, agent, reason: reason.map(str::to_string), ask };
    sqlx::query("INSERT INTO notifications (kind, task_id, subject, created_at) VALUES (?, ?, ?, ?)")
        .bind(kind.as_str())
        .bind(id)
        .bind(serde_json::to_string(&subject).expect("subjects serialize"))
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Whether an approval is still waiting for its answer.
async fn pending(tx: &mut sqlx::SqliteConnection, approval_id: i64) -> Result<bool> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM approvals WHERE id = ?").bind(approval_id).fetch_optional(tx).await?;
    Ok(status.as_deref() == Some("pending"))
}

/// Reads the link with `hash` and says whether it can still be used.
async fn check_link(
    tx: &mut sqlx::SqliteConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<std::result::Result<ActionLink, LinkRefusal>> {
    let row = sqlx::query(
        "SELECT l.approval_id, a.task_id, l.verb, l.channel, l.expires_at, l.used_at FROM action_links l
         JOIN approvals a ON a.id = l.approval_id WHERE l.hash = ?",
    )
    .bind(hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(Err(LinkRefusal::Unknown)) };
    let verb: String = row.try_get("verb")?;
    let link = ActionLink {
        approval_id: row.try_get("approval_id")?,
        task_id: row.try_get("task_id")?,
        verb: if verb == "approve" { LinkVerb::Approve } else { LinkVerb::Deny },
        channel: row.try_get("channel")?,
        expires_at: time(row.try_get("expires_at")?)?,
        used_at: row.try_get::<Option<i64>, _>("used_at")?.map(time).transpose()?,
    };
    // An answered ask says so, whichever way it was answered (this link, its other
    // button, the board, the CLI): the other button's link is not "used".
    if !pending(tx, link.approval_id).await? {
        return Ok(Err(LinkRefusal::Answered));
    }
    if link.used_at.is_some() {
        return Ok(Err(LinkRefusal::Used));
    }
    if link.expires_at <= now {
        return Ok(Err(LinkRefusal::Expired));
    }
    Ok(Ok(link))
}

#[async_trait]
impl NotifyStore for SqliteStore {
    async fn notify_task(&self, task_id: TaskId, kind: NotifyKind, reason: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        outbox_in(&mut tx, task_id, kind, Some(reason), now).await?;
        tx.commit().await?;
        self.changed(task_id);
        Ok(())
    }

    async fn add_channel(&self, c: NewChannel, now: DateTime<Utc>) -> Result<Channel> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO channels (kind, name, config, filter, quiet, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(c.kind.as_str())
        .bind(&c.name)
        .bind(c.config.to_string())
        .bind(serde_json::to_string(&c.filter).expect("filters serialize"))
        .bind(c.quiet.map(|q| q.to_string()))
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        let row = sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?")).bind(id).fetch_one(&self.pool).await?;
        channel_from_row(&row)
    }

    async fn channels(&self) -> Result<Vec<Channel>> {
        let rows = sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(channel_from_row).collect()
    }

    async fn delete_channel(&self, id: i64) -> Result<Channel> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let row = sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::ChannelNotFound(id))?;
        sqlx::query("DELETE FROM notification_queue WHERE channel_id = ?").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM deliveries WHERE channel_id = ?").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM channels WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        channel_from_row(&row)
    }

    async fn set_channel_result(&self, id: i64, result: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE channels SET last_result = ?, last_at = ? WHERE id = ?")
            .bind(result)
            .bind(ms(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn fan_out(&self) -> Result<usize> {
        // Most writes notify no one: a read first, so they do not take the write lock.
        let new: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM notifications WHERE fanned_out = 0)").fetch_one(&self.pool).await?;
        if !new {
            return Ok(0);
        }
        let mut tx = self.pool.begin_with(WRITE).await?;
        let rows = sqlx::query("SELECT id, kind, subject, created_at FROM notifications WHERE fanned_out = 0 ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let channels = sqlx::query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels")).fetch_all(&mut *tx).await?;
        let channels = channels.iter().map(channel_from_row).collect::<Result<Vec<_>>>()?;
        let mut queued = 0;
        for row in &rows {
            let n = notification_from_row(row)?;
            for c in channels.iter().filter(|c| c.filter.matches(n.kind, &n.subject)) {
                sqlx::query("INSERT OR IGNORE INTO notification_queue (notification_id, channel_id) VALUES (?, ?)")
                    .bind(n.id)
                    .bind(c.id)
                    .execute(&mut *tx)
                    .await?;
                queued += 1;
            }
            sqlx::query("UPDATE notifications SET fanned_out = 1 WHERE id = ?").bind(n.id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    async fn queued(&self) -> Result<Vec<Queued>> {
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT q.channel_id, q.notification_id, n.kind, n.created_at FROM notification_queue q
             JOIN notifications n ON n.id = q.notification_id WHERE q.delivery_id IS NULL ORDER BY q.notification_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(channel_id, notification_id, kind, at)| {
                let kind = NotifyKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("notification kind {kind:?}")))?;
                Ok(Queued { channel_id, notification_id, kind, created_at: time(at)? })
            })
            .collect()
    }

    async fn create_delivery(&self, channel_id: i64, notifications: &[i64], now: DateTime<Utc>) -> Result<Option<i64>> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deliveries (channel_id, state, next_attempt_at, created_at) VALUES (?, 'pending', ?, ?) RETURNING id",
        )
        .bind(channel_id)
        .bind(ms(now))
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let mut taken = 0;
        for n in notifications {
            let done = sqlx::query(
                "UPDATE notification_queue SET delivery_id = ? WHERE notification_id = ? AND channel_id = ? AND delivery_id IS NULL",
            )
            .bind(id)
            .bind(n)
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
            taken += done.rows_affected();
        }
        if taken == 0 {
            return Ok(None); // dropping the transaction rolls the delivery back
        }
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn due_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "SELECT d.id AS delivery_id, d.attempts, {} FROM deliveries d JOIN channels c ON c.id = d.channel_id
             WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id",
            CHANNEL_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("delivery_id")?;
            let items = sqlx::query(
                "SELECT n.id, n.kind, n.subject, n.created_at FROM notification_queue q JOIN notifications n ON n.id = q.notification_id
                 WHERE q.delivery_id = ? ORDER BY n.id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            out.push(Delivery {
                id,
                channel: channel_from_row(row)?,
                items: items.iter().map(notification_from_row).collect::<Result<_>>()?,
                attempts: row.try_get::<i64, _>("attempts")? as u32,
            });
        }
        Ok(out)
    }

    async fn claim_delivery(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE deliveries SET state = 'sending' WHERE id = ? AND state = 'pending' AND next_attempt_at <= ?")
            .bind(id)
            .bind(ms(now))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_claims(&self) -> Result<u64> {
        Ok(sqlx::query("UPDATE deliveries SET state = 'pending' WHERE state = 'sending'").execute(&self.pool).await?.rows_affected())
    }

    async fn next_attempt(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'").fetch_one(&self.pool).await?;
        at.map(time).transpose()
    }

    async fn delivery_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        sqlx::query(
            "UPDATE deliveries SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ? AND state = 'sending'",
        )
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE channels SET last_result = 'ok', last_at = ? WHERE id = (SELECT channel_id FROM deliveries WHERE id = ?)")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delivery_skipped(&self, id: i64, why: &str) -> Result<()> {
        sqlx::query("UPDATE deliveries SET state = 'skipped', last_error = ? WHERE id = ? AND state = 'sending'")
            .bind(why)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delivery_failed(&self, id: i64, error: &str, retry_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        sqlx::query(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, state = ?, next_attempt_at = COALESCE(?, next_attempt_at)
             WHERE id = ? AND state = 'sending'",
        )
        .bind(error)
        .bind(if retry_at.is_some() { "pending" } else { "failed" })
        .bind(retry_at.map(ms))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE channels SET last_result = ?, last_at = ? WHERE id = (SELECT channel_id FROM deliveries WHERE id = ?)")
            .bind(format!("failed: {error}"))
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let mut gone = 0;
        for sql in [
            "DELETE FROM action_links WHERE expires_at < ?1",
            "DELETE FROM notification_queue WHERE delivery_id IN
                 (SELECT id FROM deliveries WHERE state IN ('sent', 'skipped', 'failed') AND created_at < ?1)",
            "DELETE FROM deliveries WHERE state IN ('sent', 'skipped', 'failed') AND created_at < ?1",
            "DELETE FROM notifications WHERE fanned_out = 1 AND created_at < ?1
                 AND NOT EXISTS (SELECT 1 FROM notification_queue q WHERE q.notification_id = notifications.id)",
        ] {
            gone += sqlx::query(sql).bind(ms(before)).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(gone)
    }

    async fn add_action_link(
        &self,
        hash: &[u8],
        approval_id: i64,
        verb: LinkVerb,
        channel: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO action_links (hash, approval_id, verb, channel, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(hash)
        .bind(approval_id)
        .bind(verb.as_str())
        .bind(channel)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn action_link(&self, hash: &[u8], now: DateTime<Utc>) -> Result<std::result::Result<ActionLink, LinkRefusal>> {
        let mut conn = self.pool.acquire().await?;
        check_link(&mut conn, hash, now).await
    }

    async fn use_action_link(&self, hash: &[u8], now: DateTime<Utc>) -> Result<std::result::Result<ActionLink, LinkRefusal>> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let link = match check_link(&mut tx, hash, now).await? {
            Ok(link) => link,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let done = sqlx::query("UPDATE action_links SET used_at = ? WHERE hash = ? AND used_at IS NULL")
            .bind(ms(now))
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(Err(LinkRefusal::Used));
        }
        // Every other link for the same ask dies with this one: one ask, one answer.
        sqlx::query("UPDATE action_links SET used_at = ? WHERE approval_id = ? AND used_at IS NULL")
            .bind(ms(now))
            .bind(link.approval_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(link))
    }

    async fn add_push_subscription(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        label: Option<&str>,
        credential: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<PushSubscription> {
        sqlx::query(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, label, created_at, credential_id) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, label = excluded.label,
               credential_id = excluded.credential_id",
        )
        .bind(endpoint)
        .bind(p256dh)
        .bind(auth)
        .bind(label)
        .bind(ms(now))
        .bind(credential)
        .execute(&self.pool)
        .await?;
        let subs = self.push_subscriptions().await?;
        subs.into_iter().find(|s| s.endpoint == endpoint).ok_or_else(|| StoreError::Corrupt("subscription vanished".into()))
    }

    async fn push_subscriptions(&self) -> Result<Vec<PushSubscription>> {
        let rows: Vec<(i64, String, String, String, Option<String>, i64)> =
            sqlx::query_as("SELECT id, endpoint, p256dh, auth, label, created_at FROM push_subscriptions ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, endpoint, p256dh, auth, label, at)| {
                Ok(PushSubscription { id, endpoint, p256dh, auth, label, created_at: time(at)? })
            })
            .collect()
    }

    async fn delete_push_subscription(&self, endpoint: &str, owner: Option<i64>) -> Result<bool> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = ?1 AND (?2 IS NULL OR credential_id = ?2)")
            .bind(endpoint)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
