//! The OAuth connections of `auth = "oauth"` carts: one versioned document per cart (tokens
//! sealed, see `oauth/`), the refresh lease, and the one-time `state` values of Connect.
//!
//! * `oauth:{<cart>}` — document: [`StoredConnection`]. Every write is a compare-and-set on its
//!   version, so a refresh stores the new access token, the rotated refresh token and the expiry
//!   together, and only over the version it refreshed from.
//! * `oauth_lease:{<cart>}` — string, `SET NX PX`: the replica holding it is the only one
//!   presenting the refresh token; released by its holder only (`del_if.lua`), or it expires.
//! * `oauth_state:<sha256 of the state>` — string with a 10-minute expiry: the merchant and cart
//!   a Connect was started for. Taken with `GETDEL`, so of two callbacks with the same `state`
//!   at most one proceeds. The state itself is never stored.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys;
use super::kv::{Conflict, Kv};
use crate::store::StoreError;

/// Whether the cart's grant is usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Connected,
    Disconnected,
}

/// A cart's connection as stored. The tokens are sealed values (`v1.<kid>.<nonce>.<ct>`),
/// never plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConnection {
    pub status: ConnectionStatus,
    /// The merchant the tokens are sealed for.
    pub merchant: String,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    /// Unix ms when the access token was obtained and when it expires (our clock).
    pub obtained_at_ms: i64,
    pub expires_at_ms: i64,
    /// Why and since when (unix ms) the cart is disconnected.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub since_ms: Option<i64>,
}

/// Where a Connect started: the merchant and the cart the `state` is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingConnect {
    pub merchant: String,
    pub cart: String,
}

/// The store of OAuth connections.
#[derive(Clone)]
pub struct OAuthStore {
    kv: Arc<dyn Kv>,
}

impl OAuthStore {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// The cart's connection and its version (`None`: never connected).
    pub async fn load(&self, cart: &str) -> Result<Option<(u64, StoredConnection)>, StoreError> {
        let key = keys::oauth_connection(cart);
        let Some(doc) = self.kv.get(&key).await? else { return Ok(None) };
        let conn = serde_json::from_slice(&doc.value).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
        Ok(Some((doc.version, conn)))
    }

    /// The version alone (what a replica waiting for another's refresh polls).
    pub async fn version(&self, cart: &str) -> Result<Option<u64>, StoreError> {
        self.kv.version(&keys::oauth_connection(cart)).await
    }

    /// Writes `conn` if the stored version is still `expected` (`None`: none stored).
    pub async fn save(
        &self,
        cart: &str,
        expected: Option<u64>,
        conn: &StoredConnection,
    ) -> Result<Result<u64, Conflict>, StoreError> {
        let value = serde_json::to_vec(conn).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.kv.put(&keys::oauth_connection(cart), expected, &value, &[]).await
    }

    /// Takes the refresh lease of `cart` for `ttl_ms` as `holder`; whether it was free.
    pub async fn lease(&self, cart: &str, holder: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        self.kv.set_nx_px(&keys::oauth_lease(cart), holder, ttl_ms).await
    }

    /// Releases the lease if `holder` still holds it.
    pub async fn release(&self, cart: &str, holder: &str) -> Result<bool, StoreError> {
        self.kv.del_if(&keys::oauth_lease(cart), holder).await
    }

    /// Whether anyone holds the lease now.
    pub async fn leased(&self, cart: &str) -> Result<bool, StoreError> {
        Ok(self.kv.get_str(&keys::oauth_lease(cart)).await?.is_some())
    }

    /// Remembers a Connect's `state` for `ttl_ms`; `false` if that state exists already.
    pub async fn remember_state(&self, state: &str, pending: &PendingConnect, ttl_ms: u64) -> Result<bool, StoreError> {
        let value = serde_json::to_string(pending).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.kv.set_nx_px(&keys::oauth_state(&state_digest(state)), &value, ttl_ms).await
    }

    /// Consumes a `state`: what it was bound to, once; `None` for an unknown, expired or used one.
    pub async fn take_state(&self, state: &str) -> Result<Option<PendingConnect>, StoreError> {
        let key = keys::oauth_state(&state_digest(state));
        let Some(value) = self.kv.take(&key).await? else { return Ok(None) };
        serde_json::from_str(&value).map(Some).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))
    }
}

/// States are stored by digest: a leaked key list reveals no usable state.
fn state_digest(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}
