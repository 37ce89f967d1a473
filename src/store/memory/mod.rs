//! The embedded store (`memory://`): the [`JobStore`] semantics in one process, for trying
//! cartgate out, the demo and tests. One mutex over all state keeps every operation atomic, as
//! a Lua script is in Redis; the clock is the process's own unless one is injected.

mod state;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use state::{Rec, State};

use super::clock::{Clock, system_clock};
use super::{
    ClaimBatch, ClaimedJob, DeadLetter, Deduped, Depths, Enqueued, HoldFilter, JobInfo, JobKind, JobState, JobStore,
    Lease, Millis, NewJob, OnExisting, StoreError, When,
};
use crate::store::{Charge, JobId};

/// Expired leases and due holds moved back per claim, as the Redis claim script does.
const RECLAIM_PER_CLAIM: usize = 100;

/// The in-process store.
pub struct MemoryStore {
    state: Mutex<State>,
    clock: Clock,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::with_clock(system_clock())
    }

    /// A store whose clock is `clock` (tests that move time).
    pub fn with_clock(clock: Clock) -> Self {
        Self { state: Mutex::new(State::default()), clock }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-done operation visible to callers
        // that matters more than losing the whole store, so keep going with the data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> Millis {
        (self.clock)()
    }
}

fn resolve(when: When, now: Millis) -> Millis {
    match when {
        When::Now => now,
        When::After(d) => now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        When::At(t) => t,
    }
}

fn enqueue_locked(st: &mut State, job: &NewJob, at: Millis, now: Millis, on_existing: OnExisting) -> Enqueued {
    let Some(rec) = st.jobs.get_mut(&job.id) else {
        let rec = Rec {
            kind: job.kind.as_str().to_owned(),
            payload: job.payload.clone(),
            attempts: 0,
            created_at: now,
            token: None,
            last_error: None,
            rerun: None,
            state: JobState::Due,
            at,
        };
        st.insert(job.id.clone(), rec);
        return Enqueued::Created;
    };
    match rec.state {
        JobState::Inflight => {
            rec.rerun = Some(rec.rerun.map_or(at, |r| r.min(at)));
            Enqueued::Rerun
        }
        JobState::Due | JobState::Hold => {
            if on_existing == OnExisting::MoveEarlier && at < rec.at {
                st.place(&job.id, JobState::Due, at);
                Enqueued::Moved
            } else {
                Enqueued::AlreadyPending
            }
        }
        JobState::Dead => {
            rec.kind = job.kind.as_str().to_owned();
            rec.payload = job.payload.clone();
            rec.attempts = 0;
            rec.created_at = now;
            st.place(&job.id, JobState::Due, at);
            Enqueued::Created
        }
    }
}

/// If the job was enqueued again while in flight, puts it in `due` for a fresh run; true if so.
fn rerun_if_asked(st: &mut State, id: &JobId, now: Millis) -> bool {
    let Some(rec) = st.jobs.get_mut(id) else { return false };
    let Some(at) = rec.rerun.take() else { return false };
    rec.attempts = 0;
    rec.created_at = now;
    st.place(id, JobState::Due, at);
    true
}

fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn claim_locked(st: &mut State, now: Millis, max: usize, lease: Duration) -> Vec<ClaimedJob> {
    for (_, id) in st.ready(JobState::Inflight, now, RECLAIM_PER_CLAIM) {
        if let Some(rec) = st.jobs.get_mut(&id) {
            rec.attempts += 1;
            rec.last_error = Some("lease expired: the worker did not finish in time".into());
        }
        st.place(&id, JobState::Due, now);
    }
    for (at, id) in st.ready(JobState::Hold, now, RECLAIM_PER_CLAIM) {
        st.place(&id, JobState::Due, at);
    }
    let mut jobs = Vec::new();
    for (_, id) in st.ready(JobState::Due, now, max) {
        st.seq += 1;
        let token = st.seq.to_string();
        st.place(&id, JobState::Inflight, now.saturating_add(millis(lease)));
        let Some(rec) = st.jobs.get_mut(&id) else { continue };
        rec.token = Some(token.clone());
        let Some(kind) = JobKind::parse(&rec.kind) else {
            rec.last_error = Some(format!("unknown job kind `{}`", rec.kind));
            st.place(&id, JobState::Dead, now);
            continue;
        };
        jobs.push(ClaimedJob {
            id: id.clone(),
            kind,
            payload: rec.payload.clone(),
            attempts: rec.attempts,
            created_at: rec.created_at,
            claimed_at: now,
            lease: Lease { id, token },
        });
    }
    jobs
}

#[async_trait::async_trait]
impl JobStore for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn now(&self) -> Result<Millis, StoreError> {
        Ok(MemoryStore::now(self))
    }

    async fn enqueue(&self, job: &NewJob, when: When, on_existing: OnExisting) -> Result<Enqueued, StoreError> {
        let now = MemoryStore::now(self);
        Ok(enqueue_locked(&mut self.lock(), job, resolve(when, now), now, on_existing))
    }

    async fn enqueue_once(&self, key: &str, ttl: Duration, job: &NewJob, when: When) -> Result<Deduped, StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        if !st.dedupe(key, now, now.saturating_add(millis(ttl))) {
            return Ok(Deduped::Duplicate);
        }
        Ok(Deduped::Enqueued(enqueue_locked(&mut st, job, resolve(when, now), now, OnExisting::Keep)))
    }

    async fn claim(&self, max: usize, lease: Duration) -> Result<ClaimBatch, StoreError> {
        let now = MemoryStore::now(self);
        let jobs = claim_locked(&mut self.lock(), now, max, lease);
        Ok(ClaimBatch { now, jobs })
    }

    async fn ack(&self, lease: &Lease) -> Result<(), StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        st.leased(&lease.id, &lease.token).ok_or(StoreError::LeaseLost)?;
        if !rerun_if_asked(&mut st, &lease.id, now) {
            st.remove(&lease.id);
        }
        Ok(())
    }

    async fn retry(&self, lease: &Lease, when: When, error: Option<&str>, charge: Charge) -> Result<(), StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        let rec = st.leased(&lease.id, &lease.token).ok_or(StoreError::LeaseLost)?;
        match charge {
            Charge::Attempt => rec.attempts += 1,
            Charge::Free => {}
            Charge::Reset => {
                rec.attempts = 0;
                rec.created_at = now;
            }
        }
        if let Some(e) = error {
            rec.last_error = Some(e.to_owned());
        }
        let mut at = resolve(when, now);
        if let Some(r) = rec.rerun.take() {
            at = at.min(r);
        }
        st.place(&lease.id, JobState::Due, at);
        Ok(())
    }

    async fn hold(&self, lease: &Lease, until: Millis, reason: &str) -> Result<(), StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        st.leased(&lease.id, &lease.token).ok_or(StoreError::LeaseLost)?.last_error = Some(reason.to_owned());
        if !rerun_if_asked(&mut st, &lease.id, now) {
            st.place(&lease.id, JobState::Hold, until);
        }
        Ok(())
    }

    async fn extend(&self, lease: &Lease, lease_for: Duration) -> Result<(), StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        st.leased(&lease.id, &lease.token).ok_or(StoreError::LeaseLost)?;
        st.place(&lease.id, JobState::Inflight, now.saturating_add(millis(lease_for)));
        Ok(())
    }

    async fn bury(&self, lease: &Lease, reason: &str) -> Result<(), StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        st.leased(&lease.id, &lease.token).ok_or(StoreError::LeaseLost)?.last_error = Some(reason.to_owned());
        if !rerun_if_asked(&mut st, &lease.id, now) {
            st.place(&lease.id, JobState::Dead, now);
            st.trim_dead();
        }
        Ok(())
    }

    async fn release_holds(&self, filter: &HoldFilter) -> Result<u64, StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        let ids: Vec<JobId> = match filter {
            HoldFilter::All => st.set(JobState::Hold).iter().map(|(_, id)| id.clone()).collect(),
            HoldFilter::IdPrefixes(prefixes) => st
                .set(JobState::Hold)
                .iter()
                .filter(|(_, id)| prefixes.iter().any(|p| id.as_str().starts_with(p.as_str())))
                .map(|(_, id)| id.clone())
                .collect(),
            HoldFilter::Ids(ids) => {
                ids.iter().filter(|id| st.jobs.get(*id).is_some_and(|r| r.state == JobState::Hold)).cloned().collect()
            }
        };
        for id in &ids {
            st.place(id, JobState::Due, now);
        }
        Ok(ids.len() as u64)
    }

    async fn depths(&self) -> Result<Depths, StoreError> {
        let st = self.lock();
        let n = |s| st.set(s).len() as u64;
        Ok(Depths {
            due: n(JobState::Due),
            inflight: n(JobState::Inflight),
            hold: n(JobState::Hold),
            dead: n(JobState::Dead),
        })
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let st = self.lock();
        let letters = st.set(JobState::Dead).iter().rev().take(limit).filter_map(|(at, id)| {
            let rec = st.jobs.get(id)?;
            Some(DeadLetter {
                id: id.clone(),
                kind: rec.kind.clone(),
                attempts: rec.attempts,
                last_error: rec.last_error.clone(),
                died_at: *at,
            })
        });
        Ok(letters.collect())
    }

    async fn redrive(&self, n: usize) -> Result<u64, StoreError> {
        let now = MemoryStore::now(self);
        let mut st = self.lock();
        let ids: Vec<JobId> = st.set(JobState::Dead).iter().take(n).map(|(_, id)| id.clone()).collect();
        for id in &ids {
            if let Some(rec) = st.jobs.get_mut(id) {
                rec.attempts = 0;
                rec.created_at = now;
            }
            st.place(id, JobState::Due, now);
        }
        Ok(ids.len() as u64)
    }

    async fn job(&self, id: &JobId) -> Result<Option<JobInfo>, StoreError> {
        Ok(self.lock().info(id))
    }
}
