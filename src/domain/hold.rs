//! When held orders are resent: the next `hold.release_at` in `hold.timezone`.
//!
//! Daylight saving time makes "the next 01:00" subtle:
//! * fall-back days have the wall time twice — we take the **first** one;
//! * spring-forward days may skip it (e.g. 02:30 in America/Los_Angeles) — we take the instant
//!   the wall clock would have shown it at the old offset, which is just after the gap;
//! * the release is strictly after `now`: a hold placed at 00:59 releases at 01:00 the same
//!   night, one placed at 01:00 or later the next night.

use chrono::{DateTime, Days, LocalResult, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The next release instant strictly after `now`.
pub fn next_release(now: DateTime<Utc>, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    // Yesterday covers a local date that is still "today" in UTC terms; two days ahead always
    // finds a release in the future.
    let start = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    (0..4)
        .filter_map(|d| start.checked_add_days(Days::new(d)))
        .map(|date| resolve(date.and_time(at), tz))
        .find(|t| *t > now)
        .unwrap_or_else(|| now + chrono::Duration::days(1))
}

/// A wall-clock time in `tz` as an instant: first of two on fall-back, shifted past a gap.
fn resolve(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: read the wall time at the offset in force just before the gap.
            let before = local - chrono::Duration::hours(3);
            let offset = match tz.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.offset().fix(),
                LocalResult::None => Utc.fix(),
            };
            (local - offset).and_utc()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LA: Tz = chrono_tz::America::Los_Angeles;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn one_am() -> NaiveTime {
        NaiveTime::from_hms_opt(1, 0, 0).unwrap()
    }

    #[test]
    fn a_hold_placed_at_0059_pacific_releases_at_0100_the_same_night() {
        // 2026-01-15 00:59 PST = 08:59 UTC.
        assert_eq!(next_release(utc("2026-01-15T08:59:00Z"), one_am(), LA), utc("2026-01-15T09:00:00Z"));
    }

    #[test]
    fn a_hold_placed_at_or_after_0100_releases_the_next_night() {
        assert_eq!(next_release(utc("2026-01-15T09:00:00Z"), one_am(), LA), utc("2026-01-16T09:00:00Z"));
        // 23:00 PST on the 15th is 07:00 UTC on the 16th.
        assert_eq!(next_release(utc("2026-01-16T07:00:00Z"), one_am(), LA), utc("2026-01-16T09:00:00Z"));
    }

    #[test]
    fn spring_forward_day_releases_at_0100_pst_then_0100_pdt() {
        // 2026-03-08: 02:00 PST jumps to 03:00 PDT. 01:00 still exists (PST).
        assert_eq!(next_release(utc("2026-03-08T08:30:00Z"), one_am(), LA), utc("2026-03-08T09:00:00Z"));
        // From 01:30 PST the next release is 01:00 PDT on the 9th = 08:00 UTC.
        assert_eq!(next_release(utc("2026-03-08T09:30:00Z"), one_am(), LA), utc("2026-03-09T08:00:00Z"));
    }

    #[test]
    fn a_release_time_inside_the_spring_gap_happens_just_after_it() {
        let at = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        // 02:30 does not exist on 2026-03-08; read at PST it is 10:30 UTC (03:30 PDT).
        assert_eq!(next_release(utc("2026-03-08T08:00:00Z"), at, LA), utc("2026-03-08T10:30:00Z"));
    }

    #[test]
    fn fall_back_day_releases_at_the_first_0100() {
        // 2026-11-01: 02:00 PDT falls back to 01:00 PST, so 01:00 happens twice.
        // From 00:30 PDT (07:30 UTC): the first 01:00 is PDT = 08:00 UTC, not PST = 09:00 UTC.
        assert_eq!(next_release(utc("2026-11-01T07:30:00Z"), one_am(), LA), utc("2026-11-01T08:00:00Z"));
        // The day before, from 02:00 PDT: the same first 01:00.
        assert_eq!(next_release(utc("2026-10-31T09:00:00Z"), one_am(), LA), utc("2026-11-01T08:00:00Z"));
        // After the fall back the release is at PST: 2026-11-02 01:00 PST = 09:00 UTC.
        assert_eq!(next_release(utc("2026-11-01T08:30:00Z"), one_am(), LA), utc("2026-11-02T09:00:00Z"));
    }

    #[test]
    fn other_time_zones_work_too() {
        let at = NaiveTime::from_hms_opt(6, 15, 0).unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(next_release(utc("2026-07-01T00:00:00Z"), at, berlin), utc("2026-07-01T04:15:00Z"));
    }
}
