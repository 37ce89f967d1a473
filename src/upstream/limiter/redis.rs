//! The shared half of the limiter: `gcra.lua` and `pause.lua` on one hash per account.

use std::sync::LazyLock;
use std::time::Duration;

use crate::store::redis::RedisConn;
use redis::Script;

use super::super::adaptive::{self, PauseRequest};
use super::cost::{Bucket, Reservation, ThrottleStatus};
use crate::store::Millis;

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("gcra.lua")));
static PAUSE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("pause.lua")));
static COST: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("cost.lua")));
static COST_RECORD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("cost_record.lua")));
static COST_RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("cost_release.lua")));

/// How long a limiter call may take before it is treated as Redis being down.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the shared limiter could not answer (the caller fails safe: no call upstream).
#[derive(Debug, thiserror::Error)]
pub(super) enum RedisLimiterError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {REDIS_TIMEOUT:?}")]
    Timeout,
    #[error("unexpected answer from the limiter script: {0:?}")]
    Answer(Vec<i64>),
}

/// What the shared limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// Go after waiting this long (the reserved slot).
    Granted { wait: Duration },
    /// The next free slot is further than the allowed wait.
    Busy { at: Millis },
    /// The upstream paused this account.
    Paused { until: Millis },
}

/// One account's key on one connection.
#[derive(Clone)]
pub(super) struct RedisGate {
    conn: RedisConn,
    key: String,
}

impl RedisGate {
    /// `{prefix}:rl:{<upstream>:<account>}`: the account part is a hash tag (one slot).
    pub fn new(conn: RedisConn, prefix: &str, upstream: &str, account: &str) -> Self {
        Self { conn, key: format!("{prefix}:rl:{{{upstream}:{account}}}") }
    }

    /// Takes a slot at most `max_wait` ahead. Returns the store's clock and the decision.
    pub async fn acquire(
        &self,
        interval: Duration,
        max_wait: Duration,
    ) -> Result<(Millis, Decision), RedisLimiterError> {
        let mut inv = GCRA.key(&self.key);
        inv.arg(interval_micros(interval)).arg(micros(max_wait)).arg(linger_ms());
        let reply: Vec<i64> = self.run(inv).await?;
        let decision = match reply.as_slice() {
            [0, _, wait_us] => Decision::Granted { wait: Duration::from_micros(u64::try_from(*wait_us).unwrap_or(0)) },
            [1, _, at] => Decision::Busy { at: *at },
            [2, _, until] => Decision::Paused { until: *until },
            _ => return Err(RedisLimiterError::Answer(reply)),
        };
        Ok((reply[1], decision))
    }

    /// Records a pause; returns the store's clock and the pause end (≤ now: not paused).
    pub async fn pause(&self, req: &PauseRequest, jitter: f64) -> Result<(Millis, Millis), RedisLimiterError> {
        let mut inv = PAUSE.key(&self.key);
        inv.arg(req.until_unix_ms.unwrap_or(0).max(0))
            .arg(req.after.map(adaptive::millis).unwrap_or(0))
            .arg(i64::from(req.rejected))
            .arg(adaptive::millis(adaptive::BACKOFF_BASE))
            .arg(adaptive::millis(adaptive::BACKOFF_CAP))
            .arg(jitter)
            .arg(adaptive::millis(adaptive::MAX_PAUSE))
            .arg(linger_ms());
        match self.run(inv).await?.as_slice() {
            [now, until] => Ok((*now, *until)),
            other => Err(RedisLimiterError::Answer(other.to_vec())),
        }
    }

    /// Reserves `cost` points of the shop's bucket (`cost.lua`), waiting at most `max_wait`.
    /// A grant comes with its reservation.
    pub async fn reserve_cost(
        &self,
        cost: f64,
        max_wait: Duration,
    ) -> Result<(Millis, (Decision, Option<Reservation>)), RedisLimiterError> {
        let mut inv = COST.key(&self.key);
        inv.key(self.cost_key())
            .arg(cost)
            .arg(adaptive::millis(max_wait))
            .arg(Bucket::ASSUMED_SIZE)
            .arg(Bucket::ASSUMED_RATE)
            .arg(linger_ms())
            .arg(Bucket::SEEN_MARGIN_MS)
            .arg(Bucket::KEEP_MS);
        let reply: Vec<i64> = self.run(inv).await?;
        let decision = match reply.as_slice() {
            [0, _, wait_ms, id, milli] => (
                Decision::Granted { wait: Duration::from_millis(u64::try_from(*wait_ms).unwrap_or(0)) },
                Some(Reservation::new(*id, *milli)),
            ),
            [1, _, at] => (Decision::Busy { at: *at }, None),
            [2, _, until] => (Decision::Paused { until: *until }, None),
            _ => return Err(RedisLimiterError::Answer(reply)),
        };
        Ok((reply[1], decision))
    }

    /// Records Shopify's view of the bucket in the answer to `reservation`'s query
    /// (`cost_record.lua`); returns the store's clock.
    pub async fn record_cost(
        &self,
        reservation: &Reservation,
        status: &ThrottleStatus,
    ) -> Result<Millis, RedisLimiterError> {
        let mut inv = COST_RECORD.key(&self.key);
        inv.key(self.cost_key())
            .arg(reservation.member())
            .arg(status.currently_available)
            .arg(status.maximum_available)
            .arg(status.restore_rate)
            .arg(Bucket::ASSUMED_SIZE)
            .arg(Bucket::ASSUMED_RATE)
            .arg(linger_ms());
        match self.run(inv).await?.as_slice() {
            [now, _] => Ok(*now),
            other => Err(RedisLimiterError::Answer(other.to_vec())),
        }
    }

    /// Settles a reservation no answer recorded, charging it when it may have been `spent`
    /// (`cost_release.lua`).
    pub async fn release_cost(&self, reservation: &Reservation, spent: bool) -> Result<(), RedisLimiterError> {
        let mut inv = COST_RELEASE.key(&self.key);
        inv.key(self.cost_key())
            .arg(reservation.member())
            .arg(i64::from(spent))
            .arg(Bucket::ASSUMED_SIZE)
            .arg(Bucket::ASSUMED_RATE);
        self.run(inv).await.map(|_| ())
    }

    /// The shop's unsettled reservations (`cost.lua`'s sorted set), beside the hash in its slot.
    fn cost_key(&self) -> String {
        format!("{}:cost", self.key)
    }

    async fn run(&self, inv: redis::ScriptInvocation<'_>) -> Result<Vec<i64>, RedisLimiterError> {
        let mut conn = self.conn.clone();
        tokio::time::timeout(REDIS_TIMEOUT, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| RedisLimiterError::Timeout)?
            .map_err(RedisLimiterError::from)
    }
}

/// How long a hash outlives its last slot or pause: long enough to remember recent 429s.
fn linger_ms() -> i64 {
    adaptive::millis(adaptive::STRIKE_WINDOW)
}

/// The interval rounded *up* to whole µs (1 s / 3 must not become 333 333 µs: three of those
/// fit in less than a second), and never 0.
fn interval_micros(interval: Duration) -> i64 {
    i64::try_from(interval.as_nanos().div_ceil(1000)).unwrap_or(i64::MAX).max(1)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{TestRedis, unique_prefix};

    #[tokio::test]
    async fn every_cost_script_answers_in_the_shape_its_caller_reads() {
        let conn = crate::store::redis::connection(&TestRedis::shared_url()).unwrap();
        let gate = RedisGate::new(conn, &unique_prefix(), "shopify", "shape");
        let wait = Duration::from_secs(1);
        let (_, (decision, answered)) = gate.reserve_cost(10.0, wait).await.unwrap();
        assert_eq!(decision, Decision::Granted { wait: Duration::ZERO });
        let status = ThrottleStatus { maximum_available: 1000.0, currently_available: 990.0, restore_rate: 50.0 };
        gate.record_cost(&answered.unwrap(), &status).await.unwrap();
        let (_, (_, dropped)) = gate.reserve_cost(10.0, wait).await.unwrap();
        let dropped = dropped.unwrap();
        gate.release_cost(&dropped, false).await.unwrap();
        gate.release_cost(&dropped, true).await.unwrap();
        let (_, (decision, _)) = gate.reserve_cost(2000.0, wait).await.unwrap();
        assert!(matches!(decision, Decision::Granted { .. }), "clamped to the bucket's 1000: {decision:?}");
    }
}
