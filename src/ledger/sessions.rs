//! Console sessions, kept in the store so any replica serves any signed-in browser, and kept
//! only by the SHA-256 of their id: the id itself lives in the browser's cookie alone, so
//! someone who reads the store cannot sign in with what they find.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{sessions}:session:<sha256>` | document | who signed in, the session's CSRF token, its idle expiry |
//! | `{sessions}:ix:expiry` | sorted set | every session's digest by its idle expiry (ms) |
//!
//! Both keys carry the `{sessions}` hash tag, so a session and its index entry are written
//! together by one compare-and-set (one Redis Cluster slot). A session is looked up before its
//! merchant is known (a cookie names no merchant), hence one tag for all of them rather than
//! the merchant's. Idle expiry is a field checked on every read, not a Redis TTL: using a
//! session moves it forward (at most once a minute, to keep reads from writing), and sessions
//! nobody signed out of are swept from the expiry index at each sign-in.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::kv::{IndexOp, Kv};
use crate::domain::MerchantId;
use crate::store::{Millis, StoreError};

/// How long a session lives without being used: 12 h.
pub const IDLE_MS: Millis = 12 * 60 * 60 * 1000;
/// A session used again within this long after its last refresh is not written again.
const REFRESH_EVERY_MS: Millis = 60 * 1000;
/// Expired sessions removed by one sweep at most.
const SWEEP_BATCH: usize = 100;

const EXPIRY_INDEX: &str = "{sessions}:ix:expiry";

fn session_key(digest: &str) -> String {
    format!("{{sessions}}:session:{digest}")
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionOwner {
    /// Signed in with `server.admin_token`.
    Operator,
    /// Signed in with one of the merchant's tokens.
    Merchant { merchant: MerchantId, token_id: String },
}

/// What the store keeps about one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub owner: SessionOwner,
    /// The token every form of this session carries.
    pub csrf: String,
    /// When the session ends unless it is used before (ms).
    pub expires_at: Millis,
}

/// A live session as read, with the version it was read at.
#[derive(Debug, Clone)]
pub struct Session {
    pub record: SessionRecord,
    version: u64,
}

/// The session store.
#[derive(Clone)]
pub struct Sessions {
    kv: Arc<dyn Kv>,
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("session: {e}"))
}

impl Sessions {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// Stores a new session under the digest of its id. `false`: that digest is taken (never,
    /// for 256 random bits; the caller then draws again).
    pub async fn create(&self, digest: &str, record: &SessionRecord) -> Result<bool, StoreError> {
        let json = serde_json::to_vec(record).map_err(corrupt)?;
        let index = [expiry_entry(digest, record.expires_at)];
        Ok(self.kv.put(&session_key(digest), None, &json, &index).await?.is_ok())
    }

    /// The live session with this digest at `now`; an expired one is removed and `None`.
    pub async fn get(&self, digest: &str, now: Millis) -> Result<Option<Session>, StoreError> {
        let Some(doc) = self.kv.get(&session_key(digest)).await? else { return Ok(None) };
        let record: SessionRecord = serde_json::from_slice(&doc.value).map_err(corrupt)?;
        if record.expires_at <= now {
            self.remove(digest, doc.version).await?;
            return Ok(None);
        }
        Ok(Some(Session { record, version: doc.version }))
    }

    /// Moves the idle expiry of a session just used to `now` + 12 h (skipped when it was moved
    /// within the last minute; a concurrent refresh winning is as good as this one).
    pub async fn touch(&self, digest: &str, session: &Session, now: Millis) -> Result<(), StoreError> {
        let expires_at = now.saturating_add(IDLE_MS);
        if expires_at < session.record.expires_at.saturating_add(REFRESH_EVERY_MS) {
            return Ok(());
        }
        let record = SessionRecord { expires_at, ..session.record.clone() };
        let json = serde_json::to_vec(&record).map_err(corrupt)?;
        let index = [expiry_entry(digest, expires_at)];
        let _lost_to_a_concurrent_refresh =
            self.kv.put(&session_key(digest), Some(session.version), &json, &index).await?;
        Ok(())
    }

    /// Ends a session (sign-out): gone for every replica at once. Ending one already gone is fine.
    pub async fn end(&self, digest: &str) -> Result<(), StoreError> {
        loop {
            let Some(doc) = self.kv.get(&session_key(digest)).await? else { return Ok(()) };
            if self.remove(digest, doc.version).await? {
                return Ok(());
            }
        }
    }

    /// Removes up to a batch of sessions whose idle expiry has passed; returns how many.
    pub async fn sweep(&self, now: Millis) -> Result<usize, StoreError> {
        let mut removed = 0;
        for (digest, expires_at) in self.kv.zrange_after(EXPIRY_INDEX, None, SWEEP_BATCH).await? {
            if expires_at > now as f64 {
                break;
            }
            // A document and its index entry are written together: a digest listed here has
            // its document, unless a sign-out took both since the index was read.
            if let Some(doc) = self.kv.get(&session_key(&digest)).await? {
                let record: SessionRecord = serde_json::from_slice(&doc.value).map_err(corrupt)?;
                if record.expires_at <= now && self.remove(&digest, doc.version).await? {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Deletes the document at `version` with its index entry; `false` when it changed meanwhile.
    async fn remove(&self, digest: &str, version: u64) -> Result<bool, StoreError> {
        let index = [IndexOp::ZRem { key: EXPIRY_INDEX.to_owned(), member: digest.to_owned() }];
        Ok(self.kv.delete(&session_key(digest), version, &index).await?.is_ok())
    }
}

fn expiry_entry(digest: &str, expires_at: Millis) -> IndexOp {
    IndexOp::ZAdd { key: EXPIRY_INDEX.to_owned(), member: digest.to_owned(), score: expires_at as f64 }
}
