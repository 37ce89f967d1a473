//! The queue on a Redis Cluster next to one Redis, in the same run: intake (deduped enqueues,
//! 256 in flight, as the webhook intake sends them) and claim + ack at batch 16, on
//!   1. a standalone Redis (today's deployment, no replica, so no `WAIT`);
//!   2. a local cluster of 3 primaries + 3 replicas with `min_replica_acks = 0`;
//!   3. the same with `min_replica_acks = 1` (every group-committed enqueue waits for a replica).
//!
//! All six nodes share this machine's cores with the client, so the ratio says what routing and
//! `WAIT` cost, not what three real shards would add.
//!
//! Run: `scripts/bench cluster` (or `cargo bench --bench cluster`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/drain.rs"]
mod drain;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cartgate::settings::StoreSettings;
use cartgate::store::redis::RedisConn;
use cartgate::store::{JobId, JobKind, JobStore, NewJob, RedisStore, When};
use cartgate::testkit::{TestCluster, TestRedis, unique_prefix};
use drain::drain;
use futures::StreamExt;

const PARTITIONS: u16 = 8;
const JOBS: usize = 20_000;
const BATCH: usize = 16;
const CLAIMERS: usize = 8;
const LEASE: Duration = Duration::from_secs(60);

fn job(n: usize) -> NewJob {
    NewJob {
        id: JobId::new(JobKind::Noop, &[&(n % 500).to_string(), &n.to_string()]).unwrap(),
        kind: JobKind::Noop,
        payload: serde_json::json!({}),
    }
}

/// Deduped enqueues of `JOBS` jobs, 256 in flight; jobs/s.
async fn intake(s: &Arc<dyn JobStore>) -> f64 {
    let started = Instant::now();
    futures::stream::iter(0..JOBS)
        .for_each_concurrent(256, |n| {
            let s = s.clone();
            async move {
                s.enqueue_once(&format!("d-{n}"), Duration::from_secs(600), &job(n), When::Now).await.unwrap();
            }
        })
        .await;
    JOBS as f64 / started.elapsed().as_secs_f64()
}

async fn measure(settings: &StoreSettings) -> (f64, f64) {
    let conn = RedisConn::open(settings).unwrap();
    let s: Arc<dyn JobStore> = Arc::new(RedisStore::new(conn, &settings.prefix, PARTITIONS));
    // Warm up: connections, slot map, scripts loaded on every primary.
    for n in 0..200 {
        s.enqueue(&job(JOBS + n), When::Now, cartgate::store::OnExisting::Keep).await.unwrap();
    }
    while !s.claim(200, LEASE).await.unwrap().jobs.is_empty() {}
    (intake(&s).await, drain(&s, CLAIMERS, BATCH, LEASE, JOBS).await)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let redis = TestRedis::start(false, None).expect("redis-server");
    let cluster = tokio::task::spawn_blocking(TestCluster::start).await.unwrap().expect("redis cluster");
    let base = |url: String, cluster: bool, acks: u32| StoreSettings {
        url,
        prefix: unique_prefix(),
        partitions: PARTITIONS,
        cluster,
        cluster_seeds: Vec::new(),
        min_replica_acks: acks,
        replica_ack_timeout_ms: 1000,
        tls_ca_file: None,
    };
    let (si, sc) = measure(&base(redis.url().to_owned(), false, 1)).await;
    let (ci, cc) = measure(&base(cluster.seed_url(), true, 0)).await;
    let (wi, wc) = measure(&base(cluster.seed_url(), true, 1)).await;
    println!(
        "{JOBS} jobs, {PARTITIONS} partitions; intake = deduped enqueues (256 in flight), claim = claim+ack batch {BATCH}"
    );
    println!("{:<38} {:>10} {:>10}", "store", "intake/s", "claim/s");
    println!("{:<38} {si:>10.0} {sc:>10.0}", "standalone redis (no replica)");
    println!("{:<38} {ci:>10.0} {cc:>10.0}", "cluster 3+3, min_replica_acks = 0");
    println!("{:<38} {wi:>10.0} {wc:>10.0}", "cluster 3+3, min_replica_acks = 1");
    println!("ratio cluster/standalone:  intake {:.2}  claim {:.2}", ci / si, cc / sc);
    println!("ratio WAIT/no WAIT (cluster): intake {:.2}  claim {:.2}", wi / ci, wc / cc);
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}
