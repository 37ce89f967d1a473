//! Replica lifecycle: the one switch that turns readiness off and starts the drain.
//!
//! On SIGTERM the replica first reports not-ready (so the load balancer stops sending), then
//! stops claiming, lets running jobs finish or hands them back, and stops the HTTP server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Shared between the HTTP server, the workers and the signal handler.
#[derive(Clone, Default)]
pub struct Readiness {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    draining: AtomicBool,
    shutdown: CancellationToken,
    /// Milliseconds since [`EPOCH`] of the claim loop's last heartbeat.
    beat_ms: AtomicU64,
    /// How old the heartbeat may get; 0 while no worker pool runs here.
    stale_after_ms: AtomicU64,
}

/// Why this replica should not receive traffic (or its workers are not healthy).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    #[error("shutting down")]
    ShuttingDown,
    /// The claim loop has not beaten for longer than its stale limit.
    #[error("claim loop stale: last heartbeat {secs} s ago")]
    ClaimLoopStale { secs: u64 },
}

/// Monotonic origin of heartbeats (wall-clock jumps must not make the loop look stale).
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn since_epoch_ms() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Readiness {
    /// `Ok` while this replica should receive traffic, else why not.
    pub fn check(&self) -> Result<(), NotReady> {
        if self.inner.draining.load(Ordering::Acquire) {
            return Err(NotReady::ShuttingDown);
        }
        Ok(())
    }

    /// Starts the shutdown: readiness turns off at once, then everything waiting on
    /// [`Readiness::stopped`] wakes.
    pub fn begin_shutdown(&self) {
        self.inner.draining.store(true, Ordering::Release);
        self.inner.shutdown.cancel();
    }

    /// Resolves when shutdown has begun.
    pub async fn stopped(&self) {
        self.inner.shutdown.cancelled().await
    }

    /// The worker pool runs here: from now on its heartbeat must stay younger than `stale_after`.
    pub fn watch_workers(&self, stale_after: Duration) {
        self.beat();
        let ms = u64::try_from(stale_after.as_millis()).unwrap_or(u64::MAX).max(1);
        self.inner.stale_after_ms.store(ms, Ordering::Release);
    }

    /// The claim loop is alive.
    pub fn beat(&self) {
        self.inner.beat_ms.store(since_epoch_ms(), Ordering::Release);
    }

    /// `Ok("ok")` while the claim loop beats, `Ok("not running")` without workers, else why not.
    pub fn check_workers(&self) -> Result<&'static str, NotReady> {
        let stale_after = self.inner.stale_after_ms.load(Ordering::Acquire);
        if stale_after == 0 {
            return Ok("not running");
        }
        let age = since_epoch_ms().saturating_sub(self.inner.beat_ms.load(Ordering::Acquire));
        if age > stale_after {
            return Err(NotReady::ClaimLoopStale { secs: age / 1000 });
        }
        Ok("ok")
    }

    pub fn is_stopping(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_claim_loop_makes_the_replica_not_ready() {
        let r = Readiness::default();
        assert_eq!(r.check_workers(), Ok("not running"));
        r.watch_workers(Duration::from_millis(20));
        assert_eq!(r.check_workers(), Ok("ok"));
        std::thread::sleep(Duration::from_millis(1_050));
        assert!(r.check_workers().unwrap_err().to_string().starts_with("claim loop stale: last heartbeat 1 s ago"));
        r.beat();
        assert_eq!(r.check_workers(), Ok("ok"));
    }
}
