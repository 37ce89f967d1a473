//! The ledger primitives on Redis: the compare-and-set of a document with its index entries is
//! `cas.lua` (one atomic script); everything else is one command on one key. A document written
//! by `put` is acknowledged once replicated ([`RedisConn::durable_ack`]).

use redis::AsyncCommands;

use super::kv::{Conflict, IndexOp, Kv, Versioned};
use crate::store::StoreError;
use crate::store::redis::RedisConn;

/// Ledger storage in Redis, every key under `prefix:`.
pub struct RedisKv {
    conn: RedisConn,
    prefix: String,
    cas: redis::Script,
    cas_del: redis::Script,
    del_if: redis::Script,
}

impl RedisKv {
    pub fn new(conn: RedisConn, prefix: &str) -> Self {
        Self {
            conn,
            prefix: format!("{prefix}:"),
            cas: redis::Script::new(include_str!("cas.lua")),
            cas_del: redis::Script::new(include_str!("cas_del.lua")),
            del_if: redis::Script::new(include_str!("del_if.lua")),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Adds each index change as a key and three arguments (the layout `cas.lua` reads).
    fn index_args(&self, call: &mut redis::ScriptInvocation<'_>, index: &[IndexOp]) {
        for op in index {
            match op {
                IndexOp::ZAdd { key, member, score } => call.key(self.key(key)).arg("zadd").arg(member).arg(*score),
                IndexOp::ZRem { key, member } => call.key(self.key(key)).arg("zrem").arg(member).arg(""),
                IndexOp::HSet { key, field, value } => call.key(self.key(key)).arg("hset").arg(field).arg(value),
                IndexOp::HDel { key, field } => call.key(self.key(key)).arg("hdel").arg(field).arg(""),
            };
        }
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[async_trait::async_trait]
impl Kv for RedisKv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let mut conn = self.conn.clone();
        let (v, d): (Option<u64>, Option<Vec<u8>>) = redis::cmd("HMGET")
            .arg(self.key(key))
            .arg("v")
            .arg("d")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(match (v, d) {
            (Some(version), Some(value)) => Some(Versioned { version, value }),
            _ => None,
        })
    }

    async fn version(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let mut conn = self.conn.clone();
        conn.hget(self.key(key), "v").await.map_err(unavailable)
    }

    async fn put(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        index: &[IndexOp],
    ) -> Result<Result<u64, Conflict>, StoreError> {
        let mut conn = self.conn.clone();
        let expected = expected.map(|v| v.to_string()).unwrap_or_default();
        let mut call = self.cas.key(self.key(key));
        call.arg(expected).arg(value);
        self.index_args(&mut call, index);
        let version: i64 = call.invoke_async(&mut conn).await.map_err(unavailable)?;
        let Ok(version) = u64::try_from(version) else { return Ok(Err(Conflict)) };
        // A document write (the send marker, the record of a warehouse order) counts once replicated.
        self.conn.durable_ack(&self.key(key)).await?;
        Ok(Ok(version))
    }

    async fn delete(&self, key: &str, expected: u64, index: &[IndexOp]) -> Result<Result<(), Conflict>, StoreError> {
        let mut conn = self.conn.clone();
        let mut call = self.cas_del.key(self.key(key));
        call.arg(expected);
        self.index_args(&mut call, index);
        let done: i64 = call.invoke_async(&mut conn).await.map_err(unavailable)?;
        Ok(if done == 1 { Ok(()) } else { Err(Conflict) })
    }

    async fn zrange_after(
        &self,
        key: &str,
        after: Option<(f64, &str)>,
        limit: usize,
    ) -> Result<Vec<(String, f64)>, StoreError> {
        let mut conn = self.conn.clone();
        let min = after.map_or_else(|| "-inf".to_owned(), |(s, _)| s.to_string());
        let (mut out, mut offset) = (Vec::new(), 0);
        // From the cursor's score on; members of that score up to the cursor's are skipped
        // (pages of them when many share one millisecond).
        while out.len() < limit {
            let page: Vec<(String, f64)> = redis::cmd("ZRANGEBYSCORE")
                .arg(self.key(key))
                .arg(&min)
                .arg("+inf")
                .arg("WITHSCORES")
                .arg("LIMIT")
                .arg(offset)
                .arg(limit)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let full = page.len() == limit;
            out.extend(
                page.into_iter().filter(|(m, s)| after.is_none_or(|(a, am)| *s > a || (*s == a && m.as_str() > am))),
            );
            if !full {
                break;
            }
            offset += limit;
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn zrange(&self, key: &str, offset: usize, limit: usize) -> Result<Vec<String>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        let stop = (offset + limit - 1) as isize;
        conn.zrange(self.key(key), offset as isize, stop).await.map_err(unavailable)
    }

    async fn hset(&self, key: &str, pairs: &[(String, String)]) -> Result<(), StoreError> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        conn.hset_multiple::<_, _, _, ()>(self.key(key), pairs).await.map_err(unavailable)
    }

    async fn hget(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        conn.hget(self.key(key), field).await.map_err(unavailable)
    }

    async fn hdel(&self, key: &str, fields: &[String]) -> Result<u64, StoreError> {
        if fields.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn.clone();
        conn.hdel(self.key(key), fields).await.map_err(unavailable)
    }

    async fn hgetall(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut conn = self.conn.clone();
        conn.hgetall(self.key(key)).await.map_err(unavailable)
    }

    async fn hincr(&self, key: &str, field: &str, by: i64) -> Result<i64, StoreError> {
        let mut conn = self.conn.clone();
        conn.hincr(self.key(key), field, by).await.map_err(unavailable)
    }

    async fn push_capped(&self, key: &str, value: &str, keep: usize) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let stop = keep.saturating_sub(1) as isize;
        // MULTI/EXEC: the log is never seen (or left, on a failure) longer than `keep`.
        redis::pipe()
            .atomic()
            .lpush(&key, value)
            .ignore()
            .ltrim(&key, 0, stop)
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn head(&self, key: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        conn.lrange(self.key(key), 0, (limit - 1) as isize).await.map_err(unavailable)
    }

    async fn set_nx_px(&self, key: &str, value: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms.max(1))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("GETDEL").arg(self.key(key)).query_async(&mut conn).await.map_err(unavailable)
    }

    async fn get_str(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        conn.get(self.key(key)).await.map_err(unavailable)
    }

    async fn del_if(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let deleted: i64 =
            self.del_if.key(self.key(key)).arg(value).invoke_async(&mut conn).await.map_err(unavailable)?;
        Ok(deleted == 1)
    }
}
