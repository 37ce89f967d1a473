//! The Redis store: every replica coordinates through it. Key layout in [`keys`], one Lua
//! script per operation next to this file (each touches one partition, reads the clock with
//! `TIME`). All calls go over one multiplexed connection ([`RedisConn`]: a standalone Redis or
//! a Redis Cluster, one connection per node): concurrent requests are pipelined on it, which is
//! about twice the throughput of a pool of plain connections (DESIGN.md, "Performance notes"),
//! and it reconnects by itself. Every script and pipeline touches one partition, so one slot.
//! Enqueues are acknowledged once replicated ([`RedisConn::durable_ack`], one `WAIT` per
//! group-committed script call).

mod admin;
mod conn;
mod group;
mod keys;
mod scripts;
mod seeds;

pub use conn::{RedisConn, Topology};

use std::time::Duration;

use redis::RedisError;

use keys::{Partition, partition_of};

use super::{
    Charge, ClaimBatch, ClaimedJob, DeadLetter, Deduped, Depths, Enqueued, HoldFilter, JobId, JobInfo, JobKind,
    JobStore, Lease, MAX_DEAD_PER_PARTITION, Millis, NewJob, OnExisting, StoreError, When,
};

/// How long we wait for a connection or an answer before calling Redis unavailable.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Expired leases and due holds the claim script moves back per partition and call.
const RECLAIM_PER_CLAIM: usize = 100;

/// One claimed row as the claim script returns it.
type ClaimRow = (String, String, String, u32, Millis, i64);

/// The shared queue in Redis.
pub struct RedisStore {
    conn: RedisConn,
    partitions: u16,
    /// The keys of each partition.
    keys: Vec<Partition>,
    /// Concurrent enqueues into a partition share script calls ([`group`]).
    groups: group::Groups,
}

/// A lazily connecting standalone connection to `url` that does not wait for replicas (tests,
/// benches); the service opens [`RedisConn::open`] from its settings.
pub fn connection(url: &str) -> Result<RedisConn, StoreError> {
    RedisConn::standalone(url)
}

/// The hash tag (`{pN}`) of the partition that holds job `id` among `partitions`: which Redis
/// Cluster slot a tenant's jobs live in (operators and the failover tests pick a shard by it).
pub fn partition_tag(id: &JobId, partitions: u16) -> String {
    format!("{{p{}}}", partition_of(id, partitions))
}

/// Maps a Redis error: unreadable answers are `Corrupt`, everything else means "try later".
pub(crate) fn store_error(e: RedisError) -> StoreError {
    use redis::ErrorKind;
    match e.kind() {
        ErrorKind::Parse | ErrorKind::UnexpectedReturnType => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

fn when_args(when: When) -> (&'static str, i64) {
    match when {
        When::Now => ("now", 0),
        When::After(d) => ("after", i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        When::At(t) => ("at", t),
    }
}

fn lease_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

fn fenced(done: i64) -> Result<(), StoreError> {
    if done == 1 { Ok(()) } else { Err(StoreError::LeaseLost) }
}

impl RedisStore {
    pub fn new(conn: RedisConn, prefix: &str, partitions: u16) -> Self {
        let partitions = partitions.max(1);
        let keys = (0..partitions).map(|i| Partition::new(prefix, i)).collect();
        Self { conn, partitions, keys, groups: group::Groups::new(partitions) }
    }

    fn partition(&self, index: u16) -> &Partition {
        &self.keys[usize::from(index)]
    }

    fn partition_of(&self, id: &JobId) -> &Partition {
        self.partition(partition_of(id, self.partitions))
    }

    /// The partition a lease was claimed from (or, should it not exist here, where its id hashes).
    fn leased_index(&self, lease: &Lease) -> u16 {
        if lease.partition < self.partitions { lease.partition } else { partition_of(&lease.id, self.partitions) }
    }

    async fn enqueue_inner(
        &self,
        job: &NewJob,
        when: When,
        on_existing: OnExisting,
        dedupe: Option<(&str, Duration)>,
    ) -> Result<i64, StoreError> {
        let index = partition_of(&job.id, self.partitions);
        let p = self.partition(index);
        let (mode, value) = when_args(when);
        let item = group::Item {
            id: job.id.as_str().to_owned(),
            kind: job.kind.as_str(),
            payload: serde_json::to_string(&job.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            mode,
            value,
            earlier: on_existing == OnExisting::MoveEarlier,
            dedupe: dedupe.map(|(key, ttl)| (key.to_owned(), lease_ms(ttl))),
        };
        self.groups.commit(index, item, |items| self.enqueue_batch(p, items)).await
    }

    /// One enqueue script call for jobs of partition `p`; one code per job.
    async fn enqueue_batch(&self, p: &Partition, items: Vec<group::Item>) -> Result<Vec<i64>, StoreError> {
        let mut inv = p.invoke(&scripts::ENQUEUE);
        inv.arg(p.dedupe_prefix());
        for item in &items {
            let (dedupe, ttl) = item.dedupe.as_ref().map_or(("", 0), |(k, t)| (k.as_str(), *t));
            let earlier = if item.earlier { "earlier" } else { "keep" };
            inv.arg(&item.id).arg(item.kind).arg(&item.payload).arg(item.mode).arg(item.value);
            inv.arg(earlier).arg(dedupe).arg(ttl);
        }
        let codes = inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)?;
        // A duplicate is answered only once the first write is replicated, too.
        self.conn.durable_ack(p.due()).await?;
        Ok(codes)
    }

    /// One claim script call on partition `index`.
    async fn claim_partition(&self, index: u16, n: usize, lease: Duration) -> Result<ClaimBatch, StoreError> {
        let p = self.partition(index);
        let mut inv = p.invoke(&scripts::CLAIM);
        inv.arg(n).arg(lease_ms(lease)).arg(RECLAIM_PER_CLAIM);
        let (now, rows): (Millis, Vec<ClaimRow>) =
            inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)?;
        let mut jobs = Vec::with_capacity(rows.len());
        for (id, kind, payload, attempts, created_at, token) in rows {
            let id = JobId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let lease = Lease { id: id.clone(), token: token.to_string(), partition: index };
            let parsed = JobKind::parse(&kind)
                .ok_or_else(|| format!("unknown job kind `{kind}`"))
                .and_then(|k| serde_json::from_str(&payload).map(|v| (k, v)).map_err(|e| format!("bad payload: {e}")));
            match parsed {
                Ok((kind, payload)) => {
                    jobs.push(ClaimedJob { id, kind, payload, attempts, created_at, claimed_at: now, lease })
                }
                // Written by a newer version or damaged: no handler here can run it. If even
                // burying fails, its lease expires and a later claim tries again.
                Err(why) => {
                    if let Err(e) = self.bury(&lease, &why).await {
                        tracing::warn!(job = %lease.id, error = %e, "cannot bury an unreadable job");
                    }
                }
            }
        }
        Ok(ClaimBatch { now, jobs })
    }

    async fn ack_partition(&self, index: u16, leases: &[&Lease]) -> Result<Vec<i64>, StoreError> {
        let p = self.partition(index);
        let mut inv = p.invoke(&scripts::ACK);
        for lease in leases {
            inv.arg(lease.id.as_str()).arg(&lease.token);
        }
        inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)
    }
}

#[async_trait::async_trait]
impl JobStore for RedisStore {
    async fn ping(&self) -> Result<(), StoreError> {
        if self.conn.topology() == Topology::Cluster {
            let keys: Vec<&str> = self.keys.iter().map(Partition::due).collect();
            return self.conn.cluster_ready(&keys).await;
        }
        let pong: String = redis::cmd("PING").query_async(&mut self.conn.clone()).await.map_err(store_error)?;
        if pong == "PONG" { Ok(()) } else { Err(StoreError::Unavailable(format!("PING answered {pong}"))) }
    }

    async fn now(&self) -> Result<Millis, StoreError> {
        let (secs, micros): (i64, i64) =
            redis::cmd("TIME").query_async(&mut self.conn.clone()).await.map_err(store_error)?;
        Ok(secs * 1000 + micros / 1000)
    }

    async fn enqueue(&self, job: &NewJob, when: When, on_existing: OnExisting) -> Result<Enqueued, StoreError> {
        decode_enqueued(self.enqueue_inner(job, when, on_existing, None).await?)
    }

    async fn enqueue_once(&self, key: &str, ttl: Duration, job: &NewJob, when: When) -> Result<Deduped, StoreError> {
        match self.enqueue_inner(job, when, OnExisting::Keep, Some((key, ttl))).await? {
            0 => Ok(Deduped::Duplicate),
            code => decode_enqueued(code).map(Deduped::Enqueued),
        }
    }

    async fn claim(&self, max: usize, lease: Duration) -> Result<ClaimBatch, StoreError> {
        let start = rand::random_range(0..self.partitions);
        let mut out = ClaimBatch { now: 0, jobs: Vec::new() };
        for i in 0..self.partitions {
            if out.jobs.len() >= max {
                break;
            }
            let index = (start + i) % self.partitions;
            let batch = self.claim_partition(index, max - out.jobs.len(), lease).await?;
            out.now = out.now.max(batch.now);
            out.jobs.extend(batch.jobs);
        }
        Ok(out)
    }

    async fn ack(&self, lease: &Lease) -> Result<(), StoreError> {
        let done = self.ack_partition(self.leased_index(lease), &[lease]).await?;
        fenced(done.first().copied().unwrap_or(0))
    }

    async fn ack_many(&self, leases: &[Lease]) -> Vec<Result<(), StoreError>> {
        let mut groups: std::collections::BTreeMap<u16, Vec<usize>> = Default::default();
        for (i, lease) in leases.iter().enumerate() {
            groups.entry(self.leased_index(lease)).or_default().push(i);
        }
        // One script call per partition, all in flight together on the multiplexed connection.
        let calls = groups.into_iter().map(|(index, idx)| async move {
            let batch: Vec<&Lease> = idx.iter().map(|&i| &leases[i]).collect();
            (idx, self.ack_partition(index, &batch).await)
        });
        let mut out: Vec<Result<(), StoreError>> = vec![Err(StoreError::LeaseLost); leases.len()];
        for (idx, result) in futures::future::join_all(calls).await {
            for (k, i) in idx.into_iter().enumerate() {
                out[i] = match &result {
                    Ok(done) => fenced(done.get(k).copied().unwrap_or(0)),
                    Err(e) => Err(e.clone()),
                };
            }
        }
        out
    }

    async fn retry(&self, lease: &Lease, when: When, error: Option<&str>, charge: Charge) -> Result<(), StoreError> {
        let p = self.partition(self.leased_index(lease));
        let (mode, value) = when_args(when);
        let charge = match charge {
            Charge::Attempt => "attempt",
            Charge::Free => "free",
            Charge::Reset => "reset",
        };
        let mut inv = p.invoke(&scripts::RETRY);
        inv.arg(lease.id.as_str()).arg(&lease.token).arg(mode).arg(value).arg(charge).arg(error.unwrap_or(""));
        fenced(inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)?)
    }

    async fn hold(&self, lease: &Lease, until: Millis, reason: &str) -> Result<(), StoreError> {
        let mut inv = self.partition(self.leased_index(lease)).invoke(&scripts::HOLD);
        inv.arg(lease.id.as_str()).arg(&lease.token).arg(until).arg(reason);
        fenced(inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)?)
    }

    async fn extend(&self, lease: &Lease, lease_for: Duration) -> Result<(), StoreError> {
        let mut inv = self.partition(self.leased_index(lease)).invoke(&scripts::EXTEND);
        inv.arg(lease.id.as_str()).arg(&lease.token).arg(lease_ms(lease_for));
        fenced(inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)?)
    }

    async fn bury(&self, lease: &Lease, reason: &str) -> Result<(), StoreError> {
        let mut inv = self.partition(self.leased_index(lease)).invoke(&scripts::BURY);
        inv.arg(lease.id.as_str()).arg(&lease.token).arg(reason).arg(MAX_DEAD_PER_PARTITION);
        fenced(inv.invoke_async(&mut self.conn.clone()).await.map_err(store_error)?)
    }

    async fn release_holds(&self, filter: &HoldFilter) -> Result<u64, StoreError> {
        admin::release_holds(self, filter).await
    }

    async fn depths(&self) -> Result<Depths, StoreError> {
        admin::depths(self).await
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        admin::dead_letters(self, limit).await
    }

    async fn redrive(&self, n: usize) -> Result<u64, StoreError> {
        admin::redrive(self, n).await
    }

    async fn job(&self, id: &JobId) -> Result<Option<JobInfo>, StoreError> {
        admin::job(self, id).await
    }
}

fn decode_enqueued(code: i64) -> Result<Enqueued, StoreError> {
    match code {
        1 => Ok(Enqueued::Created),
        2 => Ok(Enqueued::AlreadyPending),
        3 => Ok(Enqueued::Moved),
        4 => Ok(Enqueued::Rerun),
        other => Err(StoreError::Corrupt(format!("enqueue script answered {other}"))),
    }
}

/// Logs loudly unless Redis is set up not to evict keys: eviction would silently drop jobs.
/// `CONFIG` may be disabled (managed Redis); then we can only say so.
pub async fn warn_about_setup(conn: &RedisConn) {
    let answer: Result<Vec<String>, _> =
        redis::cmd("CONFIG").arg("GET").arg("maxmemory-policy").query_async(&mut conn.clone()).await;
    match answer {
        Ok(pair) => match pair.get(1).map(String::as_str) {
            Some("noeviction") => tracing::info!("redis maxmemory-policy is noeviction"),
            policy => tracing::warn!(
                policy = policy.unwrap_or("unknown"),
                "REDIS MAXMEMORY-POLICY IS NOT noeviction: under memory pressure Redis will delete \
                 queued jobs and order state. Set `maxmemory-policy noeviction`."
            ),
        },
        Err(e) => tracing::warn!(
            error = %e,
            "cannot read redis maxmemory-policy (CONFIG may be disabled); make sure it is noeviction"
        ),
    }
}
