//! Wakes this replica's idle claim loop when this replica adds work, so a job enqueued by a
//! webhook runs at once instead of after the loop's idle back-off.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{
    Charge, ClaimBatch, DeadLetter, Deduped, Depths, Enqueued, HoldFilter, JobId, JobInfo, JobStore, Lease, Millis,
    NewJob, OnExisting, StoreError, When,
};

/// A [`JobStore`] that notifies after every call that may have made a job due.
pub struct Waking {
    inner: Arc<dyn JobStore>,
    notify: Arc<Notify>,
}

impl Waking {
    pub fn new(inner: Arc<dyn JobStore>, notify: Arc<Notify>) -> Self {
        Self { inner, notify }
    }

    fn wake<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if r.is_ok() {
            self.notify.notify_one();
        }
        r
    }
}

#[async_trait::async_trait]
impl JobStore for Waking {
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn now(&self) -> Result<Millis, StoreError> {
        self.inner.now().await
    }
    async fn enqueue(&self, job: &NewJob, when: When, on_existing: OnExisting) -> Result<Enqueued, StoreError> {
        self.wake(self.inner.enqueue(job, when, on_existing).await)
    }
    async fn enqueue_once(&self, key: &str, ttl: Duration, job: &NewJob, when: When) -> Result<Deduped, StoreError> {
        self.wake(self.inner.enqueue_once(key, ttl, job, when).await)
    }
    async fn claim(&self, max: usize, lease: Duration) -> Result<ClaimBatch, StoreError> {
        self.inner.claim(max, lease).await
    }
    async fn ack(&self, lease: &Lease) -> Result<(), StoreError> {
        self.inner.ack(lease).await
    }
    async fn ack_many(&self, leases: &[Lease]) -> Vec<Result<(), StoreError>> {
        self.inner.ack_many(leases).await
    }
    async fn retry(&self, lease: &Lease, when: When, error: Option<&str>, charge: Charge) -> Result<(), StoreError> {
        self.inner.retry(lease, when, error, charge).await
    }
    async fn hold(&self, lease: &Lease, until: Millis, reason: &str) -> Result<(), StoreError> {
        self.inner.hold(lease, until, reason).await
    }
    async fn extend(&self, lease: &Lease, lease_for: Duration) -> Result<(), StoreError> {
        self.inner.extend(lease, lease_for).await
    }
    async fn bury(&self, lease: &Lease, reason: &str) -> Result<(), StoreError> {
        self.inner.bury(lease, reason).await
    }
    async fn release_holds(&self, filter: &HoldFilter) -> Result<u64, StoreError> {
        self.wake(self.inner.release_holds(filter).await)
    }
    async fn depths(&self) -> Result<Depths, StoreError> {
        self.inner.depths().await
    }
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.inner.dead_letters(limit).await
    }
    async fn redrive(&self, n: usize) -> Result<u64, StoreError> {
        self.wake(self.inner.redrive(n).await)
    }
    async fn job(&self, id: &JobId) -> Result<Option<JobInfo>, StoreError> {
        self.inner.job(id).await
    }
}
