//! A queue partition's slot moved to another primary while the queue is in use, the way
//! `redis-cli --cluster reshard` moves it (IMPORTING / MIGRATING, keys in batches, then
//! `SETSLOT … NODE`). The partition's sets go over first — the worst order for scripts that
//! reach job hashes and dedupe buckets by name: for a while the sets are on the new owner and
//! the hashes on the old one. Every partition set exists (a held job, a dead one, one in
//! flight), as in production; a partition with an empty set was always refused during a move
//! (see `src/store/redis/keys.rs`, "Moving a partition's slot live").

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cartgate::store::redis::{RedisConn, partition_tag};
use cartgate::store::{Deduped, Enqueued, JobStore, Lease, RedisStore, StoreError, When};
use cartgate::testkit::{Migration, TestCluster, unique_prefix};

use crate::cluster::drain;
use crate::conformance::queue::job;
use crate::support::{CLUSTER_PARTITIONS, cluster_settings};

const LEASE: Duration = Duration::from_secs(60);
const DEDUPE_TTL: Duration = Duration::from_secs(3600);

/// A cluster of its own (moving a slot would disturb other tests), a store on it, and the
/// partition (`{pN}` tag) of job 0.
async fn own_cluster() -> (TestCluster, Arc<RedisStore>, String, String) {
    let cluster = tokio::task::spawn_blocking(TestCluster::start).await.unwrap().unwrap();
    let mut settings = cluster_settings(&cluster.seed_url(), &unique_prefix());
    settings.cluster_seeds = cluster.urls();
    let store = Arc::new(RedisStore::new(RedisConn::open(&settings).unwrap(), &settings.prefix, CLUSTER_PARTITIONS));
    let tag = partition_tag(&job(0).id, CLUSTER_PARTITIONS);
    (cluster, store, settings.prefix, tag)
}

/// `count` job numbers from `from` on whose jobs land in partition `tag`.
fn jobs_in(tag: &str, from: usize, count: usize) -> Vec<usize> {
    (from..).filter(|&n| partition_tag(&job(n).id, CLUSTER_PARTITIONS) == tag).take(count).collect()
}

/// Enqueues `nums` (deduped, so the partition has a dedupe bucket), then claims three of them:
/// one held for an hour, one buried, one kept in flight (returned). All five sets now exist.
async fn fill(store: &RedisStore, nums: &[usize]) -> Lease {
    for &n in nums {
        store.enqueue_once(&format!("delivery-{n}"), DEDUPE_TTL, &job(n), When::Now).await.unwrap();
    }
    let mut leases = store.claim(3, LEASE).await.unwrap().jobs.into_iter().map(|j| j.lease);
    let (held, buried, kept) = (leases.next().unwrap(), leases.next().unwrap(), leases.next().unwrap());
    store.hold(&held, store.now().await.unwrap() + 3_600_000, "later").await.unwrap();
    store.bury(&buried, "broken").await.unwrap();
    kept
}

/// The partition's sets, which the test moves first.
fn sets(prefix: &str, tag: &str) -> Vec<String> {
    ["due", "inflight", "hold", "dead", "seq"].iter().map(|s| format!("{prefix}:{tag}:{s}")).collect()
}

/// Opens the move of `tag`'s slot to another primary and moves the partition's sets.
fn start_moving(cluster: &TestCluster, prefix: &str, tag: &str) -> Migration {
    let slot = cluster.slot_of(tag).unwrap();
    let from = cluster.owner_of_slot(slot).unwrap().port;
    let to = cluster.nodes().unwrap().into_iter().find(|n| n.primary && !n.failed && n.port != from).unwrap().port;
    let migration = cluster.start_migration(slot, to).unwrap().unwrap();
    let sets = sets(prefix, tag);
    migration.move_keys(&sets.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    migration
}

/// Moves the rest of the slot in batches of 10 with a pause, as a reshard does, and ends the move.
fn finish_moving(migration: Migration) -> std::io::Result<()> {
    while migration.move_batch(10)? {
        std::thread::sleep(Duration::from_millis(100));
    }
    migration.finish()
}

fn unavailable<T: std::fmt::Debug>(what: &str, r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{what} on a half-moved partition: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_queue_script_runs_while_its_partition_slot_is_half_moved() {
    let (cluster, store, prefix, tag) = own_cluster().await;
    let nums = jobs_in(&tag, 0, 23);
    let kept = fill(&store, &nums[..22]).await;
    let (cluster, migration) = tokio::task::spawn_blocking(move || {
        let migration = start_moving(&cluster, &prefix, &tag);
        (cluster, migration)
    })
    .await
    .unwrap();

    // Sets on the new owner, job hashes and dedupe buckets on the old: every call is refused.
    unavailable("claim", store.claim(10, LEASE).await);
    unavailable("ack", store.ack(&kept).await);
    unavailable("extend", store.extend(&kept, LEASE).await);
    unavailable("enqueue", store.enqueue_once("delivery-new", DEDUPE_TTL, &job(nums[22]), When::Now).await);
    unavailable("a duplicate", store.enqueue_once("delivery-0", DEDUPE_TTL, &job(nums[0]), When::Now).await);

    // Then the move completes (no key was created on the new owner behind its back: BUSYKEY)
    // and the partition is as it was.
    tokio::task::spawn_blocking(move || finish_moving(migration)).await.unwrap().unwrap();
    store.ack(&kept).await.unwrap();
    let again = store.enqueue_once("delivery-0", DEDUPE_TTL, &job(nums[0]), When::Now).await.unwrap();
    assert_eq!(again, Deduped::Duplicate);
    let created = store.enqueue_once("delivery-new", DEDUPE_TTL, &job(nums[22]), When::Now).await.unwrap();
    assert_eq!(created, Deduped::Enqueued(Enqueued::Created));
    let claimed = drain(&store).await;
    let unique: HashSet<usize> = claimed.iter().copied().collect();
    assert!(unique.len() == claimed.len() && unique.contains(&nums[22]), "{claimed:?}");
    let depths = store.depths().await.unwrap();
    assert_eq!((claimed.len(), depths.due, depths.inflight, depths.hold, depths.dead), (20, 0, 0, 1, 1));
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}

/// What the claimers saw.
#[derive(Default)]
struct Seen {
    /// Job numbers in claim order.
    claimed: Vec<usize>,
    /// Acks answered "lease lost".
    lost: Vec<usize>,
    /// Calls answered "unavailable".
    refused: usize,
}

/// Claims and acks (retrying a refused ack with the same lease) until `total` jobs are acked.
async fn claim_and_ack(store: Arc<RedisStore>, acked: Arc<AtomicUsize>, total: usize, seen: Arc<Mutex<Seen>>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.load(Ordering::SeqCst) < total {
        assert!(Instant::now() < deadline, "{} of {total} acked", acked.load(Ordering::SeqCst));
        let batch = match store.claim(10, LEASE).await {
            Ok(batch) => batch,
            Err(StoreError::Unavailable(_)) => {
                seen.lock().unwrap().refused += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            Err(e) => panic!("claim: {e:?}"),
        };
        for j in batch.jobs {
            let n = j.payload["n"].as_u64().unwrap() as usize;
            seen.lock().unwrap().claimed.push(n);
            // The handler's work: the move has to overlap the claims.
            tokio::time::sleep(Duration::from_millis(10)).await;
            loop {
                assert!(Instant::now() < deadline, "the ack of job {n} was refused until the deadline");
                match store.ack(&j.lease).await {
                    Ok(()) => break,
                    Err(StoreError::Unavailable(_)) => seen.lock().unwrap().refused += 1,
                    Err(StoreError::LeaseLost) => {
                        seen.lock().unwrap().lost.push(n);
                        break;
                    }
                    Err(e) => panic!("ack of job {n}: {e:?}"),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            acked.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_partition_moved_live_under_claims_and_acks_runs_every_job_exactly_once() {
    const JOBS: usize = 300;
    let (cluster, store, prefix, tag) = own_cluster().await;
    let nums = jobs_in(&tag, 0, JOBS + 3);
    let kept = fill(&store, &nums).await;
    let slot = cluster.slot_of(&tag).unwrap();
    let from = cluster.owner_of_slot(slot).unwrap().port;
    let before = cluster.redirections(from).unwrap();

    let (acked, seen) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Seen::default())));
    let claimers: Vec<_> =
        (0..2).map(|_| tokio::spawn(claim_and_ack(store.clone(), acked.clone(), JOBS, seen.clone()))).collect();
    // A third of the jobs done, the slot starts moving, its sets first.
    while acked.load(Ordering::SeqCst) < JOBS / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_start = acked.load(Ordering::SeqCst);
    let mover = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let moved = finish_moving(start_moving(&cluster, &prefix, &tag));
        (cluster, moved, started.elapsed())
    });
    let (cluster, moved, took) = mover.await.unwrap();
    if let Err(e) = moved {
        panic!("moving slot {slot}: {e} ({:?})", store.depths().await);
    }
    for claimer in claimers {
        claimer.await.unwrap();
    }
    let after = cluster.redirections(from).unwrap();

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let unique: HashSet<usize> = seen.claimed.iter().copied().collect();
    assert_eq!(unique.len(), seen.claimed.len(), "a job was claimed twice");
    assert!(seen.lost.is_empty(), "acks lost their lease: {:?}", seen.lost);
    assert_eq!(unique.len(), JOBS, "claimed {} of {JOBS}", unique.len());
    store.ack(&kept).await.unwrap();
    let depths = store.depths().await.unwrap();
    assert_eq!((depths.due, depths.inflight, depths.hold, depths.dead), (0, 0, 1, 1), "{depths:?}");
    let (asked, again) = (after.0 - before.0, after.1 - before.1);
    assert!(seen.refused > 0 && asked + again > 0, "the claimers never met the half-moved slot");
    eprintln!(
        "moved slot {slot} in {took:?} with {at_start} of {JOBS} acked; {} calls refused meanwhile \
         (ASK {asked}, TRYAGAIN {again} from the old owner)",
        seen.refused
    );
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}
