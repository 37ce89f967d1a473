//! The few storage primitives the ledger needs, implemented by memory and by Redis.
//!
//! Documents are versioned: `put` is a compare-and-set on the version, so two replicas updating
//! the same order cannot lose each other's change — the loser re-reads and re-applies. The index
//! entries that go with a document (sorted sets, hash fields) are written by the same `put`, in
//! one atomic step: a store that fails half-way (Redis stopping, a replica killed) can never
//! leave a document its indexes do not know. Keys written together share a hash tag (Redis
//! Cluster safe); every other operation touches one key.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::StoreError;

/// A document and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub version: u64,
    pub value: Vec<u8>,
}

/// The version did not match: someone else wrote first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict;

/// An index change written atomically with a document (see [`Kv::put`]).
#[derive(Debug, Clone, PartialEq)]
pub enum IndexOp {
    /// Adds `member` to the sorted set `key` (or moves it to `score`).
    ZAdd { key: String, member: String, score: f64 },
    /// Removes `member` from the sorted set `key`.
    ZRem { key: String, member: String },
    /// Sets `field` of the hash `key`.
    HSet { key: String, field: String, value: String },
    /// Removes `field` from the hash `key`.
    HDel { key: String, field: String },
}

/// The storage primitives the ledger needs.
#[async_trait::async_trait]
pub trait Kv: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError>;
    /// A document's version alone (what a poll for changes reads).
    async fn version(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.get(key).await?.map(|d| d.version))
    }
    /// Writes `value` if the stored version is `expected` (`None`: the key must not exist), and
    /// with it every one of `index` — all or nothing: on a conflict nothing is written. Returns
    /// the new version. All keys must share the document's hash tag.
    async fn put(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        index: &[IndexOp],
    ) -> Result<Result<u64, Conflict>, StoreError>;
    /// Deletes the document if its stored version is `expected`, and with it every one of
    /// `index` — all or nothing, like [`Kv::put`]. `Err(Conflict)`: changed or gone meanwhile.
    async fn delete(&self, key: &str, expected: u64, index: &[IndexOp]) -> Result<Result<(), Conflict>, StoreError>;
    /// Members by ascending score, from rank `offset`, at most `limit`.
    async fn zrange(&self, key: &str, offset: usize, limit: usize) -> Result<Vec<String>, StoreError>;
    /// Members and their scores in ascending (score, member) order — the order a sorted set
    /// keeps — strictly after `after` (from the start when `None`), at most `limit`. A cursor
    /// over it stays put when members are added or removed before it.
    async fn zrange_after(
        &self,
        key: &str,
        after: Option<(f64, &str)>,
        limit: usize,
    ) -> Result<Vec<(String, f64)>, StoreError>;
    async fn hset(&self, key: &str, pairs: &[(String, String)]) -> Result<(), StoreError>;
    async fn hget(&self, key: &str, field: &str) -> Result<Option<String>, StoreError>;
    async fn hdel(&self, key: &str, fields: &[String]) -> Result<u64, StoreError>;
    async fn hgetall(&self, key: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Adds `by` to the integer in `field` of the hash `key` (a missing field counts as 0), in
    /// one atomic step; returns the new value.
    async fn hincr(&self, key: &str, field: &str, by: i64) -> Result<i64, StoreError>;
    /// Puts `value` at the head of the list `key` and keeps only its first `keep` entries, in
    /// one atomic step (a bounded log, newest first).
    async fn push_capped(&self, key: &str, value: &str, keep: usize) -> Result<(), StoreError>;
    /// The first `limit` entries of the list `key` (the newest, for a [`Kv::push_capped`] log).
    async fn head(&self, key: &str, limit: usize) -> Result<Vec<String>, StoreError>;
    /// Sets the string `key` to `value` for `ttl_ms` if it does not exist (`SET NX PX`): whether
    /// it was set. What a lease and a one-time value are made of.
    async fn set_nx_px(&self, _key: &str, _value: &str, _ttl_ms: u64) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("set_nx_px is not supported by this store".into()))
    }
    /// Reads and deletes the string `key` in one atomic step (`GETDEL`): of two callers, at most
    /// one gets the value.
    async fn take(&self, _key: &str) -> Result<Option<String>, StoreError> {
        Err(StoreError::Unavailable("take is not supported by this store".into()))
    }
    /// The string `key`, if set and not expired.
    async fn get_str(&self, _key: &str) -> Result<Option<String>, StoreError> {
        Err(StoreError::Unavailable("get_str is not supported by this store".into()))
    }
    /// Deletes the string `key` if it still holds `value` (a lease released by its holder only).
    async fn del_if(&self, _key: &str, _value: &str) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("del_if is not supported by this store".into()))
    }
}

/// The embedded implementation.
#[derive(Default)]
pub struct MemoryKv {
    inner: Mutex<Maps>,
}

#[derive(Default)]
struct Maps {
    docs: HashMap<String, Versioned>,
    zsets: HashMap<String, ZSet>,
    hashes: HashMap<String, BTreeMap<String, String>>,
    lists: HashMap<String, VecDeque<String>>,
    /// Strings with an expiry (leases, one-time values).
    strings: HashMap<String, (String, Instant)>,
}

/// A sorted set: members ordered by (score, member), and each member's score.
#[derive(Default)]
struct ZSet {
    ordered: BTreeSet<(OrdF64, String)>,
    scores: HashMap<String, f64>,
}

/// f64 with a total order, for sorted-set scores.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Maps {
    fn apply(&mut self, op: &IndexOp) {
        match op {
            IndexOp::ZAdd { key, member, score } => {
                let z = self.zsets.entry(key.clone()).or_default();
                if let Some(old) = z.scores.insert(member.clone(), *score) {
                    z.ordered.remove(&(OrdF64(old), member.clone()));
                }
                z.ordered.insert((OrdF64(*score), member.clone()));
            }
            IndexOp::ZRem { key, member } => {
                if let Some(z) = self.zsets.get_mut(key)
                    && let Some(old) = z.scores.remove(member)
                {
                    z.ordered.remove(&(OrdF64(old), member.clone()));
                }
            }
            IndexOp::HSet { key, field, value } => {
                self.hashes.entry(key.clone()).or_default().insert(field.clone(), value.clone());
            }
            IndexOp::HDel { key, field } => {
                if let Some(hash) = self.hashes.get_mut(key) {
                    hash.remove(field);
                }
            }
        }
    }
}

impl MemoryKv {
    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        // A panic while holding the lock leaves plain maps behind: still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl Kv for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        Ok(self.lock().docs.get(key).cloned())
    }

    async fn version(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().docs.get(key).map(|d| d.version))
    }

    async fn put(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        index: &[IndexOp],
    ) -> Result<Result<u64, Conflict>, StoreError> {
        let mut maps = self.lock();
        let current = maps.docs.get(key).map(|d| d.version);
        if current != expected {
            return Ok(Err(Conflict));
        }
        let version = current.unwrap_or(0) + 1;
        maps.docs.insert(key.to_owned(), Versioned { version, value: value.to_vec() });
        for op in index {
            maps.apply(op);
        }
        Ok(Ok(version))
    }

    async fn delete(&self, key: &str, expected: u64, index: &[IndexOp]) -> Result<Result<(), Conflict>, StoreError> {
        let mut maps = self.lock();
        if maps.docs.get(key).map(|d| d.version) != Some(expected) {
            return Ok(Err(Conflict));
        }
        maps.docs.remove(key);
        for op in index {
            maps.apply(op);
        }
        Ok(Ok(()))
    }

    async fn zrange_after(
        &self,
        key: &str,
        after: Option<(f64, &str)>,
        limit: usize,
    ) -> Result<Vec<(String, f64)>, StoreError> {
        use std::ops::Bound::{Excluded, Unbounded};
        let maps = self.lock();
        let Some(z) = maps.zsets.get(key) else { return Ok(Vec::new()) };
        let from = after.map_or(Unbounded, |(s, m)| Excluded((OrdF64(s), m.to_owned())));
        Ok(z.ordered.range((from, Unbounded)).take(limit).map(|(s, m)| (m.clone(), s.0)).collect())
    }

    async fn zrange(&self, key: &str, offset: usize, limit: usize) -> Result<Vec<String>, StoreError> {
        let maps = self.lock();
        Ok(maps
            .zsets
            .get(key)
            .map(|z| z.ordered.iter().skip(offset).take(limit).map(|(_, m)| m.clone()).collect())
            .unwrap_or_default())
    }

    async fn hset(&self, key: &str, pairs: &[(String, String)]) -> Result<(), StoreError> {
        let mut maps = self.lock();
        let hash = maps.hashes.entry(key.to_owned()).or_default();
        for (f, v) in pairs {
            hash.insert(f.clone(), v.clone());
        }
        Ok(())
    }

    async fn hget(&self, key: &str, field: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().hashes.get(key).and_then(|h| h.get(field).cloned()))
    }

    async fn hdel(&self, key: &str, fields: &[String]) -> Result<u64, StoreError> {
        let mut maps = self.lock();
        let Some(hash) = maps.hashes.get_mut(key) else { return Ok(0) };
        Ok(fields.iter().filter(|f| hash.remove(*f).is_some()).count() as u64)
    }

    async fn hgetall(&self, key: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .lock()
            .hashes
            .get(key)
            .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    async fn hincr(&self, key: &str, field: &str, by: i64) -> Result<i64, StoreError> {
        let mut maps = self.lock();
        let slot = maps.hashes.entry(key.to_owned()).or_default().entry(field.to_owned()).or_default();
        let now = slot.parse::<i64>().unwrap_or(0).saturating_add(by);
        *slot = now.to_string();
        Ok(now)
    }

    async fn push_capped(&self, key: &str, value: &str, keep: usize) -> Result<(), StoreError> {
        let mut maps = self.lock();
        let list = maps.lists.entry(key.to_owned()).or_default();
        list.push_front(value.to_owned());
        list.truncate(keep);
        Ok(())
    }

    async fn head(&self, key: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().lists.get(key).map(|l| l.iter().take(limit).cloned().collect()).unwrap_or_default())
    }

    async fn set_nx_px(&self, key: &str, value: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        let mut maps = self.lock();
        let now = Instant::now();
        if maps.strings.get(key).is_some_and(|(_, until)| *until > now) {
            return Ok(false);
        }
        maps.strings.insert(key.to_owned(), (value.to_owned(), now + Duration::from_millis(ttl_ms)));
        Ok(true)
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let taken = self.lock().strings.remove(key);
        Ok(taken.filter(|(_, until)| *until > Instant::now()).map(|(v, _)| v))
    }

    async fn get_str(&self, key: &str) -> Result<Option<String>, StoreError> {
        let maps = self.lock();
        Ok(maps.strings.get(key).filter(|(_, until)| *until > Instant::now()).map(|(v, _)| v.clone()))
    }

    async fn del_if(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let mut maps = self.lock();
        let holds = maps.strings.get(key).is_some_and(|(v, until)| v == value && *until > Instant::now());
        if holds {
            maps.strings.remove(key);
        }
        Ok(holds)
    }
}
