//! The ledger and budget queries of [`SqliteStore`]: a usage event's ledger row
//! (written by `append_events` in its transaction), budget states (read inside
//! `start_run_with`'s write transaction, so concurrent starts see each other's
//! reservations), and the cost totals.

use async_trait::async_trait;
use bosun_core::budget::{Budget, BudgetState, Charge, Scope};
use bosun_core::task::{RunId, TaskId};
use bosun_core::{NewEvent, Usage};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::SqliteStore;
use super::rows::ms;
use crate::Result;
use crate::ledger::{CostBy, CostRow, LedgerStore};

/// Writes a charged usage event's ledger row; false if the row was there already (the
/// same report replayed after a crash), which then counts nothing more.
pub(super) async fn charge_in(conn: &mut SqliteConnection, ev: &NewEvent, charge: &Charge, usage: &Usage, seq: i64) -> Result<bool> {
    // Spool lines are 0 and up; without one the event's seq, negated, cannot meet them.
    let line = charge.line.map(|l| l as i64).unwrap_or(-seq);
    let done = sqlx::query(
        "INSERT OR IGNORE INTO ledger (run_id, line, task_id, profile, repo, model, ts, input_tokens, output_tokens, cached_tokens,
         reported_usd, priced_usd, cost_usd, counted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ev.run_id)
    .bind(line)
    .bind(ev.task_id)
    .bind(&charge.profile)
    .bind(&charge.repo)
    .bind(&charge.model)
    .bind(ms(ev.ts))
    .bind(usage.input_tokens as i64)
    .bind(usage.output_tokens as i64)
    .bind(usage.cached_tokens as i64)
    .bind(charge.reported_usd)
    .bind(charge.priced_usd)
    .bind(usage.cost_usd.unwrap_or(0.0))
    .bind(charge.counted)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn push_scope(q: &mut QueryBuilder<'_, Sqlite>, table: &str, scope: &Scope) {
    match scope {
        Scope::All => q.push(" 1=1"),
        Scope::Profile(p) => q.push(format!(" {table}.profile = ")).push_bind(p.clone()),
        Scope::Repo(r) => q.push(format!(" {table}.repo = ")).push_bind(r.clone()),
        Scope::Task(t) => q.push(format!(" {table}.task_id = ")).push_bind(*t),
    };
}

/// Each budget's spend and live reservations, read on `conn` (inside a transaction,
/// what it sees is what it decides on).
pub(super) async fn states_in(conn: &mut SqliteConnection, budgets: &[Budget]) -> Result<Vec<BudgetState>> {
    let mut states = Vec::with_capacity(budgets.len());
    for b in budgets {
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT COALESCE(SUM(l.cost_usd), 0.0) FROM ledger l WHERE");
        push_scope(&mut q, "l", &b.scope);
        q.push(" AND l.ts >= ").push_bind(b.since.map(ms).unwrap_or(i64::MIN));
        let spent: f64 = q.build_query_scalar().fetch_one(&mut *conn).await?;
        let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT COALESCE(SUM(MAX(0.0, r.amount_usd - COALESCE((SELECT SUM(s.cost_usd) FROM ledger s WHERE s.run_id = r.run_id), 0.0))), 0.0)
             FROM reservations r JOIN runs ON runs.id = r.run_id
             WHERE runs.status IN ('starting', 'running', 'needs_input') AND",
        );
        push_scope(&mut q, "r", &b.scope);
        let reserved: f64 = q.build_query_scalar().fetch_one(&mut *conn).await?;
        states.push(BudgetState { budget: b.clone(), spent, reserved });
    }
    Ok(states)
}

/// Takes a run's reservation if it fits every budget; the first that it does not fit
/// is the error (nothing written: the caller's transaction rolls back).
pub(super) async fn reserve_in(
    conn: &mut SqliteConnection,
    run_id: RunId,
    task_id: TaskId,
    profile: &str,
    amount: f64,
    budgets: &[Budget],
    now: DateTime<Utc>,
) -> Result<()> {
    for state in states_in(conn, budgets).await? {
        if !state.fits(amount) {
            return Err(crate::StoreError::OverBudget(Box::new(state)));
        }
    }
    sqlx::query(
        "INSERT INTO reservations (run_id, task_id, profile, repo, amount_usd, created_at)
         SELECT ?, ?, ?, repo, ?, ? FROM tasks WHERE id = ?",
    )
    .bind(run_id)
    .bind(task_id)
    .bind(profile)
    .bind(amount)
    .bind(ms(now))
    .bind(task_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn budget_states(&self, budgets: &[Budget]) -> Result<Vec<BudgetState>> {
        let mut conn = self.pool.acquire().await?;
        states_in(&mut conn, budgets).await
    }

    async fn task_spent(&self, task_id: TaskId) -> Result<f64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(SUM(cost_usd), 0.0) FROM ledger WHERE task_id = ?")
            .bind(task_id)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn costs(&self, by: CostBy, since: Option<DateTime<Utc>>) -> Result<Vec<CostRow>> {
        let key = match by {
            CostBy::Task => "CAST(task_id AS TEXT)",
            CostBy::Profile => "profile",
            CostBy::Repo => "repo",
            CostBy::Model => "model",
            CostBy::Day => "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')",
            CostBy::Month => "strftime('%Y-%m', ts / 1000, 'unixepoch')",
        };
        let order = match by {
            CostBy::Day | CostBy::Month => "key",
            CostBy::Task => "MIN(task_id)",
            _ => "cost DESC, key",
        };
        let rows = sqlx::query(&format!(
            "SELECT {key} AS key, TOTAL(cost_usd) AS cost, SUM(input_tokens) AS input, SUM(output_tokens) AS output,
             SUM(cached_tokens) AS cached, COUNT(*) AS reports FROM ledger WHERE ts >= ? GROUP BY {key} ORDER BY {order}"
        ))
        .bind(since.map(ms).unwrap_or(i64::MIN))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CostRow {
                    key: r.try_get("key")?,
                    cost_usd: r.try_get("cost")?,
                    input_tokens: r.try_get::<i64, _>("input")? as u64,
                    output_tokens: r.try_get::<i64, _>("output")? as u64,
                    cached_tokens: r.try_get::<i64, _>("cached")? as u64,
                    reports: r.try_get::<i64, _>("reports")? as u64,
                })
            })
            .collect()
    }

    async fn set_task_budget(&self, task_id: TaskId, budget: Option<f64>, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query("UPDATE tasks SET budget_usd = ?, updated_at = ? WHERE id = ?")
            .bind(budget)
            .bind(ms(now))
            .bind(task_id)
            .execute(&self.pool)
            .await?;
        self.wrote_task(task_id, done)
    }
}
