//! The memory store's data: one record per job plus one ordered set per state, mirroring the
//! Redis layout (a sorted set per state, a hash per job) so both stores behave alike.

use std::collections::{BTreeSet, HashMap};

use crate::store::{JobId, JobInfo, JobState, MAX_DEAD_PER_PARTITION, Millis};

/// One job as stored.
pub(super) struct Rec {
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: u32,
    pub created_at: Millis,
    pub token: Option<String>,
    pub last_error: Option<String>,
    /// Set when enqueued while in flight: run again at this time after the current run.
    pub rerun: Option<Millis>,
    pub state: JobState,
    /// The score in its state's set.
    pub at: Millis,
}

#[derive(Default)]
pub(super) struct State {
    pub jobs: HashMap<JobId, Rec>,
    due: BTreeSet<(Millis, JobId)>,
    inflight: BTreeSet<(Millis, JobId)>,
    hold: BTreeSet<(Millis, JobId)>,
    dead: BTreeSet<(Millis, JobId)>,
    pub seq: u64,
    /// Dedupe key → expiry, plus the same ordered by expiry so expired keys are dropped cheaply.
    dedupe: HashMap<String, Millis>,
    dedupe_by_expiry: BTreeSet<(Millis, String)>,
}

impl State {
    pub fn set(&self, state: JobState) -> &BTreeSet<(Millis, JobId)> {
        match state {
            JobState::Due => &self.due,
            JobState::Inflight => &self.inflight,
            JobState::Hold => &self.hold,
            JobState::Dead => &self.dead,
        }
    }

    fn set_mut(&mut self, state: JobState) -> &mut BTreeSet<(Millis, JobId)> {
        match state {
            JobState::Due => &mut self.due,
            JobState::Inflight => &mut self.inflight,
            JobState::Hold => &mut self.hold,
            JobState::Dead => &mut self.dead,
        }
    }

    /// Moves a job (already in `jobs`) to `state` at `at`.
    pub fn place(&mut self, id: &JobId, state: JobState, at: Millis) {
        let Some(rec) = self.jobs.get_mut(id) else { return };
        let old = (rec.state, rec.at);
        rec.state = state;
        rec.at = at;
        self.set_mut(old.0).remove(&(old.1, id.clone()));
        self.set_mut(state).insert((at, id.clone()));
    }

    /// Inserts a new record and its set entry.
    pub fn insert(&mut self, id: JobId, rec: Rec) {
        self.set_mut(rec.state).insert((rec.at, id.clone()));
        self.jobs.insert(id, rec);
    }

    /// Removes a job and everything about it.
    pub fn remove(&mut self, id: &JobId) {
        if let Some(rec) = self.jobs.remove(id) {
            self.set_mut(rec.state).remove(&(rec.at, id.clone()));
        }
    }

    /// Up to `n` ids in `state` scored at or before `now`, lowest score first.
    pub fn ready(&self, state: JobState, now: Millis, n: usize) -> Vec<(Millis, JobId)> {
        self.set(state).iter().take_while(|(at, _)| *at <= now).take(n).cloned().collect()
    }

    /// The job if it is in flight under `token`.
    pub fn leased(&mut self, id: &JobId, token: &str) -> Option<&mut Rec> {
        self.jobs.get_mut(id).filter(|r| r.state == JobState::Inflight && r.token.as_deref() == Some(token))
    }

    /// Drops the oldest dead letters beyond the cap.
    pub fn trim_dead(&mut self) {
        while self.dead.len() > MAX_DEAD_PER_PARTITION {
            let Some((_, id)) = self.dead.first().cloned() else { break };
            self.remove(&id);
        }
    }

    /// Remembers `key` until `expires` unless it is already remembered; true when new.
    pub fn dedupe(&mut self, key: &str, now: Millis, expires: Millis) -> bool {
        while let Some((at, k)) = self.dedupe_by_expiry.first().cloned() {
            if at > now {
                break;
            }
            self.dedupe_by_expiry.remove(&(at, k.clone()));
            self.dedupe.remove(&k);
        }
        if self.dedupe.contains_key(key) {
            return false;
        }
        self.dedupe.insert(key.to_owned(), expires);
        self.dedupe_by_expiry.insert((expires, key.to_owned()));
        true
    }

    pub fn info(&self, id: &JobId) -> Option<JobInfo> {
        self.jobs.get(id).map(|r| JobInfo {
            id: id.clone(),
            kind: r.kind.clone(),
            state: r.state,
            at: r.at,
            attempts: r.attempts,
            last_error: r.last_error.clone(),
            payload: r.payload.clone(),
        })
    }
}
