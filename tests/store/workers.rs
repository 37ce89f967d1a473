//! The worker pool over the memory store: panics, unknown kinds, lease extension, drain and
//! hand-back, recurring jobs shared by two replicas.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use cartgate::lifecycle::Readiness;
use cartgate::store::clock::system_clock;
use cartgate::store::{ClaimedJob, Depths, JobId, JobKind, JobState, JobStore, MemoryStore, NewJob, OnExisting, When};
use cartgate::workers::{Handler, Outcome, PoolConfig, Recurring, Registry, RetryPolicy, WorkerPool};
use serde_json::json;
use tokio::sync::Notify;

fn config(lease: Duration, drain: Duration) -> PoolConfig {
    PoolConfig {
        concurrency: 4,
        lease,
        drain,
        retry: RetryPolicy {
            schedule: vec![Duration::from_millis(50)],
            jitter: 0.0,
            give_up_after: Duration::from_secs(3600),
        },
        clock: system_clock(),
    }
}

fn noop(n: u32) -> NewJob {
    NewJob { id: JobId::new(JobKind::Noop, &[&n.to_string()]).unwrap(), kind: JobKind::Noop, payload: json!({}) }
}

struct Replica {
    readiness: Readiness,
    pool: WorkerPool,
}

fn start(store: &Arc<dyn JobStore>, registry: Registry, config: PoolConfig) -> Replica {
    let readiness = Readiness::default();
    let pool = WorkerPool::start(store.clone(), Arc::new(Notify::new()), registry, config, readiness.clone());
    Replica { readiness, pool }
}

impl Replica {
    async fn stop(self) {
        self.readiness.begin_shutdown();
        self.pool.stopped().await;
    }
}

async fn settle(store: &Arc<dyn JobStore>, done: impl Fn(&Depths) -> bool) -> Depths {
    for _ in 0..200 {
        let d = store.depths().await.unwrap();
        if done(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("queue did not settle: {:?}", store.depths().await.unwrap());
}

/// Counts runs; behaviour chosen per test.
struct Probe {
    runs: AtomicUsize,
    running: AtomicBool,
    overlapped: AtomicBool,
    behaviour: fn(usize) -> Behaviour,
}

enum Behaviour {
    Panic,
    Sleep(Duration),
    Done,
}

impl Probe {
    fn new(behaviour: fn(usize) -> Behaviour) -> Arc<Self> {
        Arc::new(Self { runs: AtomicUsize::new(0), running: false.into(), overlapped: false.into(), behaviour })
    }
    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

struct ProbeHandler(Arc<Probe>);

#[async_trait::async_trait]
impl Handler for ProbeHandler {
    async fn handle(&self, _job: &ClaimedJob) -> Outcome {
        let p = &self.0;
        if p.running.swap(true, Ordering::SeqCst) {
            p.overlapped.store(true, Ordering::SeqCst);
        }
        let n = p.runs.fetch_add(1, Ordering::SeqCst);
        let behaviour = (p.behaviour)(n);
        let _guard = Reset(&p.running);
        match behaviour {
            Behaviour::Panic => panic!("handler bug"),
            Behaviour::Sleep(d) => tokio::time::sleep(d).await,
            Behaviour::Done => {}
        }
        Outcome::Done
    }
}

/// Clears the running flag however the handler ends (including a panic).
struct Reset<'a>(&'a AtomicBool);

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn memory() -> Arc<dyn JobStore> {
    Arc::new(MemoryStore::new())
}

#[tokio::test]
async fn a_panicking_handler_is_retried_like_a_failure() {
    let store = memory();
    let probe = Probe::new(|n| if n == 0 { Behaviour::Panic } else { Behaviour::Done });
    let replica = start(
        &store,
        Registry::new().with(JobKind::Noop, ProbeHandler(probe.clone())),
        config(Duration::from_secs(5), Duration::from_secs(1)),
    );
    store.enqueue(&noop(1), When::Now, OnExisting::Keep).await.unwrap();
    settle(&store, |d| *d == Depths::default() && probe.runs() == 2).await;
    replica.stop().await;
}

#[tokio::test]
async fn a_job_without_a_handler_is_buried_with_a_clear_reason() {
    let store = memory();
    let replica = start(&store, Registry::new(), config(Duration::from_secs(5), Duration::from_secs(1)));
    store.enqueue(&noop(1), When::Now, OnExisting::Keep).await.unwrap();
    settle(&store, |d| d.dead == 1).await;
    let letter = store.dead_letters(1).await.unwrap().remove(0);
    assert!(letter.last_error.unwrap().contains("no handler registered for job kind `noop`"));
    replica.stop().await;
}

#[tokio::test]
async fn a_long_handler_keeps_its_lease_and_runs_once() {
    let store = memory();
    let probe = Probe::new(|_| Behaviour::Sleep(Duration::from_millis(2_500)));
    let lease = Duration::from_secs(1);
    let registry = Registry::new().with(JobKind::Noop, ProbeHandler(probe.clone()));
    let a = start(&store, registry.clone(), config(lease, Duration::from_secs(5)));
    let b = start(&store, registry, config(lease, Duration::from_secs(5)));
    store.enqueue(&noop(1), When::Now, OnExisting::Keep).await.unwrap();
    settle(&store, |d| *d == Depths::default() && probe.runs() == 1).await;
    assert_eq!(probe.runs(), 1, "the other replica never took it over");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn shutdown_lets_short_jobs_finish_and_hands_long_ones_back_uncharged() {
    let store = memory();
    let probe = Probe::new(|_| Behaviour::Sleep(Duration::from_millis(300)));
    let replica = start(
        &store,
        Registry::new().with(JobKind::Noop, ProbeHandler(probe.clone())),
        config(Duration::from_secs(5), Duration::from_secs(3)),
    );
    store.enqueue(&noop(1), When::Now, OnExisting::Keep).await.unwrap();
    settle(&store, |d| d.inflight == 1).await;
    replica.stop().await;
    assert_eq!(store.depths().await.unwrap(), Depths::default(), "finished during the drain");

    let probe = Probe::new(|_| Behaviour::Sleep(Duration::from_secs(30)));
    let replica = start(
        &store,
        Registry::new().with(JobKind::Noop, ProbeHandler(probe.clone())),
        config(Duration::from_secs(5), Duration::from_millis(300)),
    );
    store.enqueue(&noop(2), When::Now, OnExisting::Keep).await.unwrap();
    settle(&store, |d| d.inflight == 1).await;
    replica.stop().await;
    let info = store.job(&noop(2).id).await.unwrap().unwrap();
    assert_eq!((info.state, info.attempts), (JobState::Due, 0), "handed back, due now, not charged");
}

#[tokio::test]
async fn a_recurring_job_runs_each_occurrence_on_one_replica_and_stays_queued() {
    let store = memory();
    let probe = Probe::new(|_| Behaviour::Sleep(Duration::from_millis(50)));
    let every = Recurring {
        id: JobId::parse("noop:every").unwrap(),
        kind: JobKind::Noop,
        payload: json!({}),
        period: Duration::from_millis(300),
        at_start: true,
    };
    let registry = Registry::new().with(JobKind::Noop, ProbeHandler(probe.clone())).every(every.clone());
    let a = start(&store, registry.clone(), config(Duration::from_secs(5), Duration::from_secs(1)));
    let b = start(&store, registry, config(Duration::from_secs(5), Duration::from_secs(1)));
    for _ in 0..100 {
        if probe.runs() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(probe.runs() >= 3, "it keeps recurring");
    assert!(!probe.overlapped.load(Ordering::SeqCst), "never two runs at once");
    a.stop().await;
    b.stop().await;
    let info = store.job(&every.id).await.unwrap().expect("a recurring job never leaves the queue");
    assert_eq!((info.state, info.attempts), (JobState::Due, 0));
}

#[tokio::test]
async fn the_claim_loop_heartbeat_keeps_the_replica_ready() {
    let store = memory();
    let replica = start(&store, Registry::standard(), config(Duration::from_secs(5), Duration::from_secs(1)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(replica.readiness.check_workers(), Ok("ok"));
    assert_eq!(Readiness::default().check_workers(), Ok("not running"));
    replica.stop().await;
}
