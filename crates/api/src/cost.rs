//! The cost and budget routes' bodies: `GET /api/costs` (totals from the ledger),
//! `GET /api/budgets` (each budget's limit, spend, reservations, remaining) and
//! `POST /api/tasks/{id}/budget` (raise a task's budget and let it go on).

use bosun_core::Task;
use bosun_core::budget::BudgetState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use bosun_core::budget::{CostBy, CostRow};

/// `GET /api/costs`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CostsBody {
    pub by: CostBy,
    pub since: Option<DateTime<Utc>>,
    pub rows: Vec<CostRow>,
    /// The sum of the rows.
    pub total_usd: f64,
}

/// `GET /api/budgets`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BudgetsBody {
    pub budgets: Vec<BudgetLine>,
    /// `[budget.task] default`: what each task may spend unless it has its own.
    pub task_default: Option<f64>,
}

/// One budget and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BudgetLine {
    #[serde(flatten)]
    pub state: BudgetState,
    pub remaining: f64,
}

/// `POST /api/tasks/{id}/budget`: the task's new budget in dollars (None: keep it),
/// and a task its budget stopped is queued again to continue.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseRequest {
    #[serde(default)]
    pub budget: Option<f64>,
}

/// The answer to a raise: the task as it is now.
pub type RaiseBody = Task;
