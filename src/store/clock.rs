//! Clocks as values, so tests can run a store or a worker pool on a clock they control.

use std::sync::Arc;

use super::Millis;

/// A source of "now" in Unix milliseconds.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// This process's wall clock.
pub fn system_clock() -> Clock {
    Arc::new(system_now)
}

/// This process's wall clock, now.
pub fn system_now() -> Millis {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The wall clock shifted by `offset_ms` (tests of clock skew).
pub fn skewed_clock(offset_ms: Millis) -> Clock {
    Arc::new(move || system_now() + offset_ms)
}
