//! Worker-pool level properties, run against both stores.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cartgate::lifecycle::Readiness;
use cartgate::store::clock::skewed_clock;
use cartgate::store::{ClaimedJob, Depths, JobKind, JobStore, OnExisting, When};
use cartgate::workers::{Handler, Outcome, PoolConfig, Registry, RetryPolicy, WorkerPool};
use tokio::sync::Notify;

use super::queue::job;
use crate::support::Harness;

const HOUR_MS: i64 = 3_600_000;

pub fn config(give_up_after: Duration, clock_offset_ms: i64) -> PoolConfig {
    PoolConfig {
        concurrency: 4,
        lease: Duration::from_secs(2),
        drain: Duration::from_secs(1),
        retry: RetryPolicy { schedule: vec![Duration::from_millis(100)], jitter: 0.0, give_up_after },
        clock: skewed_clock(clock_offset_ms),
    }
}

/// Polls `store` until `done` holds for its depths (at most 15 s).
pub async fn wait_for(store: &dyn JobStore, done: impl Fn(&Depths) -> bool) -> Depths {
    for _ in 0..300 {
        let d = store.depths().await.unwrap();
        if done(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("queue did not settle: {:?}", store.depths().await.unwrap());
}

struct AlwaysFails;

#[async_trait::async_trait]
impl Handler for AlwaysFails {
    async fn handle(&self, _job: &ClaimedJob) -> Outcome {
        Outcome::Retry("upstream answered 503".into())
    }
}

pub async fn give_up_horizon_sends_a_failing_job_to_dead(h: &dyn Harness) {
    let store = h.handle();
    let readiness = Readiness::default();
    let registry = Registry::new().with(JobKind::Noop, AlwaysFails);
    let pool = WorkerPool::start(
        store.clone(),
        Arc::new(Notify::new()),
        registry,
        config(Duration::from_millis(700), 0),
        readiness.clone(),
    );
    store.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    wait_for(store.as_ref(), |d| d.dead == 1).await;
    let letter = store.dead_letters(1).await.unwrap().remove(0);
    assert!(letter.attempts >= 2, "it was retried before giving up: {letter:?}");
    let why = letter.last_error.unwrap_or_default();
    assert!(why.starts_with("gave up after") && why.contains("503"), "{why}");
    readiness.begin_shutdown();
    pool.stopped().await;
}

/// Fails once, then holds briefly, then succeeds.
struct Stages(AtomicUsize);

#[async_trait::async_trait]
impl Handler for Stages {
    async fn handle(&self, job: &ClaimedJob) -> Outcome {
        match self.0.fetch_add(1, Ordering::SeqCst) {
            0 => Outcome::Retry("first try fails".into()),
            1 => Outcome::Hold { until: job.claimed_at + 300, reason: "briefly".into() },
            _ => Outcome::Done,
        }
    }
}

pub async fn pool_with_a_local_clock_hours_off_still_schedules_on_the_store_clock(h: &dyn Harness) {
    for offset in [5 * HOUR_MS, -5 * HOUR_MS] {
        let store = h.handle();
        let readiness = Readiness::default();
        let stages = Arc::new(Stages(AtomicUsize::new(0)));
        let registry = Registry::new().with(JobKind::Noop, SharedHandler(stages.clone()));
        // With a one-hour horizon, a pool trusting its clock 5 h fast would bury at once.
        let pool = WorkerPool::start(
            store.clone(),
            Arc::new(Notify::new()),
            registry,
            config(Duration::from_secs(3600), offset),
            readiness.clone(),
        );
        store.enqueue(&job(offset.unsigned_abs() as usize), When::Now, OnExisting::Keep).await.unwrap();
        let d = wait_for(store.as_ref(), |d| *d == Depths::default() && stages.0.load(Ordering::SeqCst) >= 3).await;
        assert_eq!(d.dead, 0);
        assert_eq!(stages.0.load(Ordering::SeqCst), 3, "retry, hold, done: each once (offset {offset} ms)");
        readiness.begin_shutdown();
        pool.stopped().await;
    }
}

struct SharedHandler(Arc<Stages>);

#[async_trait::async_trait]
impl Handler for SharedHandler {
    async fn handle(&self, job: &ClaimedJob) -> Outcome {
        self.0.handle(job).await
    }
}
