//! Replica lifecycle: the one switch that turns readiness off and starts the drain.
//!
//! On SIGTERM the replica first reports not-ready (so the load balancer stops sending), then
//! stops claiming, lets running jobs finish or hands them back, and stops the HTTP server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
}

impl Readiness {
    /// `Ok` while this replica should receive traffic, else why not.
    pub fn check(&self) -> Result<(), String> {
        if self.inner.draining.load(Ordering::Acquire) {
            return Err("shutting down".into());
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

    pub fn is_stopping(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }
}
