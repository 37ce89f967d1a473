//! The queue as an operator sees it: depths per state, the dead letters, redrive.

use std::collections::HashSet;

use super::{OpError, Ops};
use crate::store::{DeadLetter, Depths};

/// Dead letters listed when no `limit` is given, and the most one request may ask for.
const DEFAULT_LIST: usize = 100;
const MAX_LIST: usize = 1_000;
/// The most dead letters one redrive moves (it is a snapshot, never "until empty").
const MAX_REDRIVE: usize = 10_000;

impl Ops {
    /// Jobs per state (due, in flight, held, dead).
    pub async fn queue_depths(&self) -> Result<Depths, OpError> {
        Ok(self.deps().jobs.depths().await?)
    }

    /// The most recently dead jobs first; at most 1,000.
    pub async fn dead_letters(&self, limit: Option<usize>) -> Result<Vec<DeadLetter>, OpError> {
        let limit = limit.unwrap_or(DEFAULT_LIST);
        if limit > MAX_LIST {
            return Err(OpError::LimitTooHigh { max: MAX_LIST });
        }
        Ok(self.deps().jobs.dead_letters(limit).await?)
    }

    /// Moves the `limit` oldest dead jobs back to due (attempts reset); at most 10,000.
    pub async fn redrive(&self, limit: usize) -> Result<u64, OpError> {
        if limit > MAX_REDRIVE {
            return Err(OpError::LimitTooHigh { max: MAX_REDRIVE });
        }
        let moved = self.deps().jobs.redrive(limit).await?;
        self.clear_redriven().await?;
        Ok(moved)
    }

    /// Resolves the `jobs_dead` alerts whose jobs are no longer dead (those of the newest
    /// [`MAX_REDRIVE`] dead letters still count as dead).
    async fn clear_redriven(&self) -> Result<(), OpError> {
        let deps = self.deps();
        let dead: HashSet<String> =
            deps.jobs.dead_letters(MAX_REDRIVE).await?.into_iter().map(|d| d.id.as_str().to_owned()).collect();
        for merchant in deps.tenants.now().merchants() {
            deps.alerts.dead_jobs_now(&merchant.id, |job| dead.contains(job)).await?;
        }
        Ok(())
    }
}
