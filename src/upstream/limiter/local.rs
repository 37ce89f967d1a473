//! The in-process half of the limiter: what this replica learned from Redis (the store clock's
//! offset, a lower bound of the account's next free slot) and, for the memory store, the
//! limiter itself: a `governor` pacer (burst 1) and the pause.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::super::adaptive::{self, PauseRequest};
use crate::store::Millis;

/// Local state of one account.
pub(super) struct LocalGate {
    /// The memory store's limiter: one call per interval, burst 1. Unused with Redis.
    pacer: DefaultDirectRateLimiter,
    /// Store clock minus this machine's clock, from the last Redis answer (0 for memory).
    offset_ms: AtomicI64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// No call can be granted before this (store clock): a pause, our own last slot plus an
    /// interval, or the horizon Redis last reported as busy. The shared `tat` only moves
    /// forward, so this is a safe lower bound of it.
    blocked_until: Millis,
    /// The end of the current pause (store clock), for the gauge.
    paused_until: Millis,
    /// Recent 429s without hints (memory store only; Redis keeps its own).
    strikes: u32,
    strike_at: Millis,
}

/// What the pacer says about a call now.
pub(super) enum Pace {
    Go,
    /// The next local slot is this far away.
    Wait(Duration),
}

impl LocalGate {
    pub fn new(interval: Duration) -> Self {
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Self { pacer: RateLimiter::direct(quota), offset_ms: AtomicI64::new(0), state: Mutex::new(State::default()) }
    }

    /// The store's clock as best known here.
    pub fn store_now(&self) -> Millis {
        system_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Remembers the store's clock as read by Redis just now.
    pub fn learn_clock(&self, store_now: Millis) {
        self.offset_ms.store(store_now - system_now_ms(), Ordering::Relaxed);
    }

    /// Takes a local slot if one is free now.
    pub fn pace(&self) -> Pace {
        match self.pacer.check() {
            Ok(()) => Pace::Go,
            Err(not_until) => Pace::Wait(not_until.wait_time_from(DefaultClock::default().now())),
        }
    }

    /// Waits for the next local slot (memory store), at most `max`; false when it did not come.
    pub async fn wait_for_slot(&self, max: Duration) -> bool {
        tokio::time::timeout(max, self.pacer.until_ready()).await.is_ok()
    }

    /// When nothing can be granted before, if that is later than `now`.
    pub fn blocked_until(&self, now: Millis) -> Option<Millis> {
        let until = self.lock().blocked_until;
        (until > now).then_some(until)
    }

    /// Records a lower bound of the next free slot (our own slot + interval, a busy horizon,
    /// a pause); never moves it backwards.
    pub fn block_until(&self, until: Millis) {
        let mut s = self.lock();
        s.blocked_until = s.blocked_until.max(until);
    }

    /// Records a pause (from Redis, or decided here for the memory store). True when this
    /// moved the pause's end forward.
    pub fn paused_until(&self, until: Millis) -> bool {
        let mut s = self.lock();
        s.blocked_until = s.blocked_until.max(until);
        let extended = until > s.paused_until;
        s.paused_until = s.paused_until.max(until);
        extended
    }

    /// The remaining pause, for the gauge.
    pub fn pause_remaining(&self) -> Duration {
        let left = self.lock().paused_until - self.store_now();
        Duration::from_millis(u64::try_from(left).unwrap_or(0))
    }

    /// The memory store's pause: the same arithmetic as `pause.lua`. Returns the end of the
    /// account's pause (≤ now: not paused); the caller records it.
    pub fn pause_end(&self, req: &PauseRequest, jitter: f64) -> Millis {
        let now = self.store_now();
        let mut s = self.lock();
        if req.rejected && now < s.paused_until {
            // Sent before this pause began: the same episode, no new strike (see pause.lua).
            let hints = PauseRequest { rejected: false, ..*req };
            return adaptive::pause_end(now, &hints, s.strikes, jitter).max(s.paused_until);
        }
        if req.rejected {
            if now - s.strike_at > adaptive::millis(adaptive::STRIKE_WINDOW) {
                s.strikes = 0;
            }
            s.strikes = s.strikes.saturating_add(1);
            s.strike_at = now;
        }
        adaptive::pause_end(now, req, s.strikes, jitter).max(s.paused_until)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// This machine's clock in unix ms (the memory store's clock too).
pub(super) fn system_now_ms() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).map(adaptive::millis).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_during_a_pause_add_no_strike_and_the_next_episode_backs_off_further() {
        let gate = LocalGate::new(Duration::from_millis(10));
        let storm = PauseRequest { rejected: true, ..Default::default() };
        let first = gate.pause_end(&storm, 1.0);
        assert!(gate.paused_until(first));
        for _ in 0..10 {
            assert_eq!(gate.pause_end(&storm, 1.0), first, "the calls in flight belong to the same strike");
        }
        // After the pause, a new 429 is the second strike: a longer backoff.
        gate.lock().paused_until = gate.store_now() - 1;
        let second = gate.pause_end(&storm, 1.0) - gate.store_now();
        let first_len = adaptive::millis(adaptive::backoff(1, 1.0));
        assert!(second > first_len, "second backoff {second} ms after a first of {first_len} ms");
    }
}
