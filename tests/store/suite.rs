//! One conformance suite for every store: every test below runs once against the memory store,
//! once against a real Redis (a private server started by the testkit, a fresh key prefix per
//! test) and once against a Redis Cluster (3 primaries + 3 replicas, started by the testkit,
//! every enqueue waiting for a replica): a script or pipeline that crossed slots would fail
//! there with CROSSSLOT. Worker-pool level properties (give-up horizon, skewed local clocks) run here too.

/// Instantiates each listed test for both stores.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::conformance::queue::$name(&crate::support::MemoryHarness::new()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::conformance::queue::$name(&crate::support::RedisHarness::new()).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::conformance::queue::$name(&crate::support::ClusterHarness::new()).await;
                }
            )*
        }
    };
}

conformance!(
    enqueue_same_id_twice_makes_one_job,
    claimed_job_is_leased_and_ack_leaves_nothing,
    two_workers_with_separate_connections_never_run_the_same_job_at_once,
    ten_thousand_jobs_from_many_tasks_complete_exactly_once,
    dropped_worker_jobs_are_claimed_again_after_the_lease_and_its_late_ack_is_lease_lost,
    held_job_is_not_claimable_before_its_time_and_is_after,
    redrive_moves_back_exactly_n_oldest_first,
    enqueue_while_in_flight_runs_again_after_ack,
    move_earlier_moves_a_held_job_back_to_due,
    enqueue_revives_a_dead_job,
    enqueue_once_ignores_a_seen_dedupe_key,
    a_dedupe_key_is_remembered_for_its_whole_ttl,
    concurrent_deliveries_each_get_their_own_answer,
    retry_charges_attempts_only_when_asked,
    extend_keeps_a_lease_and_fails_once_lost,
    release_holds_by_all_prefix_and_ids,
    give_up_horizon_sends_a_failing_job_to_dead,
    pool_with_a_local_clock_hours_off_still_schedules_on_the_store_clock,
);

/// Redis specifics: what is left in Redis after work is done.
mod redis_only {
    use std::time::Duration;

    use cartgate::store::{OnExisting, When};
    use cartgate::testkit::{TestRedis, unique_prefix};

    use crate::conformance::queue::job;

    /// A fresh key prefix on the shared test Redis: its connection, the prefix and a store.
    fn fresh(partitions: u16) -> (cartgate::store::redis::RedisConn, String, cartgate::store::RedisStore) {
        let conn = cartgate::store::redis::connection(&TestRedis::shared_url()).unwrap();
        let prefix = unique_prefix();
        let store = cartgate::store::RedisStore::new(conn.clone(), &prefix, partitions);
        (conn, prefix, store)
    }

    #[tokio::test]
    async fn finished_jobs_leave_only_the_token_counters_behind() {
        let (conn, prefix, store) = fresh(4);
        use cartgate::store::JobStore;
        for n in 0..50 {
            store.enqueue(&job(n), When::Now, OnExisting::Keep).await.unwrap();
        }
        store.enqueue_once("short", Duration::from_millis(50), &job(99), When::Now).await.unwrap();
        loop {
            let batch = store.claim(16, Duration::from_secs(5)).await.unwrap();
            if batch.jobs.is_empty() {
                break;
            }
            let leases: Vec<_> = batch.jobs.into_iter().map(|j| j.lease).collect();
            assert!(store.ack_many(&leases).await.iter().all(Result::is_ok));
        }
        // A dedupe bucket of width W is gone (unlinked, or at worst expired) within 3 W.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut conn.clone()).await.unwrap();
        keys.sort();
        assert!(!keys.is_empty() && keys.iter().all(|k| k.ends_with(":seq")), "{keys:?}");
    }

    /// Dedupe keys live in time-bucket hashes: however many deliveries arrive, a partition keeps
    /// at most the current and the previous bucket of each width.
    #[tokio::test]
    async fn dedupe_buckets_older_than_two_widths_are_dropped() {
        let (conn, prefix, store) = fresh(1);
        use cartgate::store::JobStore;
        let width = Duration::from_millis(40);
        let started = std::time::Instant::now();
        let mut n = 0;
        while started.elapsed() < width * 8 {
            store.enqueue_once(&format!("d-{n}"), width, &job(n % 5), When::Now).await.unwrap();
            n += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let buckets: Vec<String> =
            redis::cmd("KEYS").arg(format!("{prefix}:*:dedupe:*")).query_async(&mut conn.clone()).await.unwrap();
        assert!((1..=2).contains(&buckets.len()), "{n} deliveries left {buckets:?}");
    }

    /// An operator changes `store.partitions` with jobs still queued: they are claimed from
    /// where they are, and every follow-up call finds them there.
    #[tokio::test]
    async fn jobs_queued_under_another_partition_count_still_complete() {
        use cartgate::store::JobStore;
        let (conn, prefix, before) = fresh(4);
        for n in 0..40 {
            before.enqueue(&job(n), When::Now, OnExisting::Keep).await.unwrap();
        }
        let after = cartgate::store::RedisStore::new(conn.clone(), &prefix, 7);
        // A retry and an extension land where the job is, too.
        let first = after.claim(1, Duration::from_secs(30)).await.unwrap().jobs;
        after.extend(&first[0].lease, Duration::from_secs(60)).await.unwrap();
        after.retry(&first[0].lease, When::Now, Some("again"), cartgate::store::Charge::Free).await.unwrap();
        let mut done = 0;
        loop {
            let jobs = after.claim(8, Duration::from_secs(30)).await.unwrap().jobs;
            if jobs.is_empty() {
                break;
            }
            let leases: Vec<_> = jobs.iter().map(|j| j.lease.clone()).collect();
            assert!(after.ack_many(&leases).await.iter().all(Result::is_ok));
            done += jobs.len();
        }
        assert_eq!(done, 40);
        let d = after.depths().await.unwrap();
        assert_eq!((d.due, d.inflight, d.hold, d.dead), (0, 0, 0, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dead_letters_are_capped_per_partition_dropping_the_oldest() {
        use cartgate::store::{JobStore, MAX_DEAD_PER_PARTITION};
        let (conn, prefix, store) = fresh(1);
        let total = MAX_DEAD_PER_PARTITION + 10;
        let jobs: Vec<_> = (0..total).map(job).collect();
        futures::future::join_all(jobs.iter().map(|j| store.enqueue(j, When::Now, OnExisting::Keep))).await;
        loop {
            let jobs = store.claim(500, Duration::from_secs(30)).await.unwrap().jobs;
            if jobs.is_empty() {
                break;
            }
            futures::future::join_all(jobs.iter().map(|j| store.bury(&j.lease, "broken"))).await;
        }
        assert_eq!(store.depths().await.unwrap().dead, MAX_DEAD_PER_PARTITION as u64);
        let hashes: Vec<String> =
            redis::cmd("KEYS").arg(format!("{prefix}:*:job:*")).query_async(&mut conn.clone()).await.unwrap();
        assert_eq!(hashes.len(), MAX_DEAD_PER_PARTITION, "trimmed jobs lose their data too");
    }
}
