//! The store contract, test by test (each takes the harness of the store under test).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cartgate::store::{
    Charge, Deduped, Enqueued, HoldFilter, JobId, JobKind, JobState, NewJob, OnExisting, StoreError, When,
};
use serde_json::json;

use crate::support::Harness;

pub use super::pool::{
    give_up_horizon_sends_a_failing_job_to_dead, pool_with_a_local_clock_hours_off_still_schedules_on_the_store_clock,
};

/// Short enough to wait out in a test, long enough not to expire by accident on a busy machine.
const LEASE: Duration = Duration::from_secs(2);

pub fn job(n: usize) -> NewJob {
    NewJob { id: JobId::new(JobKind::Noop, &[&n.to_string()]).unwrap(), kind: JobKind::Noop, payload: json!({"n": n}) }
}

fn named(id: &str) -> NewJob {
    NewJob { id: JobId::parse(id).unwrap(), kind: JobKind::Noop, payload: json!({}) }
}

pub async fn enqueue_same_id_twice_makes_one_job(h: &dyn Harness) {
    let s = h.handle();
    assert_eq!(s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap(), Enqueued::Created);
    assert_eq!(s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap(), Enqueued::AlreadyPending);
    assert_eq!(s.depths().await.unwrap().due, 1);
    assert_eq!(s.claim(10, LEASE).await.unwrap().jobs.len(), 1);
}

pub async fn claimed_job_is_leased_and_ack_leaves_nothing(h: &dyn Harness) {
    let s = h.handle();
    s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    let batch = s.claim(10, LEASE).await.unwrap();
    let claimed = &batch.jobs[0];
    assert_eq!((claimed.kind, claimed.attempts, &claimed.payload), (JobKind::Noop, 0, &json!({"n": 1})));
    assert!(claimed.created_at <= batch.now && batch.now - claimed.created_at < 60_000);
    let info = s.job(&claimed.id).await.unwrap().unwrap();
    assert_eq!(info.state, JobState::Inflight);
    assert!(info.at >= batch.now + 1_900, "lease expiry on the store clock");
    assert!(s.claim(10, LEASE).await.unwrap().jobs.is_empty(), "a leased job is not claimed twice");
    s.ack(&claimed.lease).await.unwrap();
    assert_eq!(s.job(&claimed.id).await.unwrap().map(|j| j.state), None);
    assert_eq!(s.depths().await.unwrap(), Default::default());
    assert_eq!(s.ack(&claimed.lease).await, Err(StoreError::LeaseLost), "a second ack is fenced");
}

pub async fn two_workers_with_separate_connections_never_run_the_same_job_at_once(h: &dyn Harness) {
    let s = h.handle();
    const N: usize = 300;
    for n in 0..N {
        s.enqueue(&job(n), When::Now, OnExisting::Keep).await.unwrap();
    }
    let running = Arc::new(Mutex::new(HashSet::new()));
    let done = Arc::new(Mutex::new(HashMap::<JobId, usize>::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (store, running, done) = (h.handle(), running.clone(), done.clone());
            tokio::spawn(async move {
                loop {
                    let batch = store.claim(4, Duration::from_secs(2)).await.unwrap();
                    if batch.jobs.is_empty() {
                        if store.depths().await.unwrap().due == 0 {
                            return;
                        }
                        continue;
                    }
                    for j in &batch.jobs {
                        assert!(running.lock().unwrap().insert(j.id.clone()), "{} runs twice at once", j.id);
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    for j in &batch.jobs {
                        running.lock().unwrap().remove(&j.id);
                        store.ack(&j.lease).await.unwrap();
                        *done.lock().unwrap().entry(j.id.clone()).or_default() += 1;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let done = done.lock().unwrap();
    assert_eq!(done.len(), N);
    assert!(done.values().all(|&c| c == 1));
}

pub async fn ten_thousand_jobs_from_many_tasks_complete_exactly_once(h: &dyn Harness) {
    const N: usize = 10_000;
    const TASKS: usize = 8;
    let producers: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = h.handle();
            tokio::spawn(async move {
                for n in (t..N).step_by(TASKS) {
                    store.enqueue(&job(n), When::Now, OnExisting::Keep).await.unwrap();
                }
            })
        })
        .collect();
    let done = Arc::new(Mutex::new(HashMap::<JobId, usize>::new()));
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let (store, done) = (h.handle(), done.clone());
            tokio::spawn(async move {
                let mut idle = 0;
                while idle < 50 {
                    let batch = store.claim(64, Duration::from_secs(30)).await.unwrap();
                    if batch.jobs.is_empty() {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    idle = 0;
                    let leases: Vec<_> = batch.jobs.iter().map(|j| j.lease.clone()).collect();
                    for r in store.ack_many(&leases).await {
                        r.unwrap();
                    }
                    let mut done = done.lock().unwrap();
                    for j in batch.jobs {
                        *done.entry(j.id).or_default() += 1;
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    for c in consumers {
        c.await.unwrap();
    }
    let done = std::mem::take(&mut *done.lock().unwrap());
    assert_eq!(done.len(), N, "every job completed");
    assert!(done.values().all(|&c| c == 1), "no job completed twice");
    assert_eq!(h.handle().depths().await.unwrap(), Default::default());
}

pub async fn dropped_worker_jobs_are_claimed_again_after_the_lease_and_its_late_ack_is_lease_lost(h: &dyn Harness) {
    let s = h.handle();
    for n in 0..3 {
        s.enqueue(&job(n), When::Now, OnExisting::Keep).await.unwrap();
    }
    let dead_worker = h.handle();
    let lost = dead_worker.claim(10, LEASE).await.unwrap().jobs;
    drop(dead_worker);
    assert_eq!(lost.len(), 3);
    assert!(s.claim(10, LEASE).await.unwrap().jobs.is_empty());
    tokio::time::sleep(LEASE + Duration::from_millis(200)).await;
    let again = s.claim(10, LEASE).await.unwrap().jobs;
    assert_eq!(again.len(), 3, "expired leases are claimed again");
    assert!(again.iter().all(|j| j.attempts == 1), "an expired lease counts as an attempt");
    assert_eq!(s.ack(&lost[0].lease).await, Err(StoreError::LeaseLost));
    let lost_retry = s.retry(&lost[1].lease, When::Now, None, Charge::Free).await;
    assert_eq!(lost_retry, Err(StoreError::LeaseLost));
    for j in &again {
        s.ack(&j.lease).await.unwrap();
    }
    assert_eq!(s.depths().await.unwrap(), Default::default());
}

pub async fn held_job_is_not_claimable_before_its_time_and_is_after(h: &dyn Harness) {
    let s = h.handle();
    s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    let batch = s.claim(1, LEASE).await.unwrap();
    s.hold(&batch.jobs[0].lease, batch.now + 2_000, "out of stock").await.unwrap();
    assert_eq!(s.depths().await.unwrap().hold, 1);
    assert!(s.claim(10, LEASE).await.unwrap().jobs.is_empty());
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let again = s.claim(10, LEASE).await.unwrap().jobs;
    assert_eq!(again.len(), 1);
    assert_eq!(s.job(&again[0].id).await.unwrap().unwrap().last_error.as_deref(), Some("out of stock"));
}

pub async fn redrive_moves_back_exactly_n_oldest_first(h: &dyn Harness) {
    let s = h.handle();
    for n in 0..5 {
        s.enqueue(&job(n), When::Now, OnExisting::Keep).await.unwrap();
        let j = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
        s.bury(&j.lease, &format!("broken {n}")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let letters = s.dead_letters(10).await.unwrap();
    assert_eq!(letters.len(), 5);
    assert_eq!(letters[0].id, job(4).id, "newest first");
    assert_eq!(letters[0].last_error.as_deref(), Some("broken 4"));
    assert_eq!(s.redrive(3).await.unwrap(), 3);
    let d = s.depths().await.unwrap();
    assert_eq!((d.due, d.dead), (3, 2));
    let left: HashSet<_> = s.dead_letters(10).await.unwrap().into_iter().map(|l| l.id).collect();
    assert_eq!(left, HashSet::from([job(3).id, job(4).id]), "the oldest were redriven");
    assert!(s.claim(10, LEASE).await.unwrap().jobs.iter().all(|j| j.attempts == 0));
}

pub async fn enqueue_while_in_flight_runs_again_after_ack(h: &dyn Harness) {
    let s = h.handle();
    s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    let j = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
    assert_eq!(s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap(), Enqueued::Rerun);
    assert!(s.claim(1, LEASE).await.unwrap().jobs.is_empty(), "not while it runs");
    s.ack(&j.lease).await.unwrap();
    let again = s.claim(1, LEASE).await.unwrap().jobs;
    assert_eq!(again.len(), 1);
    s.ack(&again[0].lease).await.unwrap();
    assert_eq!(s.depths().await.unwrap(), Default::default(), "the rerun flag is used up");
}

pub async fn move_earlier_moves_a_held_job_back_to_due(h: &dyn Harness) {
    let s = h.handle();
    s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    let batch = s.claim(1, LEASE).await.unwrap();
    s.hold(&batch.jobs[0].lease, batch.now + 3_600_000, "wait").await.unwrap();
    assert_eq!(s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap(), Enqueued::AlreadyPending);
    let later = When::At(batch.now + 7_200_000);
    assert_eq!(s.enqueue(&job(1), later, OnExisting::MoveEarlier).await.unwrap(), Enqueued::AlreadyPending);
    assert_eq!(s.enqueue(&job(1), When::Now, OnExisting::MoveEarlier).await.unwrap(), Enqueued::Moved);
    assert_eq!(s.job(&job(1).id).await.unwrap().unwrap().state, JobState::Due);
    assert_eq!(s.claim(1, LEASE).await.unwrap().jobs.len(), 1);
    s.enqueue(&job(2), When::After(Duration::from_secs(3600)), OnExisting::Keep).await.unwrap();
    assert_eq!(s.enqueue(&job(2), When::Now, OnExisting::MoveEarlier).await.unwrap(), Enqueued::Moved);
    assert_eq!(s.claim(1, LEASE).await.unwrap().jobs.len(), 1, "a due job moves earlier too");
}

pub async fn enqueue_revives_a_dead_job(h: &dyn Harness) {
    let s = h.handle();
    s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    let j = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
    s.retry(&j.lease, When::Now, Some("flaky"), Charge::Attempt).await.unwrap();
    let j = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
    assert_eq!(j.attempts, 1);
    s.bury(&j.lease, "gave up").await.unwrap();
    assert_eq!(s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap(), Enqueued::Created);
    let d = s.depths().await.unwrap();
    assert_eq!((d.due, d.dead), (1, 0));
    assert_eq!(s.claim(1, LEASE).await.unwrap().jobs[0].attempts, 0);
}

pub async fn enqueue_once_ignores_a_seen_dedupe_key(h: &dyn Harness) {
    let s = h.handle();
    let ttl = Duration::from_secs(60);
    let first = s.enqueue_once("delivery-1", ttl, &job(1), When::Now).await.unwrap();
    assert_eq!(first, Deduped::Enqueued(Enqueued::Created));
    assert_eq!(s.enqueue_once("delivery-1", ttl, &job(1), When::Now).await.unwrap(), Deduped::Duplicate);
    let same_job = s.enqueue_once("delivery-2", ttl, &job(1), When::Now).await.unwrap();
    assert_eq!(same_job, Deduped::Enqueued(Enqueued::AlreadyPending));
    assert_eq!(s.depths().await.unwrap().due, 1);
    let short = Duration::from_millis(100);
    s.enqueue_once("delivery-3", short, &job(3), When::Now).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let expired = s.enqueue_once("delivery-3", short, &job(3), When::Now).await.unwrap();
    assert_eq!(expired, Deduped::Enqueued(Enqueued::AlreadyPending), "the key expired, the job is still there");
}

/// A dedupe key is remembered for at least its ttl, however the store keeps it (on Redis, in
/// time buckets: this crosses bucket boundaries), and the job it let through is not repeated.
pub async fn a_dedupe_key_is_remembered_for_its_whole_ttl(h: &dyn Harness) {
    let s = h.handle();
    let ttl = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let first = s.enqueue_once("delivery-a", ttl, &job(7), When::Now).await.unwrap();
    assert_eq!(first, Deduped::Enqueued(Enqueued::Created));
    let mut checks = 0;
    // Stop short of the ttl as measured here: the store wrote the key after `started`.
    while started.elapsed() < ttl - Duration::from_millis(20) {
        assert_eq!(s.enqueue_once("delivery-a", ttl, &job(7), When::Now).await.unwrap(), Deduped::Duplicate);
        checks += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(checks > 5, "only {checks} checks within the ttl");
    assert_eq!(s.depths().await.unwrap().due, 1);
}

/// What the webhook intake does under load: many deliveries at once, some repeated, several for
/// the same job. (On Redis, concurrent enqueues share script calls; each must still get its own
/// answer.) 300 calls: 100 delivery ids each sent twice, for 50 distinct jobs, plus 100 plain
/// enqueues of 25 more jobs.
pub async fn concurrent_deliveries_each_get_their_own_answer(h: &dyn Harness) {
    let s = h.handle();
    let ttl = Duration::from_secs(60);
    let mut calls = Vec::new();
    for round in 0..2 {
        for d in 0..100usize {
            let s = s.clone();
            calls.push(tokio::spawn(async move {
                let r = s.enqueue_once(&format!("delivery-{d}"), ttl, &job(d % 50), When::Now).await.unwrap();
                (Some((round, d)), r)
            }));
        }
    }
    for n in 0..100usize {
        let s = s.clone();
        calls.push(tokio::spawn(async move {
            let r = s.enqueue(&job(1000 + n % 25), When::Now, OnExisting::Keep).await.unwrap();
            (None, Deduped::Enqueued(r))
        }));
    }
    let (mut duplicates, mut created, mut pending) = (0, 0, 0);
    let mut deliveries_seen = HashSet::new();
    for c in calls {
        let (delivery, r) = c.await.unwrap();
        match r {
            Deduped::Duplicate => duplicates += 1,
            Deduped::Enqueued(Enqueued::Created) => created += 1,
            Deduped::Enqueued(Enqueued::AlreadyPending) => pending += 1,
            other => panic!("unexpected answer {other:?}"),
        }
        if let Some((_, d)) = delivery
            && r != Deduped::Duplicate
        {
            assert!(deliveries_seen.insert(d), "delivery {d} was enqueued twice");
        }
    }
    assert_eq!(duplicates, 100, "each repeated delivery id is a duplicate exactly once");
    assert_eq!(created, 75, "one job created per distinct id");
    assert_eq!(pending, 300 - 100 - 75);
    assert_eq!(s.depths().await.unwrap().due, 75);
}

pub async fn retry_charges_attempts_only_when_asked(h: &dyn Harness) {
    let s = h.handle();
    s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    let mut attempts = Vec::new();
    for charge in [Charge::Attempt, Charge::Attempt, Charge::Free, Charge::Reset] {
        let j = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
        attempts.push(j.attempts);
        s.retry(&j.lease, When::Now, Some("boom"), charge).await.unwrap();
    }
    let j = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
    attempts.push(j.attempts);
    assert_eq!(attempts, [0, 1, 2, 2, 0]);
    s.retry(&j.lease, When::After(Duration::from_secs(3600)), None, Charge::Attempt).await.unwrap();
    assert!(s.claim(1, LEASE).await.unwrap().jobs.is_empty(), "a delayed retry is not due");
    let info = s.job(&j.id).await.unwrap().unwrap();
    assert_eq!((info.state, info.last_error.as_deref()), (JobState::Due, Some("boom")));
}

pub async fn extend_keeps_a_lease_and_fails_once_lost(h: &dyn Harness) {
    let s = h.handle();
    s.enqueue(&job(1), When::Now, OnExisting::Keep).await.unwrap();
    let j = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        s.extend(&j.lease, LEASE).await.unwrap();
        assert!(s.claim(1, LEASE).await.unwrap().jobs.is_empty(), "an extended lease holds");
    }
    tokio::time::sleep(LEASE + Duration::from_millis(200)).await;
    let thief = s.claim(1, LEASE).await.unwrap().jobs.remove(0);
    assert_eq!(s.extend(&j.lease, LEASE).await, Err(StoreError::LeaseLost));
    assert_eq!(s.hold(&j.lease, 0, "x").await, Err(StoreError::LeaseLost));
    assert_eq!(s.bury(&j.lease, "x").await, Err(StoreError::LeaseLost));
    s.ack(&thief.lease).await.unwrap();
}

pub async fn release_holds_by_all_prefix_and_ids(h: &dyn Harness) {
    let s = h.handle();
    let ids = ["send_order:a:1", "send_order:a:2", "send_order:b:1", "send_order:c:1", "noop:x"];
    for id in ids {
        s.enqueue(&named(id), When::Now, OnExisting::Keep).await.unwrap();
    }
    let batch = s.claim(10, LEASE).await.unwrap();
    for j in &batch.jobs {
        s.hold(&j.lease, batch.now + 3_600_000, "no stock").await.unwrap();
    }
    let prefixes = HoldFilter::IdPrefixes(vec!["send_order:a:".into(), "send_order:b:".into()]);
    assert_eq!(s.release_holds(&prefixes).await.unwrap(), 3);
    let only = HoldFilter::Ids(vec![JobId::parse("noop:x").unwrap(), JobId::parse("send_order:a:1").unwrap()]);
    assert_eq!(s.release_holds(&only).await.unwrap(), 1, "ids no longer held are skipped");
    assert_eq!(s.release_holds(&HoldFilter::All).await.unwrap(), 1);
    let d = s.depths().await.unwrap();
    assert_eq!((d.due, d.hold), (5, 0));
}
