//! What a run costs and what it may spend: the usage it is charged (with its ledger
//! entry), the budgets checked at each usage report (a warning at 80 %, the run
//! stopped once one is crossed), and a task whose run's reservation does not fit
//! blocked.

use std::sync::Arc;

use bosun_core::budget::{BudgetState, Charge};
use bosun_core::notify::NotifyKind;
use bosun_core::schedule::Wait;
use bosun_core::{EventKind, Runtime, Task, TaskEvent};

use super::RunCtx;
use crate::Engine;

impl RunCtx<'_> {
    /// The usage the run is charged for an agent's usage report, with its ledger
    /// entry: the tokens as reported, and the cost bosun charges — what a CLI bosun
    /// drives reports of itself (Claude Code, Codex, Gemini), else the price table's
    /// figure for the model the run uses. Whatever cost a `command` or ACP agent
    /// prints is not charged: any program can print any number. None for anything
    /// but usage. `line` is the report's place in the run's output.
    ///
    /// A CLI's own cost stands for its reports since its previous one that had a cost
    /// (Claude Code reports each model response's tokens as it arrives, then the
    /// turn's cost): those were charged at the price table's figure, and this report
    /// is charged what it adds to them. (Across a daemon restart in the middle of a
    /// turn, the next daemon does not know those figures and charges the whole cost:
    /// never less than was spent.)
    pub(super) fn charged(&mut self, event: &EventKind, line: Option<u64>) -> Option<(EventKind, Charge)> {
        let EventKind::Usage { input_tokens, output_tokens, cached_tokens, cost_usd } = *event else { return None };
        let profile = self.profile.as_ref();
        let trusted = profile.is_some_and(|p| matches!(p.runtime, Runtime::ClaudeCode | Runtime::Codex | Runtime::Gemini));
        let model = profile.and_then(|p| p.model.clone());
        let usage = bosun_core::Usage { input_tokens, output_tokens, cached_tokens, cost_usd: None };
        let priced = model.as_deref().and_then(|m| self.engine.prices.cost(m, &usage));
        let reported = cost_usd.filter(|_| trusted);
        let (cost_usd, counted) = match (reported, priced) {
            (Some(r), _) => (Some((r - std::mem::take(&mut self.estimated)).max(0.0)), "reported"),
            (None, Some(p)) => {
                if trusted {
                    self.estimated += p;
                }
                (Some(p), "priced")
            }
            (None, None) => (None, "none"),
        };
        let charge = Charge {
            line,
            profile: self.run.agent.clone(),
            repo: self.task.repo.clone(),
            model,
            reported_usd: reported,
            priced_usd: priced,
            counted,
        };
        Some((EventKind::Usage { input_tokens, output_tokens, cached_tokens, cost_usd }, charge))
    }

    /// After a usage report: warns once per budget at 80 %; a crossed budget is the
    /// reason the run must stop.
    pub(super) async fn check_budgets(&mut self) -> Option<String> {
        if self.budgets.is_empty() {
            return None;
        }
        // The report is stored (its ledger row with it) before it is counted.
        self.engine.hub.flush().await;
        let states = match self.engine.store.ledger().budget_states(&self.budgets).await {
            Ok(states) => states,
            Err(e) => {
                tracing::error!("cannot check the run's budgets: {e}");
                return None;
            }
        };
        for state in &states {
            if state.crossed() {
                return Some(format!(
                    "stopped: {} crossed; `bosun budget raise T-{} <dollars>` lets it continue",
                    state.describe(),
                    self.task.id
                ));
            }
            if state.near() && self.warned.insert(state.budget.name.clone()) {
                let message = format!("80% of {} is spent", state.describe());
                tracing::warn!("{message}");
                self.emit(EventKind::status("budget_warning", message.clone())).await;
                let notify = self.engine.store.notify();
                if let Err(e) = notify.notify_task(self.task.id, NotifyKind::Budget, &message, chrono::Utc::now()).await {
                    tracing::warn!("cannot notify the budget warning: {e}");
                }
            }
        }
        None
    }
}

/// A run whose reservation did not fit (the store's own check, as the run was to
/// start): the task is `blocked`, naming the budget. Its slot is freed without waking
/// the dispatcher (which would try again at once): it is tried at the next look, after
/// a run ends or a budget is raised.
pub(super) async fn wait_for_budget(engine: &Arc<Engine>, task: Task, state: &BudgetState) {
    let wait = Wait::Budget { budget: state.budget.name.clone(), detail: state.describe() };
    // Out of the live runs first: a look at the queue meanwhile sees a queued task (and
    // may try it again), never a blocked one being started.
    engine.live.lock().unwrap().remove(&task.id);
    crate::dispatch::rewait(engine, &task, TaskEvent::Blocked, wait).await;
    engine.run_ended.notify_waiters();
}
