//! The approval and allow-rule queries of [`SqliteStore`]: asks stored and answered
//! (once, an `--always` rule saved in the same transaction), a second ask while the run
//! already waits notified in its own transaction, asks expired with their run, and the
//! saved rules listed and revoked.

use bosun_core::task::{RunId, TaskId};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::rows::{self, APPROVAL_COLUMNS, ms};
use super::tx::WRITE;
use super::{SqliteStore, notify};
use crate::{Approval, ApprovalStatus, NewApproval, NewRule, Result, RuleFilter, SavedRule, StoreError};

/// The columns [`SqliteStore::rule_from_row`] reads.
const RULE_COLUMNS: &str = "id, profile, repo, pattern, approval_id, created_at";

impl SqliteStore {
    async fn approval(&self, id: i64) -> Result<Approval> {
        let row = sqlx::query(&format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?")).bind(id).fetch_one(&self.pool).await?;
        rows::approval_from_row(&row)
    }

    /// A row of [`RULE_COLUMNS`], with the answer that saved it.
    async fn rule_from_row(&self, row: &sqlx::sqlite::SqliteRow) -> Result<SavedRule> {
        let approval: Option<i64> = row.try_get("approval_id")?;
        let repo: String = row.try_get("repo")?;
        let created: i64 = row.try_get("created_at")?;
        Ok(SavedRule {
            id: row.try_get("id")?,
            profile: row.try_get("profile")?,
            repo: Some(repo).filter(|r| !r.is_empty()),
            pattern: row.try_get("pattern")?,
            approval: match approval {
                Some(id) => Some(self.approval(id).await?),
                None => None,
            },
            // 0: saved before bosun recorded when.
            created_at: DateTime::from_timestamp_millis(created).filter(|_| created > 0),
        })
    }

    pub(super) async fn add_approval_in(&self, ask: NewApproval, now: DateTime<Utc>) -> Result<Approval> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO approvals (task_id, run_id, request_id, tool, kind, command, path, input, status, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id",
        )
        .bind(ask.task_id)
        .bind(ask.run_id)
        .bind(&ask.request_id)
        .bind(&ask.tool)
        .bind(ask.kind.map(|k| serde_json::to_value(k).expect("kinds serialize").as_str().unwrap_or_default().to_string()))
        .bind(&ask.command)
        .bind(&ask.path)
        .bind(ask.input.as_ref().map(|v| v.to_string()))
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        // A run that already waits makes no transition for this ask, so its
        // notification is written here (the run's first ask is notified by
        // `set_waiting`'s transition).
        let waiting: Option<i64> = sqlx::query_scalar("SELECT 1 FROM runs WHERE id = ? AND status = 'needs_input'")
            .bind(ask.run_id)
            .fetch_optional(&mut *tx)
            .await?;
        if waiting.is_some() {
            notify::outbox_in(&mut tx, ask.task_id, bosun_core::notify::NotifyKind::NeedsInput, None, now).await?;
        }
        tx.commit().await?;
        if waiting.is_some() {
            self.changed(ask.task_id);
        }
        self.approval(id).await
    }

    pub(super) async fn approvals_in(&self, task_id: Option<TaskId>, pending_only: bool) -> Result<Vec<Approval>> {
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE 1=1"));
        if let Some(t) = task_id {
            q.push(" AND task_id = ").push_bind(t);
        }
        if pending_only {
            q.push(" AND status = 'pending'");
        }
        q.push(" ORDER BY id");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(rows::approval_from_row).collect()
    }

    pub(super) async fn answer_approval_in(
        &self,
        id: i64,
        allow: bool,
        by: &str,
        message: Option<&str>,
        always: Option<NewRule<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Approval> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE approvals SET status = ?, answered_by = ?, message = ?, answered_at = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(if allow { ApprovalStatus::Allowed } else { ApprovalStatus::Denied }.as_str())
        .bind(by)
        .bind(message)
        .bind(ms(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM approvals WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
            return Err(match status.as_deref().and_then(ApprovalStatus::parse) {
                Some(status) => StoreError::AlreadyAnswered { id, status },
                None => StoreError::ApprovalNotFound(id),
            });
        }
        if let Some(rule) = always {
            sqlx::query("INSERT OR IGNORE INTO allow_rules (profile, repo, pattern, approval_id, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(rule.profile)
                .bind(rule.repo.unwrap_or(""))
                .bind(rule.pattern)
                .bind(id)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.approval(id).await
    }

    pub(super) async fn expire_approvals_in(&self, run_id: RunId, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE approvals SET status = 'expired', answered_at = ? WHERE run_id = ? AND status = 'pending'")
            .bind(ms(now))
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn allow_rules_in(&self, profile: &str, repo: Option<&str>) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT pattern FROM allow_rules WHERE profile = ? AND repo = ? ORDER BY pattern")
            .bind(profile)
            .bind(repo.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?)
    }

    pub(super) async fn saved_rules_in(&self, filter: &RuleFilter) -> Result<Vec<SavedRule>> {
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!("SELECT {RULE_COLUMNS} FROM allow_rules WHERE 1=1"));
        if let Some(profile) = &filter.profile {
            q.push(" AND profile = ").push_bind(profile);
        }
        if let Some(repo) = &filter.repo {
            q.push(" AND repo = ").push_bind(repo);
        }
        q.push(" ORDER BY id");
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut rules = Vec::with_capacity(rows.len());
        for row in &rows {
            rules.push(self.rule_from_row(row).await?);
        }
        Ok(rules)
    }

    pub(super) async fn delete_rule_in(&self, id: i64) -> Result<SavedRule> {
        let mut tx = self.pool.begin_with(WRITE).await?;
        let row = sqlx::query(&format!("SELECT {RULE_COLUMNS} FROM allow_rules WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::RuleNotFound(id))?;
        sqlx::query("DELETE FROM allow_rules WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.rule_from_row(&row).await
    }
}
