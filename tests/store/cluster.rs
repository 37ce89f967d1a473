//! The Redis store on a Redis Cluster beyond the conformance suite: enqueues wait for a replica
//! on the shard that owns them, the partitions spread over the primaries, and a primary killed
//! (`kill -9`) under load loses no acknowledged job, answers only "unavailable" meanwhile and
//! then serves again on the same store handle. Moving a partition's slot live: `reshard.rs`.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cartgate::store::redis::RedisConn;
use cartgate::store::{JobStore, OnExisting, RedisStore, StoreError, When};
use cartgate::testkit::{TestCluster, unique_prefix};

use crate::conformance::queue::job;
use crate::support::{CLUSTER_PARTITIONS, cluster_settings};

/// `cmdstat_wait` calls on the primaries that own the partitions of `prefix`.
async fn wait_calls(conn: &RedisConn, prefix: &str) -> u64 {
    let mut total = 0;
    let mut seen = HashSet::new();
    for p in 0..CLUSTER_PARTITIONS {
        let key = format!("{prefix}:{{p{p}}}:due");
        let mut info = redis::cmd("INFO");
        info.arg("server").arg("commandstats");
        let text: String = conn.on_owner(&key, info).await.unwrap();
        let port = text.lines().find_map(|l| l.strip_prefix("tcp_port:")).unwrap_or("").trim().to_owned();
        if seen.insert(port) {
            total += text
                .lines()
                .find_map(|l| l.strip_prefix("cmdstat_wait:calls="))
                .and_then(|rest| rest.split(',').next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueues_on_a_cluster_wait_for_a_replica_and_partitions_spread_over_the_primaries() {
    let settings = cluster_settings(&TestCluster::shared_url(), &unique_prefix());
    let conn = RedisConn::open(&settings).unwrap();
    let store = RedisStore::new(conn.clone(), &settings.prefix, CLUSTER_PARTITIONS);
    store.ping().await.unwrap();

    let mut owners = BTreeSet::new();
    for p in 0..CLUSTER_PARTITIONS {
        let info: String = conn
            .on_owner(&format!("{}:{{p{p}}}:due", settings.prefix), redis::cmd("INFO").arg("server").to_owned())
            .await
            .unwrap();
        owners.insert(info.lines().find_map(|l| l.strip_prefix("tcp_port:")).unwrap_or("").trim().to_owned());
    }
    assert!(owners.len() >= 2, "{CLUSTER_PARTITIONS} partitions all on {owners:?}");

    let before = wait_calls(&conn, &settings.prefix).await;
    for n in 0..20 {
        store.enqueue(&job(n), When::Now, OnExisting::Keep).await.unwrap();
    }
    let after = wait_calls(&conn, &settings.prefix).await;
    assert!(after >= before + 20, "WAIT calls {before} → {after}");
    assert_eq!(store.depths().await.unwrap().due, 20);
}

/// Enqueues as fast as one connection goes until `stop`; every answer is either an ack or
/// "unavailable". Returns the acknowledged job numbers and how many were refused.
/// A node's error reply to a command routed to a key's owner is the node's error (so a `WAIT`
/// answered by a primary that has just become a replica is a 503, retried), never a value
/// cartgate calls corrupt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_reply_of_the_owning_node_is_unavailable_not_corrupt() {
    let settings = cluster_settings(&TestCluster::shared_url(), &unique_prefix());
    let conn = RedisConn::open(&settings).unwrap();
    let mut wait = redis::cmd("WAIT");
    wait.arg("not-a-number").arg(0);
    match conn.on_owner::<u32>("{m:acme}:k", wait).await {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("not an integer"), "{why}"),
        other => panic!("expected the node's error as unavailable: {other:?}"),
    }
}

async fn write_until(store: Arc<RedisStore>, stop: Arc<AtomicBool>, from: usize) -> (Vec<usize>, usize) {
    let (mut acked, mut refused) = (Vec::new(), 0);
    let mut n = from;
    while !stop.load(Ordering::Relaxed) {
        match store.enqueue(&job(n), When::Now, OnExisting::Keep).await {
            Ok(_) => acked.push(n),
            Err(StoreError::Unavailable(_)) => {
                refused += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(other) => panic!("job {n}: {other:?}"),
        }
        n += 1;
    }
    (acked, refused)
}

/// Claims and acks until the store is empty; the job numbers claimed, in claim order.
pub async fn drain(store: &RedisStore) -> Vec<usize> {
    let mut claimed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "draining took too long");
        let batch = match store.claim(200, Duration::from_secs(60)).await {
            Ok(batch) => batch,
            Err(StoreError::Unavailable(_)) => continue,
            Err(e) => panic!("{e:?}"),
        };
        if batch.jobs.is_empty() {
            return claimed;
        }
        for j in &batch.jobs {
            claimed.push(j.payload["n"].as_u64().unwrap() as usize);
        }
        let leases: Vec<_> = batch.jobs.into_iter().map(|j| j.lease).collect();
        assert!(store.ack_many(&leases).await.iter().all(Result::is_ok));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_loses_no_acknowledged_job_and_its_partition_serves_again() {
    let cluster = tokio::task::spawn_blocking(TestCluster::start).await.unwrap().unwrap();
    let mut settings = cluster_settings(&cluster.seed_url(), &unique_prefix());
    settings.cluster_seeds = cluster.urls();
    let store = Arc::new(RedisStore::new(RedisConn::open(&settings).unwrap(), &settings.prefix, CLUSTER_PARTITIONS));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_until(store.clone(), stop.clone(), 0));

    let depth = |min: u64| {
        let store = store.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while store.depths().await.map_or(0, |d| d.due) < min {
                assert!(Instant::now() < deadline, "the writer did not reach {min} jobs");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    depth(300).await;
    let killed_key = format!("{}:{{p0}}:due", settings.prefix);
    // The primary of partition 0 dies; its replica takes over.
    let cluster = tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        cluster.kill_primary_of(&killed_key).unwrap();
        cluster
    })
    .await
    .unwrap();
    // The killed shard's partition serves again, on the same connection.
    let in_p0 =
        (1_000_000..).find(|&n| cartgate::store::redis::partition_tag(&job(n).id, CLUSTER_PARTITIONS) == "{p0}");
    let in_p0 = in_p0.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match store.enqueue(&job(in_p0), When::Now, OnExisting::Keep).await {
            Ok(_) => break,
            Err(e) => assert!(Instant::now() < deadline, "the failed-over partition still refuses: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settled = store.depths().await.map_or(0, |d| d.due);
    depth(settled + 200).await;
    stop.store(true, Ordering::Relaxed);
    let (acked, refused) = writer.await.unwrap();

    let claimed = drain(&store).await;
    let unique: HashSet<usize> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a job was claimed twice");
    let lost: Vec<usize> = acked.iter().filter(|n| !unique.contains(n)).copied().collect();
    assert!(lost.is_empty(), "{} acknowledged jobs lost: {lost:?} ({refused} refused)", lost.len());
    store.ping().await.unwrap();
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}
