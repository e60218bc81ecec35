//! `cost` and `budget`: totals from the ledger grouped by task, profile, repo, model,
//! day or month; and each budget's limit, spend, reservations and what remains —
//! the configured ones (`[budget]` in routing.toml) and every unfinished task's own.

use bosun_api::cost::{BudgetLine, BudgetsBody, CostBy, CostsBody};
use bosun_core::TaskStatus;
use bosun_core::budget::{Budget, Scope};
use bosun_store::TaskFilter;
use chrono::{DateTime, Utc};

use crate::profiles::Profiles;
use crate::routing::Rules;
use crate::{Engine, OpError};

impl Engine {
    pub async fn costs(&self, by: CostBy, since: Option<DateTime<Utc>>) -> Result<CostsBody, OpError> {
        let rows = self.store.ledger().costs(by, since).await?;
        let total_usd = rows.iter().map(|r| r.cost_usd).sum();
        Ok(CostsBody { by, since, rows, total_usd })
    }

    pub async fn budgets(&self) -> Result<BudgetsBody, OpError> {
        let profiles = Profiles::load(None, &self.config.user_agents_dir());
        let config = Rules::load(None, &self.config.config_dir, &profiles).budget;
        let mut budgets = config.configured(Utc::now());
        let open = TaskFilter {
            statuses: vec![TaskStatus::Queued, TaskStatus::Blocked, TaskStatus::Running, TaskStatus::NeedsInput, TaskStatus::Triage],
            ..TaskFilter::default()
        };
        for task in self.store.list_tasks(&open).await? {
            if let Some(limit) = task.budget {
                budgets.push(Budget { name: format!("task T-{}", task.id), scope: Scope::Task(task.id), since: None, limit });
            }
        }
        let states = self.store.ledger().budget_states(&budgets).await?;
        let budgets = states.into_iter().map(|state| BudgetLine { remaining: state.remaining(), state }).collect();
        Ok(BudgetsBody { budgets, task_default: config.task.default })
    }
}
