//! Jobs and the [`JobStore`] contract shared by the Redis and the memory store.
//!
//! Semantics (both stores, checked by one conformance suite):
//! * A job id is a natural key (`send_order:{cart}:{order}`): enqueueing an id that is already
//!   pending does not create a second job.
//! * Every job is in exactly one state: `due` (scored by its next attempt, ms), `inflight`
//!   (scored by lease expiry), `hold` (scored by release time) or `dead`.
//! * [`JobStore::claim`] is one atomic step on the store's clock: expired leases and holds whose
//!   time has come go back to `due`, then up to `max` due jobs move to `inflight` with a fresh
//!   token. Every later call about that claim names its [`Lease`]; a lease that expired and was
//!   claimed again by someone else answers [`StoreError::LeaseLost`] and changes nothing.
//! * Enqueueing a job that is in flight marks it to run again after the current run ends
//!   (the running handler may have read data older than what triggered the new enqueue): when
//!   the run ends with ack, hold or bury, the job goes back to `due` at the requested time with
//!   a fresh start (attempts 0, `created_at` = now); a retry goes to `due` at the earlier of the
//!   two times. The payload of the running job is kept (same id, same work).
//! * An expired lease counts as a failed attempt (`attempts + 1`, `last_error` says so), so a job
//!   that kills its worker every time still reaches the give-up horizon.
//! * Finished jobs leave nothing behind; dead letters are capped per partition
//!   ([`MAX_DEAD_PER_PARTITION`]), the oldest dropped first.
//! * Enqueueing a dead job revives it (`Created`, attempts 0). `redrive` does the same for the
//!   oldest `n` dead jobs.

use std::time::Duration;

use serde::Serialize;

use super::StoreError;

mod id;
pub use id::{InvalidJobId, JobId, JobKind};

/// Milliseconds since the Unix epoch, on the store's clock.
pub type Millis = i64;

/// Dead letters kept per partition; older ones are dropped (with their data) when more die.
pub const MAX_DEAD_PER_PARTITION: usize = 10_000;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: JobId,
    pub kind: JobKind,
    pub payload: serde_json::Value,
}

/// When a job should run. Relative times are resolved on the store's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Now,
    After(Duration),
    At(Millis),
}

/// What `enqueue` does when the id is already pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    /// Keep its place.
    Keep,
    /// Move it to the new time if that is earlier (a held job moves back to `due`).
    MoveEarlier,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job (or a dead one revived).
    Created,
    /// Already pending; left where it was.
    AlreadyPending,
    /// Already pending; moved earlier.
    Moved,
    /// In flight: it will run again once the current run ends.
    Rerun,
}

/// What `enqueue_once` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deduped {
    Enqueued(Enqueued),
    /// The dedupe key was seen before: nothing changed.
    Duplicate,
}

/// Proof of a claim; every follow-up call is fenced by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: JobId,
    pub token: String,
    /// Where the store found the job (the Redis partition; 0 for the memory store). Follow-up
    /// calls go there rather than to where the id hashes now, so a job enqueued under another
    /// partition count or layout still completes.
    pub partition: u16,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: JobKind,
    pub payload: serde_json::Value,
    /// Failed attempts so far (rate-limit waits are not counted).
    pub attempts: u32,
    /// When the job was first enqueued (for the give-up horizon).
    pub created_at: Millis,
    /// The store's clock at the claim: the base for absolute times a handler returns
    /// (`RetryAt`, `Hold`), so they do not depend on this replica's clock.
    pub claimed_at: Millis,
    pub lease: Lease,
}

/// The result of one claim.
#[derive(Debug, Clone)]
pub struct ClaimBatch {
    /// The store's clock at the claim.
    pub now: Millis,
    pub jobs: Vec<ClaimedJob>,
}

/// How a retry counts against the job's attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// A real failure: attempts + 1.
    Attempt,
    /// A wait (rate limit): attempts unchanged.
    Free,
    /// A new occurrence of a recurring job: attempts back to 0, created_at = now.
    Reset,
}

/// Jobs per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Depths {
    pub due: u64,
    pub inflight: u64,
    pub hold: u64,
    pub dead: u64,
}

/// A job in the dead letters.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub id: JobId,
    pub kind: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub died_at: Millis,
}

/// Which held jobs to release.
#[derive(Debug, Clone)]
pub enum HoldFilter {
    All,
    /// Jobs whose id starts with any of these (e.g. `send_order:{cart}:` for a merchant's carts).
    IdPrefixes(Vec<String>),
    Ids(Vec<JobId>),
}

/// Where a job is now (inspection, tests, admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Due,
    Inflight,
    Hold,
    Dead,
}

/// A job as stored (inspection).
#[derive(Debug, Clone)]
pub struct JobInfo {
    pub id: JobId,
    pub kind: String,
    pub state: JobState,
    /// The score in its state's set: next attempt, lease expiry, release or death time.
    pub at: Millis,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub payload: serde_json::Value,
}

/// The queue. Both implementations keep the semantics in the module docs.
#[async_trait::async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The store's clock.
    async fn now(&self) -> Result<Millis, StoreError>;
    /// Adds a job (idempotent by id, see [`OnExisting`]).
    async fn enqueue(&self, job: &NewJob, when: When, on_existing: OnExisting) -> Result<Enqueued, StoreError>;
    /// Atomically: if `dedupe_key` was not seen within `ttl`, remember it and enqueue (`Keep`).
    /// The key is remembered next to the job (in the job's partition, so this stays one atomic
    /// step on Redis Cluster): it is guaranteed to dedupe enqueues of the same job id, such as
    /// redeliveries of one webhook; do not rely on it across different job ids.
    async fn enqueue_once(
        &self,
        dedupe_key: &str,
        ttl: Duration,
        job: &NewJob,
        when: When,
    ) -> Result<Deduped, StoreError>;
    /// Takes up to `max` due jobs, leased for `lease`.
    async fn claim(&self, max: usize, lease: Duration) -> Result<ClaimBatch, StoreError>;
    /// The job is done: it leaves nothing behind (unless marked to rerun: then it is due again).
    async fn ack(&self, lease: &Lease) -> Result<(), StoreError>;
    /// [`JobStore::ack`] for many leases at once, one answer per lease in order. Stores batch
    /// this (one script call per partition), which is what makes high claim+ack rates possible.
    async fn ack_many(&self, leases: &[Lease]) -> Vec<Result<(), StoreError>> {
        let mut out = Vec::with_capacity(leases.len());
        for lease in leases {
            out.push(self.ack(lease).await);
        }
        out
    }
    /// Back to `due` at `when`, recording `error`.
    async fn retry(&self, lease: &Lease, when: When, error: Option<&str>, charge: Charge) -> Result<(), StoreError>;
    /// To `hold` until `until`, recording `reason`.
    async fn hold(&self, lease: &Lease, until: Millis, reason: &str) -> Result<(), StoreError>;
    /// Renews the lease for another `lease`.
    async fn extend(&self, lease: &Lease, lease_for: Duration) -> Result<(), StoreError>;
    /// To `dead`, recording `reason`.
    async fn bury(&self, lease: &Lease, reason: &str) -> Result<(), StoreError>;
    /// Moves matching held jobs to `due` now; returns how many.
    async fn release_holds(&self, filter: &HoldFilter) -> Result<u64, StoreError>;
    async fn depths(&self) -> Result<Depths, StoreError>;
    /// The most recently dead jobs first.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError>;
    /// Moves up to `n` dead jobs (oldest first) back to `due` with attempts reset.
    async fn redrive(&self, n: usize) -> Result<u64, StoreError>;
    /// One job, wherever it is.
    async fn job(&self, id: &JobId) -> Result<Option<JobInfo>, StoreError>;
}
