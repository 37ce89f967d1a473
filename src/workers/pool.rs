//! The claim loop. One task per replica claims batches (never more than the free slots), runs
//! each job in its own task under a semaphore of `workers.concurrency` permits, and records a
//! heartbeat that `/readyz` watches. When idle it backs off from 50 ms to 1 s, but wakes at once
//! when this replica enqueues. Store errors are logged and retried with the same back-off, so
//! the workers recover by themselves when Redis comes back.
//!
//! Shutdown: when [`Readiness::stopped`] fires the loop stops claiming, waits up to
//! `workers.drain_secs` for running jobs, then hands the rest back (due now, not charged).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::{Registry, RetryPolicy, run};
use crate::lifecycle::Readiness;
use crate::settings::Settings;
use crate::store::clock::{Clock, system_clock};
use crate::store::{ClaimBatch, JobStore};

/// The idle back-off starts here…
const IDLE_MIN: Duration = Duration::from_millis(50);
/// …and doubles up to this.
const IDLE_MAX: Duration = Duration::from_secs(1);
/// How often the queue depth gauges are refreshed.
const DEPTH_EVERY: Duration = Duration::from_secs(5);
/// The heartbeat may be this much older than a lease before the replica is not ready.
const HEARTBEAT_GRACE: Duration = Duration::from_secs(10);

/// How the pool runs.
#[derive(Clone)]
pub struct PoolConfig {
    pub concurrency: usize,
    pub lease: Duration,
    pub drain: Duration,
    pub retry: RetryPolicy,
    /// This replica's clock. Only differences of it are used (time since the claim, added to
    /// the store's clock at the claim), so a replica whose clock is off still schedules right.
    pub clock: Clock,
}

impl PoolConfig {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            concurrency: settings.workers.concurrency,
            lease: Duration::from_secs(settings.workers.lease_secs),
            drain: Duration::from_secs(settings.workers.drain_secs),
            retry: RetryPolicy::from_settings(&settings.retry),
            clock: system_clock(),
        }
    }
}

/// What every job task shares.
pub(super) struct Shared {
    pub store: Arc<dyn JobStore>,
    pub registry: Registry,
    pub config: PoolConfig,
}

/// A running pool; [`WorkerPool::stopped`] resolves once it has drained after shutdown began.
pub struct WorkerPool {
    task: JoinHandle<()>,
}

impl WorkerPool {
    /// Starts the claim loop, the recurring-job scheduler and the depth gauges. `wake` is
    /// notified when this replica enqueues ([`crate::store::Store::wake`]).
    pub fn start(
        store: Arc<dyn JobStore>,
        wake: Arc<Notify>,
        registry: Registry,
        config: PoolConfig,
        readiness: Readiness,
    ) -> Self {
        readiness.watch_workers(config.lease + HEARTBEAT_GRACE);
        let shared = Arc::new(Shared { store, registry, config });
        tokio::spawn(schedule_recurring_until_done(shared.clone(), readiness.clone()));
        tokio::spawn(refresh_depths(shared.clone(), readiness.clone()));
        Self { task: tokio::spawn(claim_loop(shared, wake, readiness)) }
    }

    /// Waits until the pool has stopped (after [`Readiness::begin_shutdown`]).
    pub async fn stopped(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "worker pool task failed");
        }
    }
}

async fn claim_loop(shared: Arc<Shared>, wake: Arc<Notify>, readiness: Readiness) {
    let slots = Arc::new(Semaphore::new(shared.config.concurrency));
    let mut tasks = JoinSet::new();
    let hand_back = CancellationToken::new();
    let mut idle = IDLE_MIN;
    loop {
        readiness.beat();
        while tasks.try_join_next().is_some() {}
        if readiness.is_stopping() {
            break;
        }
        let free = slots.available_permits();
        if free == 0 {
            // Busy: wait for a job to end, beating the heart at least every second.
            tokio::select! {
                _ = tasks.join_next() => {}
                _ = tokio::time::sleep(IDLE_MAX) => {}
                _ = readiness.stopped() => {}
            }
            continue;
        }
        let Some(batch) = claim(&shared, free).await else {
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = wake.notified() => {}
                _ = readiness.stopped() => {}
            }
            idle = (idle * 2).min(IDLE_MAX);
            continue;
        };
        idle = IDLE_MIN;
        let claim = run::Claim { store_now: batch.now, local_now: (shared.config.clock)() };
        for job in batch.jobs {
            // Only this loop takes permits and it asked for no more jobs than were free.
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                tracing::error!(job = %job.id, "no free slot for a claimed job; its lease will expire");
                continue;
            };
            tasks.spawn(run::run_job(shared.clone(), job, claim, permit, hand_back.clone()));
        }
    }
    drain(tasks, hand_back, shared.config.drain).await;
}

/// One claim of up to `free` jobs; `None` when there is nothing to do or the store failed
/// (logged: the loop backs off and tries again, so workers recover when the store returns).
async fn claim(shared: &Shared, free: usize) -> Option<ClaimBatch> {
    let started = Instant::now();
    let claimed = shared.store.claim(free, shared.config.lease).await;
    metrics::histogram!("cartgate_claim_duration_seconds").record(started.elapsed().as_secs_f64());
    match claimed {
        Ok(batch) if !batch.jobs.is_empty() => Some(batch),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "claiming jobs failed; retrying");
            None
        }
    }
}

/// Waits up to `within` for running jobs, then tells the rest to hand their job back.
async fn drain(mut tasks: JoinSet<()>, hand_back: CancellationToken, within: Duration) {
    tracing::info!(running = tasks.len(), "workers draining");
    let deadline = tokio::time::sleep(within);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            _ = &mut deadline => {
                tracing::warn!(running = tasks.len(), "drain time is up; handing unfinished jobs back");
                hand_back.cancel();
                // Each hand-back is one store call that times out by itself; bound it anyway.
                if tokio::time::timeout(Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} })
                    .await
                    .is_err()
                {
                    tasks.abort_all();
                }
                break;
            }
        }
    }
    tracing::info!("workers stopped");
}

/// Queues the recurring jobs, retrying while the store is unavailable.
async fn schedule_recurring_until_done(shared: Arc<Shared>, readiness: Readiness) {
    let recurring = shared.registry.recurring();
    while !readiness.is_stopping() {
        match super::schedule_recurring(shared.store.as_ref(), &recurring).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "cannot schedule recurring jobs yet; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(DEPTH_EVERY) => {}
            _ = readiness.stopped() => {}
        }
    }
}

/// Keeps `cartgate_queue_depth{state}` current.
async fn refresh_depths(shared: Arc<Shared>, readiness: Readiness) {
    while !readiness.is_stopping() {
        match shared.store.depths().await {
            Ok(d) => {
                for (state, n) in [("due", d.due), ("inflight", d.inflight), ("hold", d.hold), ("dead", d.dead)] {
                    metrics::gauge!("cartgate_queue_depth", "state" => state).set(n as f64);
                }
            }
            Err(e) => tracing::debug!(error = %e, "cannot read queue depths"),
        }
        tokio::select! {
            _ = tokio::time::sleep(DEPTH_EVERY) => {}
            _ = readiness.stopped() => {}
        }
    }
}
