//! A Redis keyspace as JSON lines — `{"key", "type", "ttl_ms", "value"}` with plain values
//! (string, hash as an object, list, set, zset as `[member, score]` pairs) — and back. What
//! `tests/data/store-v1.jsonl` (a store written by the previous release) is made of, and how
//! tests compare a store before and after an operation.

use std::collections::BTreeMap;

use redis::aio::ConnectionLike;
use serde_json::{Value, json};

/// Every key matching `pattern`: key → `{"type", "value"}` (TTLs left out: they move).
pub async fn dump(conn: &mut impl ConnectionLike, pattern: &str) -> redis::RedisResult<BTreeMap<String, Value>> {
    let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(conn).await?;
    let mut out = BTreeMap::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(conn).await?;
        let value = match kind.as_str() {
            "string" => json!(redis::cmd("GET").arg(&key).query_async::<String>(conn).await?),
            "hash" => json!(redis::cmd("HGETALL").arg(&key).query_async::<BTreeMap<String, String>>(conn).await?),
            "list" => json!(redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).query_async::<Vec<String>>(conn).await?),
            "set" => {
                let mut members: Vec<String> = redis::cmd("SMEMBERS").arg(&key).query_async(conn).await?;
                members.sort();
                json!(members)
            }
            "zset" => json!(
                redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query_async::<Vec<(String, f64)>>(conn)
                    .await?
            ),
            other => json!(format!("<{other}>")),
        };
        out.insert(key, json!({"type": kind, "value": value}));
    }
    Ok(out)
}

/// Writes every line of a dump into the store (keys as they are); returns how many keys.
pub async fn load(conn: &mut impl ConnectionLike, jsonl: &str) -> Result<usize, String> {
    let mut n = 0;
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        let (key, value) = (row["key"].as_str().unwrap_or_default(), &row["value"]);
        let cmd = match row["type"].as_str().unwrap_or_default() {
            "string" => redis::cmd("SET").arg(key).arg(value.as_str().unwrap_or_default()).clone(),
            "hash" => {
                let mut c = redis::cmd("HSET");
                c.arg(key);
                for (f, v) in value.as_object().into_iter().flatten() {
                    c.arg(f).arg(v.as_str().unwrap_or_default());
                }
                c
            }
            "list" => {
                let mut c = redis::cmd("RPUSH");
                c.arg(key);
                for v in value.as_array().into_iter().flatten() {
                    c.arg(v.as_str().unwrap_or_default());
                }
                c
            }
            "set" => {
                let mut c = redis::cmd("SADD");
                c.arg(key);
                for v in value.as_array().into_iter().flatten() {
                    c.arg(v.as_str().unwrap_or_default());
                }
                c
            }
            "zset" => {
                let mut c = redis::cmd("ZADD");
                c.arg(key);
                for pair in value.as_array().into_iter().flatten() {
                    c.arg(pair[1].as_f64().unwrap_or_default()).arg(pair[0].as_str().unwrap_or_default());
                }
                c
            }
            other => return Err(format!("{key}: unknown type {other}")),
        };
        cmd.query_async::<()>(conn).await.map_err(|e| format!("{key}: {e}"))?;
        if let Some(ttl) = row["ttl_ms"].as_i64().filter(|t| *t > 0) {
            redis::cmd("PEXPIRE").arg(key).arg(ttl).query_async::<()>(conn).await.map_err(|e| format!("{key}: {e}"))?;
        }
        n += 1;
    }
    Ok(n)
}
