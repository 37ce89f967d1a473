//! The store: where all pending work and all state lives (see DESIGN.md, "Queue in Redis").
//!
//! `memory://` selects the embedded in-process store (one instance only); `redis://…` the
//! shared Redis every replica coordinates through (with `store.cluster`, seed nodes of a Redis
//! Cluster). Both implement [`JobStore`] with the same
//! semantics (module docs of [`job`]); `tests/store/suite.rs` runs against both.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::settings::StoreSettings;

pub mod clock;
pub mod job;
pub mod memory;
pub mod redis;
mod wake;

pub use job::*;
pub use memory::MemoryStore;
pub use redis::RedisStore;

/// Something the store could not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or did not answer: callers answer 503 / retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store configuration: {0}")]
    Config(String),
    /// The claim behind this call expired and the job was claimed again: nothing was changed.
    #[error("lease lost: the job was claimed again after the lease expired")]
    LeaseLost,
    /// The job does not exist (already acked, or never enqueued).
    #[error("no such job")]
    NoSuchJob,
    /// The store answered something this version cannot read.
    #[error("store data: {0}")]
    Corrupt(String),
}

/// A handle on the configured store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    jobs: Arc<dyn JobStore>,
    redis: Option<redis::RedisConn>,
    wake: Arc<Notify>,
    /// What [`Store::for_this_thread`] connects with (Redis only).
    settings: Option<StoreSettings>,
}

impl Store {
    /// Prepares the store. Connecting to Redis is lazy: an unreachable Redis makes the replica
    /// not ready, not unable to start. Needs a Tokio runtime (the connection's task runs on it).
    pub fn connect(settings: &StoreSettings) -> Result<Self, StoreError> {
        if settings.url == "memory://" {
            return Ok(Self::with_jobs(Arc::new(MemoryStore::new()), None));
        }
        let (jobs, conn) = Self::redis_jobs(settings)?;
        Ok(Self { settings: Some(settings.clone()), ..Self::with_jobs(jobs, Some(conn)) })
    }

    /// A Redis job store over a fresh lazily connecting connection.
    fn redis_jobs(settings: &StoreSettings) -> Result<(Arc<dyn JobStore>, redis::RedisConn), StoreError> {
        let conn = redis::RedisConn::open(settings)?;
        Ok((Arc::new(RedisStore::new(conn.clone(), &settings.prefix, settings.partitions)), conn))
    }

    /// The same store over a connection of its own, whose I/O runs on the calling thread's
    /// runtime; enqueueing through it wakes the same claim loop. Each HTTP worker takes one, so
    /// a webhook's durable enqueue never hops to another thread and back (on a 2-core machine
    /// that hop cost more than the Redis call). Memory stores and injected ones are shared as is.
    pub fn for_this_thread(&self) -> Result<Self, StoreError> {
        let Some(settings) = &self.settings else { return Ok(self.clone()) };
        let (jobs, conn) = Self::redis_jobs(settings)?;
        let jobs: Arc<dyn JobStore> = Arc::new(wake::Waking::new(jobs, self.wake.clone()));
        Ok(Self { jobs, redis: Some(conn), wake: self.wake.clone(), settings: None })
    }

    /// A store over any [`JobStore`] (tests inject a memory store with their own clock).
    pub fn with_jobs(jobs: Arc<dyn JobStore>, redis: Option<redis::RedisConn>) -> Self {
        let wake = Arc::new(Notify::new());
        let jobs: Arc<dyn JobStore> = Arc::new(wake::Waking::new(jobs, wake.clone()));
        Self { jobs, redis, wake, settings: None }
    }

    /// The queue. Enqueueing through it wakes this replica's idle claim loop.
    pub fn jobs(&self) -> &Arc<dyn JobStore> {
        &self.jobs
    }

    /// Notified whenever this replica adds work (the worker pool waits on it when idle).
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The shared multiplexed Redis connection (rate limiter, order ledger; standalone or
    /// cluster); `None` for memory.
    pub fn redis(&self) -> Option<redis::RedisConn> {
        self.redis.clone()
    }

    /// Whether the store answers (fails within about a second when Redis is down).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.jobs.ping().await
    }

    /// Start-up checks of the store's own configuration; only logs.
    pub async fn warn_about_setup(&self) {
        if let Some(conn) = &self.redis {
            let check = redis::warn_about_setup(conn);
            if tokio::time::timeout(redis::REDIS_TIMEOUT * 2, check).await.is_err() {
                tracing::warn!("redis did not answer at start-up; cannot check maxmemory-policy");
            }
        }
    }
}
