//! Merchant API tokens, stored only by the SHA-256 of their value (hex): the token is shown
//! once, at creation, and never written anywhere.
//!
//! Two keys per token: its record in the merchant's `tokens:<merchant>` (listing, revocation)
//! and its digest in `token_hashes` (the lookup every request authenticates through). Creation
//! writes the record first and the digest last; revocation removes the digest first. So a
//! store failing half-way can leave a listed token that does not authenticate (revoke it again),
//! never one that authenticates without being listed. Requests read the digest from the store
//! each time (no cache): a revocation is in force on every replica at once.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::keys;
use super::kv::Kv;
use crate::domain::MerchantId;
use crate::store::{Millis, StoreError};

/// What is kept about one token: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    pub created_at: Millis,
    /// Hex SHA-256 of the token.
    pub digest: String,
}

/// One token as listed: its id, record and last successful use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedToken {
    pub id: String,
    pub record: TokenRecord,
    pub last_used_at: Option<Millis>,
}

/// Whose a token is: what a digest lookup finds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenOwner {
    pub merchant: MerchantId,
    pub id: String,
}

/// The merchant token store.
#[derive(Clone)]
pub struct MerchantTokens {
    kv: Arc<dyn Kv>,
}

fn corrupt(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl MerchantTokens {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// Stores a new token's record, then its digest (which makes it usable).
    pub async fn add(&self, merchant: &MerchantId, id: &str, record: &TokenRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(record).map_err(|e| corrupt("token record", e))?;
        self.kv.hset(&keys::tokens(merchant), &[(id.to_owned(), json)]).await?;
        let owner = TokenOwner { merchant: merchant.clone(), id: id.to_owned() };
        let owner = serde_json::to_string(&owner).map_err(|e| corrupt("token owner", e))?;
        self.kv.hset(keys::TOKEN_HASHES, &[(record.digest.clone(), owner)]).await
    }

    /// The merchant's tokens, oldest first.
    pub async fn list(&self, merchant: &MerchantId) -> Result<Vec<ListedToken>, StoreError> {
        let used: std::collections::HashMap<String, String> =
            self.kv.hgetall(&keys::token_used(merchant)).await?.into_iter().collect();
        let mut out = Vec::new();
        for (id, json) in self.kv.hgetall(&keys::tokens(merchant)).await? {
            let record: TokenRecord = serde_json::from_str(&json).map_err(|e| corrupt("token record", e))?;
            let last_used_at = used.get(&id).and_then(|v| v.parse().ok());
            out.push(ListedToken { id, record, last_used_at });
        }
        out.sort_by(|a, b| (a.record.created_at, &a.id).cmp(&(b.record.created_at, &b.id)));
        Ok(out)
    }

    /// Revokes a token: its digest goes first, so it stops authenticating before it stops being
    /// listed. `false`: the merchant has no such token.
    pub async fn revoke(&self, merchant: &MerchantId, id: &str) -> Result<bool, StoreError> {
        let Some(json) = self.kv.hget(&keys::tokens(merchant), id).await? else { return Ok(false) };
        let record: TokenRecord = serde_json::from_str(&json).map_err(|e| corrupt("token record", e))?;
        self.kv.hdel(keys::TOKEN_HASHES, &[record.digest]).await?;
        self.kv.hdel(&keys::tokens(merchant), &[id.to_owned()]).await?;
        self.kv.hdel(&keys::token_used(merchant), &[id.to_owned()]).await?;
        Ok(true)
    }

    /// Revokes every token of the merchant (when it is deleted: a merchant created again under
    /// the same id must not inherit them). Returns how many there were.
    pub async fn revoke_all(&self, merchant: &MerchantId) -> Result<usize, StoreError> {
        let ids: Vec<String> = self.kv.hgetall(&keys::tokens(merchant)).await?.into_iter().map(|(id, _)| id).collect();
        for id in &ids {
            self.revoke(merchant, id).await?;
        }
        Ok(ids.len())
    }

    /// Whose token has this digest, if it is live.
    pub async fn owner(&self, digest: &str) -> Result<Option<TokenOwner>, StoreError> {
        let Some(json) = self.kv.hget(keys::TOKEN_HASHES, digest).await? else { return Ok(None) };
        serde_json::from_str(&json).map(Some).map_err(|e| corrupt("token owner", e))
    }

    /// Records a successful use of the token at `at`.
    pub async fn note_used(&self, merchant: &MerchantId, id: &str, at: Millis) -> Result<(), StoreError> {
        self.kv.hset(&keys::token_used(merchant), &[(id.to_owned(), at.to_string())]).await
    }
}
