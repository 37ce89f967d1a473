//! Which layout a Redis store's ledger is in, checked before a replica serves from it.
//!
//! The marker `ledger_layout` says `2` (per-merchant keys, this release) or `migrating` (a
//! `cartgate migrate` started and has not finished). A store without the marker is either
//! empty of ledger keys — it is stamped `2` and used — or was written by the previous release,
//! and then `serve` refuses to start until `cartgate migrate` has moved it ([`Unmigrated`]).

use crate::store::redis::RedisConn;

use super::keys::{LAYOUT, v1};
use crate::store::StoreError;

/// The layout this release reads and writes.
pub const CURRENT: &str = "2";
/// Set while `cartgate migrate` runs; cleared to [`CURRENT`] when it finishes.
pub const MIGRATING: &str = "migrating";

/// Why a replica must not serve from this store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmigrated {
    #[error(
        "the store holds the ledger of the previous release (keys under `{{ledger}}` and untagged per-merchant keys); \
         stop every replica and run `cartgate migrate`, then start again"
    )]
    PreviousLayout,
    #[error("a `cartgate migrate` started on this store and did not finish; run `cartgate migrate` again")]
    Migrating,
    #[error("the store's ledger layout is `{0}`, which this release does not know (a newer release wrote it?)")]
    Unknown(String),
}

/// Checks the marker, stamping a store that holds no ledger yet. `Ok(Err(_))`: do not serve.
pub async fn ensure_current(conn: &RedisConn, prefix: &str) -> Result<Result<(), Unmigrated>, StoreError> {
    let mut conn = conn.clone();
    let marker = format!("{prefix}:{LAYOUT}");
    let found: Option<String> = redis::cmd("GET").arg(&marker).query_async(&mut conn).await.map_err(unavailable)?;
    match found.as_deref() {
        Some(CURRENT) => return Ok(Ok(())),
        Some(MIGRATING) => return Ok(Err(Unmigrated::Migrating)),
        Some(other) => return Ok(Err(Unmigrated::Unknown(other.to_owned()))),
        None => {}
    }
    if holds_previous_layout(&mut conn, prefix).await? {
        return Ok(Err(Unmigrated::PreviousLayout));
    }
    let _: Option<String> =
        redis::cmd("SET").arg(&marker).arg(CURRENT).arg("NX").query_async(&mut conn).await.map_err(unavailable)?;
    Ok(Ok(()))
}

/// Whether any key of the previous layout is stored under `prefix`. A store that ever polled a
/// cart or held an order has `{ledger}:ix:orders` or `cursors`; one with neither (nor
/// `holds_released`) and none of the keys both layouts share (`tenants`, `token_hashes`) is new. Only in
/// between is the keyspace scanned (once: a store that passes is stamped).
pub async fn holds_previous_layout(conn: &mut RedisConn, prefix: &str) -> Result<bool, StoreError> {
    let exists = |keys: &[&str]| {
        let mut cmd = redis::cmd("EXISTS");
        for k in keys {
            cmd.arg(format!("{prefix}:{k}"));
        }
        cmd
    };
    let old: i64 =
        exists(&[v1::ALL_ORDERS, v1::CURSORS, v1::HOLDS_RELEASED]).query_async(conn).await.map_err(unavailable)?;
    if old > 0 {
        return Ok(true);
    }
    let shared: i64 = exists(&["tenants", "token_hashes"]).query_async(conn).await.map_err(unavailable)?;
    if shared == 0 {
        return Ok(false);
    }
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .map_err(unavailable)?;
        if keys
            .iter()
            .any(|k| is_previous_layout(k.strip_prefix(prefix).and_then(|k| k.strip_prefix(':')).unwrap_or("")))
        {
            return Ok(true);
        }
        if next == 0 {
            return Ok(false);
        }
        cursor = next;
    }
}

/// Whether a key (without the prefix) is one the previous release wrote and this one does not.
pub fn is_previous_layout(key: &str) -> bool {
    key.starts_with("{ledger}:")
        || key == v1::CURSORS
        || key == v1::HOLDS_RELEASED
        || key.strip_prefix(v1::INVENTORY).is_some_and(|r| r.starts_with(":{"))
        || v1::PER_MERCHANT.iter().any(|(name, _)| key.strip_prefix(name).is_some_and(|r| r.starts_with(':')))
        || v1::PER_CART.iter().any(|name| key.strip_prefix(name).is_some_and(|r| r.starts_with(':')))
}

pub(super) fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_layout_keys_are_told_from_this_one() {
        for old in ["{ledger}:ix:orders", "cursors", "aliases:acme", "ship_seen:acme-tg", "inventory:{acme-tg}"] {
            assert!(is_previous_layout(old), "{old}");
        }
        for new in ["{m:acme}:aliases", "token_hashes", "tenants", "{p3}:due", "oauth:{acme-tg}", "ledger_layout"] {
            assert!(!is_previous_layout(new), "{new}");
        }
    }
}
