//! Slowing down failed authentications, per source address.
//!
//! The choice: a fixed one-minute window per peer IP. After [`FAILURES_PER_MINUTE`] failed
//! authentications in a window, every admin request from that address answers **429** with
//! `Retry-After` (the seconds left in the window) *before its credentials are checked* —
//! otherwise a guess would still be evaluated and the block would not slow guessing at all. A
//! correct token sent from a blocked address therefore waits out the window too; until then,
//! successful authentications are neither counted nor slowed. A request with no credentials at
//! all is not a guess and is not counted (it is still 401 and in the metric). Attempts still
//! being checked count against the budget, so a burst of concurrent guesses cannot all get in
//! before the first of them has failed.
//!
//! Refusing rather than delaying keeps no connection or task open per attempt. The state is in
//! this process: with R replicas an address gets R × the budget, which still caps guessing at a
//! rate nobody can brute-force a token with. The address is the TCP peer (`X-Forwarded-For` is
//! not trusted: a client could send a fresh one each time). The table is bounded: expired
//! windows are swept when it grows past `MAX_ADDRESSES`, and if that is not enough it starts
//! again empty (a flood of distinct addresses then gets a fresh budget, never a block of others).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed authentications an address may make per window before it is refused.
pub const FAILURES_PER_MINUTE: u32 = 10;
/// The window.
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most.
const MAX_ADDRESSES: usize = 10_000;

/// Failed authentications per address in the current window.
pub struct FailedAuths {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
    /// Attempts being checked right now: counted against the budget until they end, so a burst
    /// of concurrent guesses cannot all pass before the first one fails.
    pending: u32,
}

/// One authentication attempt under way from an address, begun by [`FailedAuths::begin`]:
/// [`Attempt::failed`] counts it as a failure; dropping it otherwise (success, a request
/// without credentials, a client that went away) counts nothing.
pub struct Attempt {
    auths: Arc<FailedAuths>,
    ip: IpAddr,
}

impl Attempt {
    /// Counts this attempt as a failed authentication.
    pub fn failed(self, now: Instant) {
        self.auths.end(self.ip, Some(now));
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.auths.end(self.ip, None);
    }
}

impl Default for FailedAuths {
    fn default() -> Self {
        Self::new(FAILURES_PER_MINUTE, WINDOW)
    }
}

impl FailedAuths {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window, windows: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        // A panic while holding the lock leaves a plain map: still usable.
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Begins an attempt from `ip`, or `Err(wait)` while its failures (with the attempts still
    /// under way) have used up the window's budget.
    pub fn begin(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<Attempt, Duration> {
        let mut windows = self.lock();
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&ip) {
            windows.retain(|_, w| w.pending > 0 || now < w.started + self.window);
            if windows.len() >= MAX_ADDRESSES {
                windows.clear();
            }
        }
        let w = windows.entry(ip).or_insert(Window { started: now, failures: 0, pending: 0 });
        if now >= w.started + self.window {
            *w = Window { started: now, failures: 0, pending: w.pending };
        }
        if w.failures.saturating_add(w.pending) >= self.limit {
            return Err((w.started + self.window).saturating_duration_since(now));
        }
        w.pending += 1;
        Ok(Attempt { auths: self.clone(), ip })
    }

    fn end(&self, ip: IpAddr, failed_at: Option<Instant>) {
        let mut windows = self.lock();
        let Some(w) = windows.get_mut(&ip) else { return };
        w.pending = w.pending.saturating_sub(1);
        if let Some(now) = failed_at {
            if now >= w.started + self.window {
                *w = Window { started: now, failures: 0, pending: w.pending };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }
}

/// Whole seconds to put in `Retry-After` (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let auths = Arc::new(FailedAuths::new(3, Duration::from_secs(60)));
        let t0 = Instant::now();
        for _ in 0..3 {
            auths.begin(A, t0).unwrap().failed(t0);
        }
        let later = t0 + Duration::from_secs(20);
        assert_eq!(auths.begin(A, later).err(), Some(Duration::from_secs(40)));
        assert!(auths.begin(B, t0).is_ok(), "another address is not affected");
        let next = t0 + Duration::from_secs(60);
        auths.begin(A, next).unwrap().failed(next);
        assert!(auths.begin(A, next).is_ok(), "a new window starts afresh: one failure of three");
    }

    #[test]
    fn successes_count_nothing_and_concurrent_attempts_hold_their_place_in_the_budget() {
        let auths = Arc::new(FailedAuths::new(3, Duration::from_secs(60)));
        let t0 = Instant::now();
        for _ in 0..10 {
            drop(auths.begin(A, t0).unwrap());
        }
        let in_flight: Vec<_> = (0..3).map(|_| auths.begin(A, t0).unwrap()).collect();
        assert!(auths.begin(A, t0).is_err(), "three guesses under way use the budget up");
        drop(in_flight);
        assert!(auths.begin(A, t0).is_ok(), "they succeeded: the budget is back");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(40_001)), 41);
        assert_eq!(retry_after_secs(Duration::from_secs(40)), 40);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
