//! The memory store's operations that need more than one step on the state: enqueue (with
//! its idempotency rules), claim, and the rerun rule shared by every end of a run.

use std::time::Duration;

use super::state::{Rec, State};
use crate::store::{ClaimedJob, Enqueued, JobId, JobKind, JobState, Lease, Millis, NewJob, OnExisting, When};

/// Expired leases and due holds moved back per claim, as the Redis claim script does.
const RECLAIM_PER_CLAIM: usize = 100;

pub(super) fn resolve(when: When, now: Millis) -> Millis {
    match when {
        When::Now => now,
        When::After(d) => now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        When::At(t) => t,
    }
}

pub(super) fn enqueue_locked(
    st: &mut State,
    job: &NewJob,
    at: Millis,
    now: Millis,
    on_existing: OnExisting,
) -> Enqueued {
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
pub(super) fn rerun_if_asked(st: &mut State, id: &JobId, now: Millis) -> bool {
    let Some(rec) = st.jobs.get_mut(id) else { return false };
    let Some(at) = rec.rerun.take() else { return false };
    rec.attempts = 0;
    rec.created_at = now;
    st.place(id, JobState::Due, at);
    true
}

pub(super) fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(super) fn claim_locked(st: &mut State, now: Millis, max: usize, lease: Duration) -> Vec<ClaimedJob> {
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
            lease: Lease { id, token, partition: 0 },
        });
    }
    jobs
}
