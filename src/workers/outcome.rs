//! What a handler says about a run, and what the pool does with it: a pure function, so the
//! retry schedule, the give-up horizon and recurring jobs are tested without a store.

use std::time::Duration;

use crate::settings::RetrySettings;
use crate::store::{Charge, ClaimedJob, Millis, When};

/// How one run of a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished: the job leaves the queue (a recurring job is scheduled for its next period).
    Done,
    /// Failed; run again at this time on the store's clock (e.g. from `Retry-After`, using
    /// [`ClaimedJob::claimed_at`] as "now"). Counts as an attempt.
    RetryAt(Millis),
    /// Failed for a reason that may pass: retry after the configured backoff.
    Retry(String),
    /// Cannot proceed until `until` (store clock), e.g. the warehouse lacks inventory.
    Hold { until: Millis, reason: String },
    /// Will never succeed as it is: to the dead letters.
    Permanent(String),
    /// The rate limiter said the next call may go at `until` (store clock, like
    /// `UpstreamError::RateLimited`); rescheduled then, not charged as an attempt.
    RateLimited(Millis),
    /// Cannot run until someone acts (the cart's OAuth connection is lost): looked at again
    /// every [`PARKED_RECHECK`], never charged as an attempt and never given up.
    Parked(String),
}

/// How often a parked job looks whether it can run again (a new Connect makes it run within
/// this delay; the look is one store read).
pub const PARKED_RECHECK: Duration = Duration::from_secs(5);

/// What the pool does to the store for an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Ack,
    Retry { when: When, error: Option<String>, charge: Charge },
    Hold { until: Millis, reason: String },
    Bury(String),
}

/// The retry schedule with jitter and the horizon after which a failing job is given up.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delay before each retry; after the last, every last value.
    pub schedule: Vec<Duration>,
    /// Random spread as a fraction (0.2 = ±20%).
    pub jitter: f64,
    /// Failing for longer than this since `created_at` → dead letters.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    pub fn from_settings(retry: &RetrySettings) -> Self {
        Self {
            schedule: retry.schedule_secs.iter().map(|s| Duration::from_secs(*s)).collect(),
            jitter: retry.jitter,
            give_up_after: Duration::from_secs(retry.give_up_after_hours.saturating_mul(3600)),
        }
    }

    /// The delay before the retry that follows `attempts` failed attempts, jittered.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let last = self.schedule.len().saturating_sub(1);
        let base = self.schedule.get((attempts as usize).min(last)).copied().unwrap_or(Duration::from_secs(60));
        let spread = if self.jitter > 0.0 { rand::random_range(-self.jitter..=self.jitter) } else { 0.0 };
        base.mul_f64((1.0 + spread).max(0.0))
    }
}

/// Decides the store action for `outcome` of `job`. `store_now` is the store's clock now (the
/// claim's time plus the time elapsed since, measured locally); `recurring` is the job's period
/// if it is a recurring job, which is rescheduled instead of finishing or dying.
pub fn decide(
    outcome: Outcome,
    job: &ClaimedJob,
    store_now: Millis,
    policy: &RetryPolicy,
    recurring: Option<Duration>,
) -> Action {
    let next_period =
        |error: Option<String>| recurring.map(|p| Action::Retry { when: When::After(p), error, charge: Charge::Reset });
    let given_up = store_now.saturating_sub(job.created_at) > millis(policy.give_up_after);
    if given_up && matches!(outcome, Outcome::Retry(_) | Outcome::RetryAt(_)) {
        let horizon = humantime::format_duration(policy.give_up_after);
        let why = match &outcome {
            Outcome::Retry(e) => format!("gave up after {horizon}: {e}"),
            _ => format!("gave up after {horizon}"),
        };
        return next_period(Some(why.clone())).unwrap_or(Action::Bury(why));
    }
    match outcome {
        Outcome::Done => next_period(None).unwrap_or(Action::Ack),
        Outcome::Hold { until, reason } => Action::Hold { until, reason },
        Outcome::RateLimited(until) => Action::Retry { when: When::At(until), error: None, charge: Charge::Free },
        Outcome::Parked(why) => {
            Action::Retry { when: When::After(PARKED_RECHECK), error: Some(why), charge: Charge::Free }
        }
        Outcome::Permanent(why) => next_period(Some(why.clone())).unwrap_or(Action::Bury(why)),
        Outcome::Retry(why) => {
            Action::Retry { when: When::After(policy.backoff(job.attempts)), error: Some(why), charge: Charge::Attempt }
        }
        Outcome::RetryAt(at) => Action::Retry { when: When::At(at), error: None, charge: Charge::Attempt },
    }
}

fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{JobId, JobKind, Lease};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            schedule: vec![Duration::from_secs(5), Duration::from_secs(30)],
            jitter: 0.0,
            give_up_after: Duration::from_secs(3600),
        }
    }

    fn job(attempts: u32, created_at: Millis) -> ClaimedJob {
        let id = JobId::parse("noop:1").unwrap();
        ClaimedJob {
            id: id.clone(),
            kind: JobKind::Noop,
            payload: serde_json::Value::Null,
            attempts,
            created_at,
            claimed_at: created_at,
            lease: Lease { id, token: "1".into(), partition: 0 },
        }
    }

    #[test]
    fn a_parked_job_is_never_charged_nor_given_up() {
        let old = job(3, 0);
        let action = decide(Outcome::Parked("disconnected".into()), &old, 10_000_000_000, &policy(), None);
        let parked = Action::Retry {
            when: When::After(PARKED_RECHECK),
            error: Some("disconnected".into()),
            charge: Charge::Free,
        };
        assert_eq!(action, parked);
    }

    #[test]
    fn retry_follows_the_schedule_then_repeats_the_last_delay() {
        let p = policy();
        assert_eq!(p.backoff(0), Duration::from_secs(5));
        assert_eq!(p.backoff(1), Duration::from_secs(30));
        assert_eq!(p.backoff(7), Duration::from_secs(30));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let p = RetryPolicy { jitter: 0.2, ..policy() };
        for _ in 0..100 {
            let d = p.backoff(0).as_secs_f64();
            assert!((4.0..=6.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn retry_past_the_horizon_is_buried_but_a_recurring_job_is_rescheduled() {
        let old = job(3, 0);
        let action = decide(Outcome::Retry("503".into()), &old, 3_600_001, &policy(), None);
        assert!(matches!(action, Action::Bury(ref why) if why.contains("503")), "{action:?}");
        let period = Duration::from_secs(60);
        let action = decide(Outcome::Retry("503".into()), &old, 3_600_001, &policy(), Some(period));
        assert!(matches!(action, Action::Retry { when: When::After(p), charge: Charge::Reset, .. } if p == period));
    }

    #[test]
    fn done_acks_or_reschedules_and_rate_limits_are_free() {
        let j = job(0, 0);
        assert_eq!(decide(Outcome::Done, &j, 1, &policy(), None), Action::Ack);
        let period = Duration::from_secs(60);
        let resched = Action::Retry { when: When::After(period), error: None, charge: Charge::Reset };
        assert_eq!(decide(Outcome::Done, &j, 1, &policy(), Some(period)), resched);
        let limited = decide(Outcome::RateLimited(1_250), &j, 1, &policy(), None);
        let free = Action::Retry { when: When::At(1_250), error: None, charge: Charge::Free };
        assert_eq!(limited, free);
        assert_eq!(
            decide(Outcome::Permanent("bad sku".into()), &j, 1, &policy(), None),
            Action::Bury("bad sku".into())
        );
    }
}
