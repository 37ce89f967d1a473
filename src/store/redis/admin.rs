//! The Redis store's inspection and bulk operations: depths, dead letters, redrive, hold release,
//! one job. They read across partitions (not atomically as a whole) and then change each
//! partition with one script call, so every single move is still atomic and fenced by state.
//! Every pipeline stays inside one partition (one Redis Cluster slot); the per-partition reads
//! are sent together and merged here.

use std::collections::BTreeMap;

use super::keys::{Partition, glob_escape, partition_of};
use super::{RedisStore, scripts, store_error};
use crate::store::{DeadLetter, Depths, HoldFilter, JobId, JobInfo, JobState, Millis, StoreError};

/// Ids moved per release / redrive script call.
const CHUNK: usize = 500;

pub(super) async fn depths(store: &RedisStore) -> Result<Depths, StoreError> {
    let reads = (0..store.partitions).map(|i| async move {
        let p = store.partition(i);
        let mut pipe = redis::pipe();
        pipe.zcard(p.due()).zcard(p.inflight()).zcard(p.hold()).zcard(p.dead());
        let counts: (u64, u64, u64, u64) = pipe.query_async(&mut store.conn.clone()).await.map_err(store_error)?;
        Ok::<_, StoreError>(counts)
    });
    let mut d = Depths::default();
    for counts in futures::future::join_all(reads).await {
        let (due, inflight, hold, dead) = counts?;
        d.due += due;
        d.inflight += inflight;
        d.hold += hold;
        d.dead += dead;
    }
    Ok(d)
}

/// `(score, id)` of the first `n` members of each partition's dead set, merged.
async fn dead_heads(store: &RedisStore, n: usize, newest: bool) -> Result<Vec<(Millis, String)>, StoreError> {
    let stop = isize::try_from(n).unwrap_or(isize::MAX) - 1;
    let reads = (0..store.partitions).map(|i| async move {
        let key = store.partition(i).dead();
        let mut conn = store.conn.clone();
        let heads: Vec<(String, f64)> = if newest {
            redis::AsyncCommands::zrevrange_withscores(&mut conn, key, 0, stop).await
        } else {
            redis::AsyncCommands::zrange_withscores(&mut conn, key, 0, stop).await
        }
        .map_err(store_error)?;
        Ok::<_, StoreError>(heads)
    });
    let mut all: Vec<(Millis, String)> = Vec::new();
    for heads in futures::future::join_all(reads).await {
        all.extend(heads?.into_iter().map(|(id, s)| (s as Millis, id)));
    }
    all.sort();
    if newest {
        all.reverse();
    }
    all.truncate(n);
    Ok(all)
}

pub(super) async fn dead_letters(store: &RedisStore, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let heads = dead_heads(store, limit, true).await?;
    let mut ids = Vec::with_capacity(heads.len());
    for (died_at, id) in heads {
        ids.push((JobId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?, died_at));
    }
    // One HMGET per job, all in flight together (each on its own partition's slot).
    let reads = ids.iter().map(|(id, _)| async move {
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(store.partition_of(id).job(id.as_str())).arg("kind").arg("attempts").arg("last_error");
        let row: (Option<String>, Option<u32>, Option<String>) =
            cmd.query_async(&mut store.conn.clone()).await.map_err(store_error)?;
        Ok::<_, StoreError>(row)
    });
    let rows = futures::future::join_all(reads).await;
    ids.into_iter()
        .zip(rows)
        .map(|((id, died_at), row)| {
            let (kind, attempts, last_error) = row?;
            Ok(DeadLetter { id, kind: kind.unwrap_or_default(), attempts: attempts.unwrap_or(0), last_error, died_at })
        })
        .collect()
}

/// Calls `script` (release or redrive) for `ids`, grouped by partition, in chunks.
async fn move_ids(store: &RedisStore, script: &redis::Script, ids: Vec<String>) -> Result<u64, StoreError> {
    let mut groups: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for id in ids {
        let index = JobId::parse(&id)
            .map(|j| partition_of(&j, store.partitions))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        groups.entry(index).or_default().push(id);
    }
    let mut moved = 0u64;
    for (index, ids) in groups {
        let p = store.partition(index);
        for chunk in ids.chunks(CHUNK) {
            let mut inv = p.invoke(script);
            for id in chunk {
                inv.arg(id);
            }
            let n: u64 = inv.invoke_async(&mut store.conn.clone()).await.map_err(store_error)?;
            moved += n;
        }
    }
    Ok(moved)
}

pub(super) async fn redrive(store: &RedisStore, n: usize) -> Result<u64, StoreError> {
    if n == 0 {
        return Ok(0);
    }
    // A snapshot of the n oldest: jobs that die while this runs are not redriven too.
    let heads = dead_heads(store, n, false).await?;
    move_ids(store, &scripts::REDRIVE, heads.into_iter().map(|(_, id)| id).collect()).await
}

/// Every held id of partition `p` matching `pattern` (ZSCAN: each member present for the whole
/// scan is seen at least once, whatever moves meanwhile).
async fn scan_hold(store: &RedisStore, p: &Partition, pattern: Option<&str>) -> Result<Vec<String>, StoreError> {
    let mut ids = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let mut cmd = redis::cmd("ZSCAN");
        cmd.arg(p.hold()).arg(cursor);
        if let Some(pat) = pattern {
            cmd.arg("MATCH").arg(pat);
        }
        cmd.arg("COUNT").arg(CHUNK);
        let (next, flat): (u64, Vec<String>) = cmd.query_async(&mut store.conn.clone()).await.map_err(store_error)?;
        ids.extend(flat.into_iter().step_by(2));
        if next == 0 {
            return Ok(ids);
        }
        cursor = next;
    }
}

pub(super) async fn release_holds(store: &RedisStore, filter: &HoldFilter) -> Result<u64, StoreError> {
    let ids: Vec<String> = match filter {
        HoldFilter::Ids(ids) => ids.iter().map(|i| i.as_str().to_owned()).collect(),
        HoldFilter::All => {
            let mut ids = Vec::new();
            for i in 0..store.partitions {
                ids.extend(scan_hold(store, store.partition(i), None).await?);
            }
            ids
        }
        HoldFilter::IdPrefixes(prefixes) => {
            let mut ids = Vec::new();
            for i in 0..store.partitions {
                for prefix in prefixes {
                    let pattern = format!("{}*", glob_escape(prefix));
                    ids.extend(scan_hold(store, store.partition(i), Some(&pattern)).await?);
                }
            }
            ids.sort();
            ids.dedup();
            ids
        }
    };
    move_ids(store, &scripts::RELEASE, ids).await
}

/// ZSCORE in due, inflight, hold, dead, then kind, payload, attempts, last_error.
type JobRow =
    (Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<String>, Option<String>, Option<u32>, Option<String>);

pub(super) async fn job(store: &RedisStore, id: &JobId) -> Result<Option<JobInfo>, StoreError> {
    let p = store.partition_of(id);
    let key = p.job(id.as_str());
    let mut pipe = redis::pipe();
    pipe.zscore(p.due(), id.as_str()).zscore(p.inflight(), id.as_str()).zscore(p.hold(), id.as_str());
    pipe.zscore(p.dead(), id.as_str()).hget(&key, "kind").hget(&key, "payload");
    pipe.hget(&key, "attempts").hget(&key, "last_error");
    let (due, inflight, hold, dead, kind, payload, attempts, last_error): JobRow =
        pipe.query_async(&mut store.conn.clone()).await.map_err(store_error)?;
    let placed = [(JobState::Due, due), (JobState::Inflight, inflight), (JobState::Hold, hold), (JobState::Dead, dead)]
        .into_iter()
        .find_map(|(state, score)| score.map(|s| (state, s as Millis)));
    let Some((state, at)) = placed else { return Ok(None) };
    let payload = match payload {
        Some(p) => serde_json::from_str(&p).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        None => serde_json::Value::Null,
    };
    Ok(Some(JobInfo {
        id: id.clone(),
        kind: kind.unwrap_or_default(),
        state,
        at,
        attempts: attempts.unwrap_or(0),
        last_error,
        payload,
    }))
}
