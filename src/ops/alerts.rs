//! A merchant's alerts, for the admin API: listed newest first, acknowledged by a person.

use super::{MerchantOps, OpError};
use crate::alerts::{Alert, AlertState, StateFilter};

/// Alerts listed when no limit is asked for.
pub const DEFAULT_LIMIT: usize = 50;
/// The most one listing returns.
pub const MAX_LIMIT: usize = 500;

impl MerchantOps<'_> {
    /// This merchant's alerts in `state` (all when `None`), newest first; a limit of 0 or above
    /// [`MAX_LIMIT`] is refused.
    pub async fn alerts(&self, state: Option<AlertState>, limit: Option<usize>) -> Result<Vec<Alert>, OpError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(OpError::BadLimit { max: MAX_LIMIT });
        }
        let filter = state.map_or(StateFilter::Any, StateFilter::Only);
        Ok(self.deps().alerts.list(&self.settings().id, filter, limit).await?)
    }

    /// Marks one of this merchant's alerts as seen (the first time is kept); unknown →
    /// [`OpError::NoAlert`].
    pub async fn ack_alert(&self, id: &str) -> Result<Alert, OpError> {
        let acked = self.deps().alerts.ack(&self.settings().id, id).await?;
        acked.ok_or_else(|| OpError::NoAlert(id.to_owned()))
    }
}
