//! Appending events, in one write transaction per batch: each task's next seq read once
//! per batch, rows inserted in chunks, the runs' spool marks moved, and each usage
//! report added to its run's totals unless the ledger has it already (a report replayed
//! after a crash counts once).

use std::collections::HashMap;

use bosun_core::NewEvent;
use bosun_core::task::{RunId, TaskId};
use sqlx::{QueryBuilder, Sqlite};

use super::rows::ms;
use super::tx::WRITE;
use super::{EVENT_BATCH, SqliteStore, ledger};
use crate::Result;

impl SqliteStore {
    pub(super) async fn append_events_in(&self, events: &[NewEvent], seen: &[(RunId, u64)]) -> Result<Vec<i64>> {
        if events.is_empty() && seen.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin_with(WRITE).await?;
        for (run_id, lines) in seen {
            sqlx::query("UPDATE runs SET output_seen = MAX(output_seen, ?) WHERE id = ?")
                .bind(*lines as i64)
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
        }
        // Each task's next seq, read once per batch inside the write transaction.
        let mut next: HashMap<TaskId, i64> = HashMap::new();
        let mut seqs = Vec::with_capacity(events.len());
        for ev in events {
            let seq = match next.get_mut(&ev.task_id) {
                Some(seq) => seq,
                None => {
                    let last: Option<i64> =
                        sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE task_id = ?").bind(ev.task_id).fetch_one(&mut *tx).await?;
                    next.entry(ev.task_id).or_insert(last.unwrap_or(0))
                }
            };
            *seq += 1;
            seqs.push(*seq);
        }
        for (chunk, chunk_seqs) in events.chunks(EVENT_BATCH).zip(seqs.chunks(EVENT_BATCH)) {
            let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new("INSERT INTO events (task_id, seq, run_id, ts, source, data) ");
            q.push_values(chunk.iter().zip(chunk_seqs), |mut b, (ev, seq)| {
                b.push_bind(ev.task_id)
                    .push_bind(*seq)
                    .push_bind(ev.run_id)
                    .push_bind(ms(ev.ts))
                    .push_bind(ev.source.name())
                    .push_bind(serde_json::to_string(&ev.kind).expect("events serialize"));
            });
            q.build().execute(&mut *tx).await?;
        }
        for (ev, seq) in events.iter().zip(&seqs) {
            if let Some(u) = ev.kind.usage() {
                // A charged report replayed after a crash is in the ledger already: the
                // run's totals took it then.
                if let Some(charge) = &ev.charge
                    && !ledger::charge_in(&mut tx, ev, charge, &u, *seq).await?
                {
                    continue;
                }
                sqlx::query(
                    "UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
                     cached_tokens = cached_tokens + ?,
                     cost_usd = CASE WHEN ? IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + ? END
                     WHERE id = ?",
                )
                .bind(u.input_tokens as i64)
                .bind(u.output_tokens as i64)
                .bind(u.cached_tokens as i64)
                .bind(u.cost_usd)
                .bind(u.cost_usd)
                .bind(ev.run_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        for ev in events.iter().filter(|e| e.kind.usage().is_some()) {
            self.changed(ev.task_id);
        }
        Ok(seqs)
    }
}
