//! Queue throughput against a private Redis: claim + ack jobs/s at batch sizes 1, 16 and 64,
//! next to `redis-benchmark -t zadd,zpopmin` on the same server in the same run, and the cost
//! of a claim with 0 vs 100,000 held jobs (the claim script must not scan the hold set).
//!
//! Run: `cargo bench --bench queue` (release build; starts and stops its own redis-server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/drain.rs"]
mod drain;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartgate::store::{JobId, JobKind, JobStore, NewJob, OnExisting, RedisStore, When};
use cartgate::testkit::{TestRedis, unique_prefix};
use drain::drain;
use futures::StreamExt;

const PARTITIONS: u16 = 8;
const LEASE: Duration = Duration::from_secs(60);
/// Concurrent claim loops (one multiplexed connection, like one replica's pool).
const CLAIMERS: usize = 8;

fn store(url: &str, prefix: &str) -> Arc<dyn JobStore> {
    Arc::new(RedisStore::new(cartgate::store::redis::connection(url).unwrap(), prefix, PARTITIONS))
}

fn job(n: usize) -> NewJob {
    NewJob {
        id: JobId::new(JobKind::Noop, &[&n.to_string()]).unwrap(),
        kind: JobKind::Noop,
        payload: serde_json::json!({}),
    }
}

/// Enqueues `n` jobs, 256 requests in flight (not measured).
async fn fill(s: &Arc<dyn JobStore>, from: usize, n: usize, when: When) {
    futures::stream::iter(from..from + n)
        .for_each_concurrent(256, |i| {
            let s = s.clone();
            async move {
                s.enqueue(&job(i), when, OnExisting::Keep).await.unwrap();
            }
        })
        .await;
}

/// `redis-benchmark -q` lines like `ZADD: 81234.00 requests per second, p50=…`.
fn redis_benchmark(port: u16) -> Vec<(String, f64)> {
    let out = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-t", "zadd,zpopmin", "-q", "-n", "200000"])
        .output()
        .expect("redis-benchmark (ships with redis-server)");
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(": ")?;
            let rps: f64 = rest.split_whitespace().next()?.parse().ok()?;
            rest.contains("requests per second").then(|| (name.trim().to_owned(), rps))
        })
        .collect()
}

/// Mean claim latency (ms) of `claim(64)` + ack over `rounds` rounds, with `held` jobs on hold.
async fn claim_cost(url: &str, held: usize, rounds: usize) -> f64 {
    let s = store(url, &unique_prefix());
    if held > 0 {
        fill(&s, 1_000_000, held, When::Now).await;
        let now = s.now().await.unwrap();
        let mut parked = 0;
        while parked < held {
            let jobs = s.claim(256, LEASE).await.unwrap().jobs;
            let holds = jobs.iter().map(|j| s.hold(&j.lease, now + 86_400_000, "bench"));
            parked += futures::future::join_all(holds).await.len();
        }
    }
    fill(&s, 0, rounds * 64, When::Now).await;
    let started = Instant::now();
    for _ in 0..rounds {
        let jobs = s.claim(64, LEASE).await.unwrap().jobs;
        let leases: Vec<_> = jobs.into_iter().map(|j| j.lease).collect();
        s.ack_many(&leases).await;
    }
    started.elapsed().as_secs_f64() * 1000.0 / rounds as f64
}

#[tokio::main]
async fn main() {
    let redis = TestRedis::start(false, None).expect("redis-server");
    let url = redis.url().to_owned();
    println!("cartgate queue benchmark: redis {url}, {PARTITIONS} partitions, {CLAIMERS} claim loops\n");
    let baseline = redis_benchmark(redis.port());
    for (name, rps) in &baseline {
        println!("redis-benchmark {name:<8} {rps:>10.0} req/s");
    }
    let zadd = baseline.iter().find(|(n, _)| n == "ZADD").map_or(f64::NAN, |(_, r)| *r);
    println!();
    let runs = std::env::var("BENCH_RUNS").unwrap_or_else(|_| "1:20000,16:100000,64:200000".into());
    for (batch, total) in runs.split(',').filter_map(|r| r.split_once(':')) {
        let (batch, total): (usize, usize) = (batch.parse().unwrap(), total.parse().unwrap());
        let s = store(&url, &unique_prefix());
        fill(&s, 0, total, When::Now).await;
        let rate = drain(&s, CLAIMERS, batch, LEASE, total).await;
        println!("claim+ack batch {batch:>3}: {rate:>10.0} jobs/s  ({:.2}x redis-benchmark ZADD)", rate / zadd);
    }
    println!();
    for held in [0, 100_000] {
        let ms = claim_cost(&url, held, 200).await;
        println!("claim(64)+ack with {held:>6} held jobs: {ms:.3} ms per batch");
    }
}
