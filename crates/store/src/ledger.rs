//! The cost ledger and budgets ([`LedgerStore`], `Store::ledger`): one row per usage
//! report (written with its event, in `append_events`), totals as queries over the
//! rows, and the spend and reservations each budget counts. Reservations are taken
//! in `start_run_with` (the run's start and its reservation are one transaction) and
//! count only while their run is live.

use async_trait::async_trait;
use bosun_core::budget::{Budget, BudgetState};
pub use bosun_core::budget::{Charge, CostBy, CostRow};
use bosun_core::task::TaskId;
use chrono::{DateTime, Utc};

use crate::Result;

#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Each budget with what is spent (ledger rows in its scope since its start) and
    /// reserved (live runs' reservations less what they spent) against it.
    async fn budget_states(&self, budgets: &[Budget]) -> Result<Vec<BudgetState>>;
    /// What a task's runs have spent.
    async fn task_spent(&self, task_id: TaskId) -> Result<f64>;
    /// Totals from the ledger, by `by`, from `since` on.
    async fn costs(&self, by: CostBy, since: Option<DateTime<Utc>>) -> Result<Vec<CostRow>>;
    /// Sets a task's own budget (`bosun budget raise`).
    async fn set_task_budget(&self, task_id: TaskId, budget: Option<f64>, now: DateTime<Utc>) -> Result<()>;
}
