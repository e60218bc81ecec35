//! A run's usage: token counts and money, summed over its `usage` events with
//! saturation, and the bounds past which one report is not believed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Token counts and money spent. Summed over a run's `usage` events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    /// US dollars, when known.
    pub cost_usd: Option<f64>,
}

/// The most tokens one usage report may count: more is a broken or hostile agent.
pub const MAX_REPORTED_TOKENS: u64 = 1_000_000_000_000;
/// The most dollars one usage report may cost.
pub const MAX_REPORTED_COST: f64 = 1_000_000.0;

impl Usage {
    /// Whether one report is believable: tokens at most [`MAX_REPORTED_TOKENS`] each, a
    /// cost that is a number from 0 to [`MAX_REPORTED_COST`]. Err says why not.
    pub fn check(&self) -> Result<(), String> {
        for (what, n) in [("input", self.input_tokens), ("output", self.output_tokens), ("cached", self.cached_tokens)] {
            if n > MAX_REPORTED_TOKENS {
                return Err(format!("{n} {what} tokens is more than one report can count ({MAX_REPORTED_TOKENS})"));
            }
        }
        match self.cost_usd {
            Some(c) if !c.is_finite() || !(0.0..=MAX_REPORTED_COST).contains(&c) => {
                Err(format!("a cost of {c} dollars is not between 0 and {MAX_REPORTED_COST}"))
            }
            _ => Ok(()),
        }
    }

    pub fn add(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cached_tokens = self.cached_tokens.saturating_add(other.cached_tokens);
        self.cost_usd = match (self.cost_usd, other.cost_usd) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
    }

    pub fn is_zero(&self) -> bool {
        *self == Usage::default()
    }
}

#[cfg(test)]
mod usage_tests {
    use super::Usage;

    #[test]
    fn absurd_usage_reports_are_refused_and_sums_saturate() {
        let u = |input_tokens, cost_usd| Usage { input_tokens, output_tokens: 1, cached_tokens: 0, cost_usd };
        assert!(u(1_000_000_000_000, Some(1_000_000.0)).check().is_ok());
        assert!(u(1_000_000_000_001, None).check().unwrap_err().contains("input tokens"));
        assert!(u(u64::MAX, None).check().is_err());
        for bad in [f64::INFINITY, f64::NAN, -0.01, 1e308] {
            assert!(u(1, Some(bad)).check().is_err(), "{bad}");
        }
        let mut total = u(u64::MAX - 1, None);
        total.add(&u(5, None));
        assert_eq!(total.input_tokens, u64::MAX, "no wrap");
    }
}
