//! The embedded store (`memory://`): the [`JobStore`] semantics in one process, for trying
//! cartgate out, the demo and tests. One mutex over all state keeps every operation atomic, as
//! a Lua script is in Redis; the clock is the process's own unless one is injected.

mod ops;
mod state;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ops::{claim_locked, enqueue_locked, millis, rerun_if_asked, resolve};
use state::State;

use super::clock::{Clock, system_clock};
use super::{
    ClaimBatch, DeadLetter, Deduped, Depths, Enqueued, HoldFilter, JobInfo, JobState, JobStore, Lease, Millis, NewJob,
    OnExisting, StoreError, When,
};
use crate::store::{Charge, JobId};

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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;
    use crate::store::JobKind;

    #[tokio::test]
    async fn an_injected_clock_decides_when_holds_and_leases_end() {
        let now = Arc::new(AtomicI64::new(1_000_000));
        let clock = now.clone();
        let store = MemoryStore::with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
        let job = NewJob { id: JobId::parse("noop:1").unwrap(), kind: JobKind::Noop, payload: serde_json::Value::Null };
        store.enqueue(&job, When::Now, OnExisting::Keep).await.unwrap();
        let lease = Duration::from_secs(60);
        let claimed = store.claim(1, lease).await.unwrap().jobs.remove(0);
        store.hold(&claimed.lease, 1_000_000 + 3_600_000, "wait an hour").await.unwrap();
        now.fetch_add(3_599_999, Ordering::SeqCst);
        assert!(store.claim(1, lease).await.unwrap().jobs.is_empty());
        now.fetch_add(1, Ordering::SeqCst);
        let again = store.claim(1, lease).await.unwrap().jobs.remove(0);
        now.fetch_add(60_001, Ordering::SeqCst);
        assert_eq!(store.claim(1, lease).await.unwrap().jobs[0].attempts, 1, "the lease ran out");
        assert_eq!(store.ack(&again.lease).await, Err(StoreError::LeaseLost));
    }
}
