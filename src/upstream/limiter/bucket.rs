//! The shop's cost bucket as `cost.lua` keeps it, in-process: the memory store's limiter and
//! the model the scripts follow (protocol: `cost.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::adaptive;
use super::cost::ThrottleStatus;
use crate::store::Millis;

/// A query's reserved points (`<id>:<milli>` in `cost.lua`'s sorted set), handed back when
/// the query is answered or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    id: i64,
    /// The reserved cost (clamped to the bucket) in thousandths of a point.
    milli: i64,
}

impl Reservation {
    /// The sorted set's member, as `cost.lua` wrote it.
    pub(super) fn member(&self) -> String {
        format!("{}:{}", self.id, self.milli)
    }

    pub(super) fn new(id: i64, milli: i64) -> Self {
        Self { id, milli }
    }

    fn cost(&self) -> f64 {
        self.milli as f64 / 1000.0
    }
}

/// The bucket as this process knows it (the memory store's limiter; the shape `cost.lua` keeps).
#[derive(Debug, Default)]
pub(super) struct Bucket {
    book: Mutex<Book>,
    /// The requested cost Shopify last reported per operation (with Redis too: a query's cost
    /// depends only on its text and page sizes, so each replica learns it alike).
    pub(super) learned: Mutex<HashMap<String, f64>>,
}

/// `cost.lua`'s hash and sorted set, in-process.
#[derive(Debug, Default)]
struct Book {
    /// Shopify's last word: currentlyAvailable, when recorded, size, restore rate (`None`
    /// until it reports).
    reported: Option<Reported>,
    /// When the query whose answer gave `reported` was sent.
    seen: Millis,
    seq: i64,
    /// Reservations not settled: id → (when sent, milli).
    pending: HashMap<i64, (Millis, i64)>,
}

#[derive(Debug, Clone, Copy)]
struct Reported {
    avail: f64,
    at: Millis,
    max: f64,
    rate: f64,
}

impl Book {
    fn size_and_rate(&self) -> (f64, f64) {
        self.reported.map_or((Bucket::ASSUMED_SIZE, Bucket::ASSUMED_RATE), |r| (r.max, r.rate))
    }

    /// Shopify's bucket now: its last word refilled since.
    fn bucket_now(&self, now: Millis) -> f64 {
        let (max, rate) = self.size_and_rate();
        self.reported.map_or(max, |r| max.min(r.avail + (now - r.at).max(0) as f64 * rate / 1000.0))
    }
}

impl Bucket {
    /// Assumed bucket size until Shopify reports one: the smallest documented restore rate's
    /// worth of a second (an unknown plan is treated as the smallest).
    pub const ASSUMED_SIZE: f64 = 100.0;
    /// Assumed restore rate (points/s) until Shopify reports one: below every documented plan.
    pub const ASSUMED_RATE: f64 = 10.0;
    /// A reservation sent this long before a query whose answer reported the bucket is taken
    /// as counted in it. Above the limiter's longest in-process wait (the call-rate gate may
    /// hold a query that long after its reservation) plus a round trip: one taken as counted
    /// too early can at worst be answered THROTTLED, which pauses the shop.
    pub const SEEN_MARGIN_MS: i64 = 3_000;
    /// Reservations older than this are dropped: no query waits and runs that long.
    pub const KEEP_MS: i64 = 60_000;

    /// `cost.lua` in-process: the wait before `cost` may be sent and its reservation, or
    /// `Err(at)` when that is further than `max_wait`.
    pub(super) fn reserve(
        &self,
        cost: f64,
        now: Millis,
        max_wait: Duration,
    ) -> Result<(Duration, Reservation), Millis> {
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        let (max, rate) = book.size_and_rate();
        book.pending.retain(|_, (sent, _)| *sent >= now - Self::KEEP_MS);
        let counted_from = book.seen - Self::SEEN_MARGIN_MS;
        let pending: i64 = book.pending.values().filter(|(sent, _)| *sent >= counted_from).map(|(_, m)| m).sum();
        let free = book.bucket_now(now) - pending as f64 / 1000.0;
        let cost = cost.min(max);
        let wait = if free < cost { ((cost - free) * 1000.0 / rate).ceil() as i64 } else { 0 };
        if wait > adaptive::millis(max_wait) {
            return Err(now + wait);
        }
        book.seq += 1;
        let reservation = Reservation { id: book.seq, milli: (cost * 1000.0).round() as i64 };
        book.pending.insert(reservation.id, (now + wait, reservation.milli));
        Ok((Duration::from_millis(u64::try_from(wait).unwrap_or(0)), reservation))
    }

    /// `cost_release.lua` in-process.
    pub(super) fn release(&self, reservation: &Reservation, spent: bool, now: Millis) {
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        if book.pending.remove(&reservation.id).is_none() || !spent {
            return;
        }
        let (max, rate) = book.size_and_rate();
        let avail = book.bucket_now(now) - reservation.cost();
        book.reported = Some(Reported { avail, at: now, max, rate });
    }

    /// `cost_record.lua` in-process.
    pub(super) fn record(&self, reservation: &Reservation, status: &ThrottleStatus, now: Millis) {
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        let sent = book.pending.remove(&reservation.id).map(|(sent, _)| sent);
        let avail = match sent {
            Some(sent) if sent >= book.seen => {
                book.seen = sent;
                status.currently_available
            }
            _ => book.bucket_now(now).min(status.currently_available),
        };
        let (max, rate) = (status.maximum_available, status.restore_rate);
        book.reported = Some(Reported { avail, at: now, max, rate });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(60);

    fn status(currently_available: f64) -> ThrottleStatus {
        ThrottleStatus { maximum_available: 1000.0, currently_available, restore_rate: 100.0 }
    }

    fn wait_of(b: &Bucket, cost: f64, now: Millis) -> Result<Duration, Millis> {
        b.reserve(cost, now, WAIT).map(|(wait, _)| wait)
    }

    #[test]
    fn a_reservation_waits_for_the_missing_points_and_queues_the_next() {
        let b = Bucket::default();
        assert_eq!(wait_of(&b, 80.0, 0), Ok(Duration::ZERO));
        // 20 left; 50 more need 30 points at 10/s.
        assert_eq!(wait_of(&b, 50.0, 0), Ok(Duration::from_secs(3)));
        // −30 left: the next 10 wait for those 30 as well.
        assert_eq!(wait_of(&b, 10.0, 0), Ok(Duration::from_secs(4)));
        assert_eq!(b.reserve(10.0, 0, Duration::from_secs(1)).map(|_| ()), Err(5_000));
    }

    #[test]
    fn shopify_s_word_is_the_bucket_less_what_it_has_not_counted_yet() {
        let b = Bucket::default();
        let (_, first) = b.reserve(20.0, 0, WAIT).unwrap();
        b.reserve(20.0, 0, WAIT).unwrap();
        // The first is answered: Shopify has 80 of 1000 left (someone else spent the rest),
        // and the second is still on its way.
        b.record(&first, &status(80.0), 0);
        assert_eq!(wait_of(&b, 60.0, 0), Ok(Duration::ZERO));
        assert_eq!(wait_of(&b, 1.0, 0), Ok(Duration::from_millis(10)), "60 of 80 − 20 taken: none left");
    }

    /// Asserts what `cost` would wait now, without keeping the reservation.
    fn probe(b: &Bucket, cost: f64, now: Millis) -> Duration {
        let (wait, r) = b.reserve(cost, now, WAIT).unwrap();
        b.release(&r, false, now);
        wait
    }

    #[test]
    fn an_answer_overtaken_by_a_later_one_can_only_lower_the_bucket() {
        let b = Bucket::default();
        let (_, early) = b.reserve(10.0, 0, WAIT).unwrap();
        let (_, late) = b.reserve(10.0, 100, WAIT).unwrap();
        b.record(&late, &status(500.0), 200);
        b.record(&early, &status(900.0), 200);
        assert_eq!(probe(&b, 500.0, 200), Duration::ZERO);
        assert_eq!(probe(&b, 501.0, 200), Duration::from_millis(10), "the later answer's 500 stands");
        b.record(&Reservation::new(99, 0), &status(100.0), 200);
        assert_eq!(probe(&b, 101.0, 200), Duration::from_millis(10), "a lower word is taken");
    }

    #[test]
    fn a_reservation_never_sent_is_dropped_and_one_spent_without_an_answer_is_charged() {
        let b = Bucket::default();
        let (_, r) = b.reserve(100.0, 0, WAIT).unwrap();
        b.release(&r, false, 0);
        let (_, r) = b.reserve(100.0, 0, WAIT).unwrap();
        assert_eq!(wait_of(&b, 0.0, 0), Ok(Duration::ZERO), "as if the first was never taken");
        b.release(&r, true, 0);
        assert_eq!(wait_of(&b, 10.0, 0), Ok(Duration::from_secs(1)), "the spent 100 are gone from the bucket");
    }

    #[test]
    fn a_killed_callers_reservations_stop_counting_once_a_later_query_is_answered() {
        let b = Bucket::default();
        let (_, r) = b.reserve(0.0, 0, WAIT).unwrap();
        b.record(&r, &status(1000.0), 0);
        // A replica reserves 900 points (one query sent, others waiting) and is killed.
        b.reserve(500.0, 0, WAIT).unwrap();
        b.reserve(400.0, 0, WAIT).unwrap();
        assert_eq!(probe(&b, 200.0, 10), Duration::from_secs(1), "held while they may be on their way");
        // Another replica's query, sent after the margin, is answered: Shopify never saw them.
        let t = Bucket::SEEN_MARGIN_MS + 1_000;
        let (_, later) = b.reserve(10.0, t, WAIT).unwrap();
        b.record(&later, &status(990.0), t);
        assert_eq!(wait_of(&b, 990.0, t), Ok(Duration::ZERO), "the killed replica holds nothing");
    }

    #[test]
    fn a_reservation_waiting_its_turn_keeps_its_place_after_other_answers() {
        let b = Bucket::default();
        let (_, r) = b.reserve(0.0, 0, WAIT).unwrap();
        b.record(&r, &status(100.0), 0);
        // 100 now, then one that waits 10 s for 1000 points.
        let (_, now_100) = b.reserve(100.0, 0, WAIT).unwrap();
        assert_eq!(wait_of(&b, 1000.0, 0), Ok(Duration::from_secs(10)));
        b.record(&now_100, &status(0.0), Bucket::SEEN_MARGIN_MS + 1);
        let t = Bucket::SEEN_MARGIN_MS + 1;
        let wait = adaptive::millis(probe(&b, 1.0, t));
        assert!(t + wait >= 10_000, "still queued behind the 1000, due at 10 s: {wait} ms from {t}");
    }
}
