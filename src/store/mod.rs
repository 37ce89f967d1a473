//! The store: where all pending work and all state lives (see DESIGN.md, "Queue in Redis").
//!
//! `memory://` selects the embedded in-process store (one instance only); `redis://…` the
//! shared Redis every replica coordinates through.

use std::time::Duration;

use deadpool_redis::{Config as PoolConfig, Pool, Runtime, Timeouts};

use crate::settings::StoreSettings;

pub mod job;

pub use job::*;

/// Something the store could not do.
#[derive(Debug, thiserror::Error)]
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

/// How long we wait for a Redis connection or an answer before calling the store unavailable.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// A handle on the configured store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Memory,
    Redis(Pool),
}

impl Store {
    /// Prepares the store. Connecting to Redis is lazy: an unreachable Redis makes the replica
    /// not ready, not unable to start.
    pub fn connect(settings: &StoreSettings) -> Result<Self, StoreError> {
        if settings.url == "memory://" {
            return Ok(Self { backend: Backend::Memory });
        }
        let mut cfg = PoolConfig::from_url(settings.url.clone());
        let mut pool_cfg = deadpool_redis::PoolConfig::new(64);
        pool_cfg.timeouts =
            Timeouts { wait: Some(REDIS_TIMEOUT), create: Some(REDIS_TIMEOUT), recycle: Some(REDIS_TIMEOUT) };
        cfg.pool = Some(pool_cfg);
        let pool = cfg.create_pool(Some(Runtime::Tokio1)).map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Self { backend: Backend::Redis(pool) })
    }

    /// Whether the store answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Memory => Ok(()),
            Backend::Redis(pool) => {
                let mut conn = pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
                let pong: String = redis::cmd("PING")
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                if pong == "PONG" { Ok(()) } else { Err(StoreError::Unavailable(format!("PING answered {pong}"))) }
            }
        }
    }
}
