//! When each merchant's holds were last released by hand (store clock, ms): a send the
//! warehouse refuses reads it after writing `on_hold`, so a release during its attempt is never
//! missed (see `workflows::holds`). A field of the merchant's `cursors` hash.

use std::sync::Arc;

use super::keys;
use super::kv::Kv;
use crate::store::{Millis, StoreError};

/// Records of releases by hand.
#[derive(Clone)]
pub struct HoldReleases {
    kv: Arc<dyn Kv>,
}

impl HoldReleases {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// When the merchant's holds were last released by hand.
    pub async fn released_at(&self, merchant: &str) -> Result<Option<Millis>, StoreError> {
        Ok(self.kv.hget(&keys::cursors(merchant), keys::HOLDS_RELEASED).await?.and_then(|v| v.parse().ok()))
    }

    /// Records a release by hand of the merchant's holds at `at`.
    pub async fn note_released(&self, merchant: &str, at: Millis) -> Result<(), StoreError> {
        self.kv.hset(&keys::cursors(merchant), &[(keys::HOLDS_RELEASED.to_owned(), at.to_string())]).await
    }
}
