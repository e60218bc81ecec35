//! The credential queries of [`SqliteStore`]: create, find by hash, touch, revoke,
//! list, and the pairing exchange (the code used and its session created in one
//! transaction, so a code is exchanged once however many browsers race for it).

use bosun_core::auth::{CredentialKind, Scope};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use super::rows::{ms, time};
use super::tx::WRITE;
use crate::credentials::{Credential, NewCredential, Pairing, SEEN_EVERY_SECS, SessionFor};
use crate::{Result, StoreError};

const COLUMNS: &str = "id, kind, name, scope, created_at, last_seen_at, expires_at, used_at, revoked_at, user_agent, local";

fn from_row(row: &SqliteRow) -> Result<Credential> {
    let kind: String = row.try_get("kind")?;
    let scope: String = row.try_get("scope")?;
    let opt = |col: &str| -> Result<Option<DateTime<Utc>>> { row.try_get::<Option<i64>, _>(col)?.map(time).transpose() };
    Ok(Credential {
        id: row.try_get("id")?,
        kind: CredentialKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("credential kind {kind}")))?,
        name: row.try_get("name")?,
        scope: scope.parse::<Scope>().map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: time(row.try_get("created_at")?)?,
        last_seen_at: opt("last_seen_at")?,
        expires_at: opt("expires_at")?,
        used_at: opt("used_at")?,
        revoked_at: opt("revoked_at")?,
        user_agent: row.try_get("user_agent")?,
        local: row.try_get("local")?,
    })
}

/// A unique-index violation: a live token already has the name.
fn duplicate(e: sqlx::Error, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::DuplicateName(name.to_string()),
        _ => e.into(),
    }
}

async fn insert(conn: &mut sqlx::SqliteConnection, new: &NewCredential<'_>, now: DateTime<Utc>) -> Result<Credential> {
    let row = sqlx::query(&format!(
        "INSERT INTO credentials (kind, name, scope, hash, created_at, expires_at, user_agent, local, parent_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(new.kind.as_str())
    .bind(new.name)
    .bind(new.scope.as_str())
    .bind(new.hash)
    .bind(ms(now))
    .bind(new.expires_at.map(ms))
    .bind(new.user_agent)
    .bind(new.local)
    .bind(new.parent)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| duplicate(e, new.name))?;
    from_row(&row)
}

impl SqliteStore {
    pub(super) async fn create_credential_in(&self, new: NewCredential<'_>, now: DateTime<Utc>) -> Result<Credential> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        if new.local {
            sqlx::query("UPDATE credentials SET revoked_at = ? WHERE local = 1 AND revoked_at IS NULL")
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        let created = insert(&mut tx, &new, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub(super) async fn credential_by_hash_in(&self, hash: &str) -> Result<Option<Credential>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM credentials WHERE hash = ?")).bind(hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    pub(super) async fn touch_credential_in(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let stale = ms(now) - SEEN_EVERY_SECS * 1000;
        sqlx::query("UPDATE credentials SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)")
            .bind(ms(now))
            .bind(id)
            .bind(stale)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn revoke_credential_in(&self, id: i64, now: DateTime<Utc>) -> Result<(Credential, Vec<i64>)> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let row = sqlx::query(&format!(
            "UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND kind != 'pairing' RETURNING {COLUMNS}"
        ))
        .bind(ms(now))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::CredentialNotFound(id))?;
        // The browser sessions made from it (by pasting it) end with it.
        let sessions: Vec<i64> =
            sqlx::query_scalar("UPDATE credentials SET revoked_at = ? WHERE parent_id = ? AND revoked_at IS NULL RETURNING id")
                .bind(ms(now))
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        // And so do the push subscriptions they made: a revoked phone gets no more pushes.
        sqlx::query(
            "DELETE FROM push_subscriptions WHERE credential_id = ?1
               OR credential_id IN (SELECT id FROM credentials WHERE parent_id = ?1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((from_row(&row)?, sessions))
    }

    pub(super) async fn credentials_in(&self, now: DateTime<Utc>) -> Result<Vec<Credential>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credentials WHERE kind IN ('token', 'session') AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > ?) ORDER BY id"
        ))
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub(super) async fn exchange_pairing_in(&self, code: &str, session: SessionFor<'_>, now: DateTime<Utc>) -> Result<Pairing> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let Some(row) = sqlx::query(&format!("SELECT {COLUMNS} FROM credentials WHERE hash = ? AND kind = 'pairing'"))
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Pairing::Unknown);
        };
        let code = from_row(&row)?;
        if code.revoked_at.is_some() {
            return Ok(Pairing::Unknown);
        }
        if let Some(at) = code.used_at {
            return Ok(Pairing::Used(at));
        }
        if let Some(at) = code.expires_at.filter(|t| *t <= now) {
            return Ok(Pairing::Expired(at));
        }
        sqlx::query("UPDATE credentials SET used_at = ? WHERE id = ?").bind(ms(now)).bind(code.id).execute(&mut *tx).await?;
        let name = if code.name.is_empty() { session.fallback_name } else { &code.name };
        let new = NewCredential {
            kind: CredentialKind::Session,
            name,
            scope: code.scope,
            hash: session.hash,
            expires_at: None,
            user_agent: session.user_agent,
            local: false,
            parent: None,
        };
        let created = insert(&mut tx, &new, now).await?;
        tx.commit().await?;
        Ok(Pairing::Exchanged(created))
    }
}
