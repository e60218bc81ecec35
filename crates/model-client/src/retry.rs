//! When a failed request is tried again, and after how long.

use std::time::Duration;

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; doubled after each next one.
    pub base: Duration,
    /// No wait is longer, whatever `Retry-After` asks.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { attempts: 3, base: Duration::from_millis(500), max_wait: Duration::from_secs(60) }
    }
}

impl Retry {
    /// The wait after failed attempt `attempt` (from 1) when the API named none.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.base.saturating_mul(1 << attempt.saturating_sub(1).min(10))
    }
}

/// 429 (rate limited), 5xx, and Anthropic's 529 (overloaded) are worth another try.
pub(crate) fn retryable(status: u16) -> bool {
    status == 429 || status == 408 || (500..600).contains(&status)
}

/// A `Retry-After` value: seconds (fractions allowed). An HTTP date is not honoured
/// (None: the backoff applies).
pub fn retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits() {
        let r = Retry::default();
        assert_eq!(
            (r.backoff(1), r.backoff(2), r.backoff(3)),
            (Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2))
        );
        assert_eq!(retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert!(retryable(429) && retryable(500) && retryable(529) && !retryable(400) && !retryable(401));
    }
}
