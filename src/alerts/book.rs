//! A merchant's alerts as one record (the ledger stores it as one versioned document, see
//! `ledger::alerts`), and the pure rules of their lifecycle — no I/O, so they are tested alone.
//!
//! * **Raise** `(kind, subject)`: no open alert for it → a new one (new id, count 1): that is
//!   the only change people hear about at once ([`Change::Opened`]). An open one is updated:
//!   count, last seen, summary, and the order added — nobody is told.
//! * **Clear** `(kind, subject [, order])`: with an order, that order no longer waits; the alert
//!   resolves when no order waits any more. Without, the condition is gone: it resolves.
//!   Resolving is told ([`Change::Resolved`]). A condition that returns afterwards is a new alert.
//! * **Told once, surely**: an opened or resolved alert is marked untold until the sink took
//!   it; a later change of the merchant's alerts that finds one still untold after
//!   [`RETELL_AFTER`] tells it again (the sink dedupes by alert id and event).
//! * **Bounds**: an alert lists its first [`MAX_LISTED`] orders (the count keeps counting; the
//!   orders still waiting are kept apart, for resolving); resolved alerts are kept
//!   [`KEEP_RESOLVED_DAYS`] days and at most [`MAX_RESOLVED`] of them.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Alert, AlertKind, AlertState, NoticeEvent};
use crate::domain::MerchantId;

/// Orders an alert lists.
pub const MAX_LISTED: usize = 100;
/// Days a resolved alert is kept.
pub const KEEP_RESOLVED_DAYS: i64 = 30;
/// How long an opened or resolved alert may wait for the sink before it is told again.
pub const RETELL_AFTER: Duration = Duration::seconds(60);
/// Resolved alerts kept per merchant at most (the oldest go first), so the record stays small.
pub const MAX_RESOLVED: usize = 500;

/// One merchant's alerts: the open ones and the recently resolved ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertBook {
    #[serde(default)]
    alerts: Vec<Tracked>,
}

/// An alert and, while it is open, every order that still waits on its condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tracked {
    alert: Alert,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    waiting: Vec<String>,
    /// Opened or resolved, and not yet accepted by the sink: told again if still so after
    /// [`RETELL_AFTER`] (the writer may have died between the write and the sink).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    untold: Option<NoticeEvent>,
}

/// What a raise is about.
#[derive(Debug, Clone)]
pub struct Raise {
    pub kind: AlertKind,
    pub subject: String,
    pub summary: String,
    /// The order concerned (`<cart>:<id>`), for alerts about orders.
    pub order: Option<String>,
}

/// A change people hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Opened(Alert),
    Resolved(Alert),
}

/// Which alerts a listing wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    Any,
    Only(AlertState),
}

/// RFC 3339 UTC with milliseconds, as every admin time.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl AlertBook {
    /// Raises `r`: opens a new alert (returned) or updates the open one (`None`).
    pub fn raise(&mut self, merchant: &MerchantId, r: &Raise, now: DateTime<Utc>) -> Option<Change> {
        if let Some(t) = self.open_mut(r.kind, &r.subject) {
            t.alert.last_seen_at = stamp(now);
            t.alert.summary.clone_from(&r.summary);
            match &r.order {
                Some(o) if t.waiting.contains(o) => {}
                Some(o) => {
                    t.waiting.push(o.clone());
                    t.alert.count += 1;
                    if t.alert.orders.len() < MAX_LISTED && !t.alert.orders.contains(o) {
                        t.alert.orders.push(o.clone());
                    }
                }
                None => t.alert.count += 1,
            }
            return None;
        }
        let alert = Alert {
            id: new_id(now),
            merchant: merchant.clone(),
            kind: r.kind,
            subject: r.subject.clone(),
            summary: r.summary.clone(),
            state: AlertState::Open,
            count: 1,
            orders: r.order.iter().cloned().collect(),
            opened_at: stamp(now),
            last_seen_at: stamp(now),
            resolved_at: None,
            acked_at: None,
        };
        let waiting = r.order.iter().cloned().collect();
        self.alerts.push(Tracked { alert: alert.clone(), waiting, untold: Some(NoticeEvent::Opened) });
        Some(Change::Opened(alert))
    }

    /// Clears `(kind, subject)` — for one order, or altogether (`order: None`); returns the
    /// alert when this resolved it.
    pub fn clear(&mut self, kind: AlertKind, subject: &str, order: Option<&str>, now: DateTime<Utc>) -> Option<Change> {
        let t = self.open_mut(kind, subject)?;
        if let Some(o) = order {
            t.waiting.retain(|w| w != o);
            if !t.waiting.is_empty() {
                return None;
            }
        }
        Some(resolve(t, now))
    }

    /// The order no longer waits on any `order_error` alert; returns the alerts that resolved.
    pub fn clear_order(&mut self, order: &str, now: DateTime<Utc>) -> Vec<Change> {
        let mut resolved = Vec::new();
        for t in self.alerts.iter_mut().filter(|t| is_open(t) && t.alert.kind == AlertKind::OrderError) {
            let before = t.waiting.len();
            t.waiting.retain(|w| w != order);
            if before != t.waiting.len() && t.waiting.is_empty() {
                resolved.push(resolve(t, now));
            }
        }
        resolved
    }

    /// Keeps, in the open alerts of `kind`, only what `still` holds for (e.g. jobs still dead);
    /// returns the alerts that resolved because nothing was left.
    pub fn keep_waiting(&mut self, kind: AlertKind, still: impl Fn(&str) -> bool, now: DateTime<Utc>) -> Vec<Change> {
        let mut resolved = Vec::new();
        for t in self.alerts.iter_mut().filter(|t| is_open(t) && t.alert.kind == kind) {
            t.waiting.retain(|w| still(w));
            if t.waiting.is_empty() {
                resolved.push(resolve(t, now));
            }
        }
        resolved
    }

    /// Whether any alert of `kind` is open.
    pub fn any_open(&self, kind: AlertKind) -> bool {
        self.alerts.iter().any(|t| is_open(t) && t.alert.kind == kind)
    }

    /// Whether an open `order_error` alert waits on `order`.
    pub fn waits_on(&self, order: &str) -> bool {
        self.alerts.iter().any(|t| is_open(t) && t.waiting.iter().any(|w| w == order))
    }

    /// The open alert for `(kind, subject)`.
    pub fn open(&self, kind: AlertKind, subject: &str) -> Option<&Alert> {
        self.alerts.iter().find(|t| is_open(t) && t.alert.kind == kind && t.alert.subject == subject).map(|t| &t.alert)
    }

    /// The sink accepted `event` of alert `id`.
    pub fn told(&mut self, id: &str, event: NoticeEvent) {
        for t in self.alerts.iter_mut().filter(|t| t.alert.id == id && t.untold == Some(event)) {
            t.untold = None;
        }
    }

    /// Opened or resolved alerts the sink has not accepted for [`RETELL_AFTER`]: to tell again.
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<Change> {
        let before = stamp(now - RETELL_AFTER);
        let mut out = Vec::new();
        for t in &self.alerts {
            match t.untold {
                Some(NoticeEvent::Opened) if t.alert.opened_at < before => out.push(Change::Opened(t.alert.clone())),
                Some(NoticeEvent::Resolved) if t.alert.resolved_at.as_ref().is_some_and(|at| *at < before) => {
                    out.push(Change::Resolved(t.alert.clone()))
                }
                _ => {}
            }
        }
        out
    }

    /// Records that a person saw the alert (the first time counts); `None`: no such alert.
    pub fn ack(&mut self, id: &str, now: DateTime<Utc>) -> Option<Alert> {
        let t = self.alerts.iter_mut().find(|t| t.alert.id == id)?;
        t.alert.acked_at.get_or_insert_with(|| stamp(now));
        Some(t.alert.clone())
    }

    pub fn get(&self, id: &str) -> Option<&Alert> {
        self.alerts.iter().map(|t| &t.alert).find(|a| a.id == id)
    }

    /// Alerts in `state`, newest first, at most `limit`.
    pub fn list(&self, state: StateFilter, limit: usize) -> Vec<Alert> {
        // Newest first; alerts opened in the same millisecond by the order they were opened.
        let mut out: Vec<(usize, &Alert)> = self
            .alerts
            .iter()
            .map(|t| &t.alert)
            .enumerate()
            .filter(|(_, a)| matches!(state, StateFilter::Any) || state == StateFilter::Only(a.state))
            .collect();
        out.sort_by(|(i, a), (j, b)| b.opened_at.cmp(&a.opened_at).then_with(|| j.cmp(i)));
        out.into_iter().take(limit).map(|(_, a)| a.clone()).collect()
    }

    /// Drops resolved alerts older than [`KEEP_RESOLVED_DAYS`] and beyond [`MAX_RESOLVED`].
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let cutoff = stamp(now - Duration::days(KEEP_RESOLVED_DAYS));
        self.alerts.retain(|t| t.alert.resolved_at.as_ref().is_none_or(|at| *at >= cutoff));
        let resolved = self.alerts.iter().filter(|t| !is_open(t)).count();
        if resolved > MAX_RESOLVED {
            let mut stamps: Vec<String> = self.alerts.iter().filter_map(|t| t.alert.resolved_at.clone()).collect();
            stamps.sort();
            let keep_from = stamps[resolved - MAX_RESOLVED].clone();
            let mut extra = resolved - MAX_RESOLVED;
            self.alerts.retain(|t| match &t.alert.resolved_at {
                Some(at) if *at <= keep_from && extra > 0 => {
                    extra -= 1;
                    false
                }
                _ => true,
            });
        }
    }

    fn open_mut(&mut self, kind: AlertKind, subject: &str) -> Option<&mut Tracked> {
        self.alerts.iter_mut().find(|t| is_open(t) && t.alert.kind == kind && t.alert.subject == subject)
    }
}

fn is_open(t: &Tracked) -> bool {
    t.alert.state == AlertState::Open
}

fn resolve(t: &mut Tracked, now: DateTime<Utc>) -> Change {
    t.waiting.clear();
    t.untold = Some(NoticeEvent::Resolved);
    t.alert.state = AlertState::Resolved;
    t.alert.resolved_at = Some(stamp(now));
    Change::Resolved(t.alert.clone())
}

/// A new alert's id: when it opened (ms, hex) and 32 random bits, so ids sort by age and two
/// replicas never pick the same one.
fn new_id(now: DateTime<Utc>) -> String {
    format!("al_{:011x}{:08x}", now.timestamp_millis().max(0), rand::random::<u32>())
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
