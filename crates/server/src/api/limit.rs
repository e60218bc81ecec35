//! Failed authentication attempts, counted per client address: after
//! [`MAX_FAILURES`] in a [`WINDOW`], further failures from that address are answered
//! 429 until the window ends; a good credential always passes (nobody locks the owner
//! out; 256-bit secrets are not found by guessing). In memory: a restart forgets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per address per window.
pub const MAX_FAILURES: u32 = 10;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once before expired windows are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct Limiter {
    /// A std mutex: held for a map lookup, never across an await.
    failures: Mutex<HashMap<IpAddr, Window>>,
}

struct Window {
    started: Instant,
    count: u32,
}

impl Limiter {
    /// How long `ip` must wait, if it has failed too often.
    pub fn blocked(&self, ip: Option<IpAddr>) -> Option<Duration> {
        let ip = ip?;
        let failures = self.failures.lock().unwrap();
        let w = failures.get(&ip)?;
        let left = WINDOW.checked_sub(w.started.elapsed())?;
        (w.count >= MAX_FAILURES).then_some(left)
    }

    /// Counts a failed attempt from `ip`.
    pub fn failed(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        let mut failures = self.failures.lock().unwrap();
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, w| w.started.elapsed() < WINDOW);
        }
        let w = failures.entry(ip).or_insert(Window { started: Instant::now(), count: 0 });
        if w.started.elapsed() >= WINDOW {
            *w = Window { started: Instant::now(), count: 0 };
        }
        w.count = w.count.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_too_many_failures_and_others_are_not() {
        let limiter = Limiter::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..MAX_FAILURES - 1 {
            limiter.failed(Some(a));
        }
        assert!(limiter.blocked(Some(a)).is_none());
        limiter.failed(Some(a));
        assert!(limiter.blocked(Some(a)).is_some_and(|d| d <= WINDOW));
        assert!(limiter.blocked(Some(b)).is_none());
        assert!(limiter.blocked(None).is_none());
    }
}
