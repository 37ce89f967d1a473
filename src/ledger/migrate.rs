//! `cartgate migrate`: moves a ledger written by the previous release (every order under one
//! `{ledger}` tag, untagged per-merchant keys, one global `cursors` hash) to the per-merchant
//! layout of this one. Replicas must be stopped while it runs (README); `serve` refuses a store
//! that is not migrated (`layout`).
//!
//! Idempotent and resumable after a crash at any point: the marker says `migrating` until the
//! end; each order is copied (written with its new indexes by [`OrderLedger::create`], which
//! does nothing if the copy exists) and only then removed from the old layout in one
//! transaction, the old listing index last — that index is the progress: what is still in it
//! is still to move. Every other key is renamed (atomic), or merged then deleted when a copy is
//! already there; a cursor field is copied, then deleted. Running it again converges.
//! The queue's keys (`{pN}` partitions) are not the ledger's and are not touched.

use std::collections::HashMap;
use std::sync::Arc;

use crate::store::redis::RedisConn;

use super::keys::{self, LAYOUT, tag, v1};
use super::layout::{CURRENT, MIGRATING, unavailable};
use super::orders::OrderLedger;
use super::redis_kv::RedisKv;
use crate::domain::{Order, OrderStatus};
use crate::store::StoreError;

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub orders: usize,
    pub keys: usize,
    pub cursor_fields: usize,
    /// Old keys or cursor fields of carts no known merchant owns: left where they were.
    pub left: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("order document `{key}` is unreadable: {why}")]
    Corrupt { key: String, why: String },
}

/// Moves everything under `prefix`; `owners` maps a cart id to its merchant id (the file and
/// the stored tenants; carts seen on orders are learned on the way).
pub async fn run(conn: &RedisConn, prefix: &str, mut owners: HashMap<String, String>) -> Result<Report, MigrateError> {
    let mut m = Migration {
        conn: conn.clone(),
        prefix: prefix.to_owned(),
        orders: OrderLedger::new(Arc::new(RedisKv::new(conn.clone(), prefix))),
        report: Report::default(),
    };
    m.set(LAYOUT, MIGRATING).await?;
    m.move_orders(&mut owners).await?;
    m.drop_old_order_keys().await?;
    m.split_cursors(&owners).await?;
    m.split_hold_releases().await?;
    for key in m.scan(&format!("{}:*", v1::INVENTORY)).await? {
        let cart = key[v1::INVENTORY.len() + 1..].trim_start_matches('{').trim_end_matches('}');
        match owners.get(cart) {
            Some(merchant) => m.rename(&key, &format!("{}:{}:{cart}", tag(merchant), v1::INVENTORY)).await?,
            None => m.report.left.push(key),
        }
    }
    for (old, new) in v1::PER_MERCHANT {
        for key in m.scan(&format!("{old}:*")).await? {
            let merchant = &key[old.len() + 1..];
            m.rename(&key, &format!("{}:{new}", tag(merchant))).await?;
        }
    }
    for name in v1::PER_CART {
        for key in m.scan(&format!("{name}:*")).await? {
            match owners.get(&key[name.len() + 1..]) {
                Some(merchant) => m.rename(&key, &format!("{}:{key}", tag(merchant))).await?,
                None => m.report.left.push(key),
            }
        }
    }
    m.set(LAYOUT, CURRENT).await?;
    Ok(m.report)
}

struct Migration {
    conn: RedisConn,
    prefix: String,
    orders: OrderLedger,
    report: Report,
}

impl Migration {
    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    async fn set(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        let key = self.key(key);
        redis::cmd("SET").arg(key).arg(value).query_async(&mut self.conn).await.map_err(unavailable)
    }

    /// Every key matching `pattern` (relative), relative.
    async fn scan(&mut self, pattern: &str) -> Result<Vec<String>, StoreError> {
        let (mut cursor, mut out) = (0u64, Vec::new());
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(self.key(pattern))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await
                .map_err(unavailable)?;
            out.extend(
                keys.into_iter().filter_map(|k| k.strip_prefix(&format!("{}:", self.prefix)).map(str::to_owned)),
            );
            if next == 0 {
                out.sort();
                out.dedup();
                return Ok(out);
            }
            cursor = next;
        }
    }

    /// Every order the old listing index names, then any document it missed.
    async fn move_orders(&mut self, owners: &mut HashMap<String, String>) -> Result<(), MigrateError> {
        loop {
            let members: Vec<String> = redis::cmd("ZRANGE")
                .arg(self.key(v1::ALL_ORDERS))
                .arg(0)
                .arg(99)
                .query_async(&mut self.conn)
                .await
                .map_err(unavailable)?;
            if members.is_empty() {
                break;
            }
            for member in members {
                self.move_order(&member, owners).await?;
            }
        }
        for key in self.scan("{ledger}:order:*").await? {
            self.move_order(&key["{ledger}:order:".len()..], owners).await?;
        }
        Ok(())
    }

    /// Copies one order (no-op if copied already), then removes it from the old layout.
    async fn move_order(&mut self, member: &str, owners: &mut HashMap<String, String>) -> Result<(), MigrateError> {
        let mut tx = redis::pipe();
        tx.atomic();
        if let Some((cart, id)) = keys::parse_member(member) {
            let old = self.key(&v1::order(&cart, id));
            let doc: Option<Vec<u8>> =
                redis::cmd("HGET").arg(&old).arg("d").query_async(&mut self.conn).await.map_err(unavailable)?;
            if let Some(doc) = doc {
                let order: Order = serde_json::from_slice(&doc)
                    .map_err(|e| MigrateError::Corrupt { key: old.clone(), why: e.to_string() })?;
                self.orders
                    .create(&order)
                    .await
                    .map_err(|e| MigrateError::Corrupt { key: old.clone(), why: e.to_string() })?;
                owners.entry(cart.to_string()).or_insert_with(|| order.merchant.to_string());
                self.report.orders += 1;
                tx.del(&old).ignore();
            }
            for s in OrderStatus::ALL {
                tx.zrem(self.key(&v1::status_index(s)), member).ignore();
            }
        }
        tx.zrem(self.key(v1::ALL_ORDERS), member).ignore();
        tx.query_async::<()>(&mut self.conn).await.map_err(unavailable)?;
        Ok(())
    }

    /// The old status indexes (empty by now) and maps (rebuilt from the documents; any entry
    /// they had besides is kept), merged into the new maps, then deleted.
    async fn drop_old_order_keys(&mut self) -> Result<(), StoreError> {
        for key in self.scan("{ledger}:*").await? {
            let new = if let Some(merchant) = key.strip_prefix("{ledger}:map:wms:") {
                Some(keys::wms_map(merchant))
            } else {
                key.strip_prefix("{ledger}:map:trk:").map(keys::tracking_map)
            };
            if let Some(new) = new {
                self.merge_hash(&key, &new).await?;
            }
            redis::cmd("DEL").arg(self.key(&key)).query_async::<()>(&mut self.conn).await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// Copies the fields of `old` that `new` lacks.
    async fn merge_hash(&mut self, old: &str, new: &str) -> Result<(), StoreError> {
        let fields: Vec<(String, String)> =
            redis::cmd("HGETALL").arg(self.key(old)).query_async(&mut self.conn).await.map_err(unavailable)?;
        let new = self.key(new);
        for (f, v) in fields {
            redis::cmd("HSETNX")
                .arg(&new)
                .arg(f)
                .arg(v)
                .query_async::<()>(&mut self.conn)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// `old` becomes `new`: renamed, or (a copy exists from an earlier run) merged and deleted.
    async fn rename(&mut self, old: &str, new: &str) -> Result<(), StoreError> {
        let renamed: i64 = redis::cmd("RENAMENX")
            .arg(self.key(old))
            .arg(self.key(new))
            .query_async(&mut self.conn)
            .await
            .map_err(unavailable)?;
        if renamed == 0 {
            let kind: String =
                redis::cmd("TYPE").arg(self.key(old)).query_async(&mut self.conn).await.map_err(unavailable)?;
            if kind == "hash" {
                self.merge_hash(old, new).await?;
            }
            redis::cmd("DEL").arg(self.key(old)).query_async::<()>(&mut self.conn).await.map_err(unavailable)?;
        }
        self.report.keys += 1;
        Ok(())
    }

    /// Each merchant's field of the global `holds_released` hash goes to its `cursors` hash.
    async fn split_hold_releases(&mut self) -> Result<(), StoreError> {
        let old = self.key(v1::HOLDS_RELEASED);
        let fields: Vec<(String, String)> =
            redis::cmd("HGETALL").arg(&old).query_async(&mut self.conn).await.map_err(unavailable)?;
        for (merchant, at) in fields {
            let new = self.key(&keys::cursors(&merchant));
            redis::cmd("HSET")
                .arg(new)
                .arg(keys::HOLDS_RELEASED)
                .arg(at)
                .query_async::<()>(&mut self.conn)
                .await
                .map_err(unavailable)?;
            redis::cmd("HDEL").arg(&old).arg(&merchant).query_async::<()>(&mut self.conn).await.map_err(unavailable)?;
            self.report.cursor_fields += 1;
        }
        Ok(())
    }

    /// Each field of the global `cursors` hash goes to its merchant's (copied, then deleted).
    async fn split_cursors(&mut self, owners: &HashMap<String, String>) -> Result<(), StoreError> {
        let fields: Vec<(String, String)> =
            redis::cmd("HGETALL").arg(self.key(v1::CURSORS)).query_async(&mut self.conn).await.map_err(unavailable)?;
        for (field, value) in fields {
            let target = if let Some(merchant) = field.strip_prefix("wms_products:") {
                Some((merchant.to_owned(), keys::PRODUCTS_READ_AT.to_owned()))
            } else {
                let cart = field.split_once(':').map(|(_, c)| c).unwrap_or_default();
                owners.get(cart).map(|m| (m.clone(), field.clone()))
            };
            let Some((merchant, new_field)) = target else {
                self.report.left.push(format!("{}#{field}", v1::CURSORS));
                continue;
            };
            let new = self.key(&keys::cursors(&merchant));
            redis::cmd("HSET")
                .arg(new)
                .arg(new_field)
                .arg(value)
                .query_async::<()>(&mut self.conn)
                .await
                .map_err(unavailable)?;
            redis::cmd("HDEL")
                .arg(self.key(v1::CURSORS))
                .arg(&field)
                .query_async::<()>(&mut self.conn)
                .await
                .map_err(unavailable)?;
            self.report.cursor_fields += 1;
        }
        Ok(())
    }
}
