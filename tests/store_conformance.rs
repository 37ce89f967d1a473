//! One conformance suite for both stores: every test below runs once against the memory store
//! and once against a real Redis (a private server started by the testkit, a fresh key prefix
//! per test). Worker-pool level properties (give-up horizon, skewed local clocks) run here too.

// Test helpers outside #[test] fns panic on purpose when the store misbehaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use conformance::{MemoryHarness, RedisHarness};

/// Instantiates each listed test for both stores.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::conformance::queue::$name(&crate::MemoryHarness::new()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::conformance::queue::$name(&crate::RedisHarness::new()).await;
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
    retry_charges_attempts_only_when_asked,
    extend_keeps_a_lease_and_fails_once_lost,
    release_holds_by_all_prefix_and_ids,
    give_up_horizon_sends_a_failing_job_to_dead,
    pool_with_a_local_clock_hours_off_still_schedules_on_the_store_clock,
);
