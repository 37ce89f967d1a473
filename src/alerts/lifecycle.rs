//! Raising and clearing alerts: what the workflows, the upstream core and the workers call.
//!
//! Every change is one compare-and-set of the merchant's alert book (`ledger::alerts`); the
//! writer whose change opened or resolved an alert — and only it — hands the [`Notice`] to the
//! [`AlertSink`] (delivery) and counts it in `cartgate_alerts_{opened,resolved}_total{kind}`.
//! Updates of an open alert (count, last seen, another order) are stored, never sent.
//!
//! Alerts about upstream accounts (credentials, pauses) are in `accounts`: they are looked at
//! on every upstream call, so they keep a per-process memory ([`RECHECK`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::accounts::{AccountKey, Known};
use super::book::{AlertBook, Change, Raise, StateFilter};
use super::model::{Alert, AlertKind, AlertSink, Notice, NoticeEvent};
use crate::domain::MerchantId;
use crate::ledger::AlertStore;
use crate::store::StoreError;

pub const ALERTS_OPENED: &str = "cartgate_alerts_opened_total";
pub const ALERTS_RESOLVED: &str = "cartgate_alerts_resolved_total";

/// How long a process trusts what it knows about an account's alerts (open or clear).
pub const RECHECK: Duration = Duration::from_secs(60);

/// Describes the alert metrics (for `GET /metrics`).
pub fn describe_metrics() {
    metrics::describe_counter!(ALERTS_OPENED, "Alerts opened, by kind");
    metrics::describe_counter!(ALERTS_RESOLVED, "Alerts resolved, by kind");
}

/// The notices this process handed to its sink, kept for tests (the test kit installs one).
#[derive(Default)]
pub struct NoticeLog(Mutex<Vec<(MerchantId, Notice)>>);

impl NoticeLog {
    pub fn all(&self) -> Vec<(MerchantId, Notice)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn push(&self, merchant: &MerchantId, notice: &Notice) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push((merchant.clone(), notice.clone()));
    }
}

/// The alert lifecycle: the store, where notices go, and the per-process account memory.
#[derive(Clone)]
pub struct Alerts {
    store: AlertStore,
    sink: Arc<dyn AlertSink>,
    log: Option<Arc<NoticeLog>>,
    pub(super) accounts: Arc<Mutex<HashMap<AccountKey, Known>>>,
}

impl Alerts {
    pub fn new(store: AlertStore, sink: Arc<dyn AlertSink>) -> Self {
        Self { store, sink, log: None, accounts: Arc::default() }
    }

    /// The same lifecycle, also keeping every notice in `log` (tests count them).
    pub fn with_log(self, log: Arc<NoticeLog>) -> Self {
        Self { log: Some(log), ..self }
    }

    /// Raises `(kind, subject)`: opens the alert (told) or updates the open one (not told).
    pub async fn raise(
        &self,
        merchant: &MerchantId,
        kind: AlertKind,
        subject: &str,
        summary: &str,
        order: Option<&str>,
    ) -> Result<(), StoreError> {
        let r =
            Raise { kind, subject: subject.to_owned(), summary: summary.to_owned(), order: order.map(str::to_owned) };
        let now = Utc::now();
        self.change(merchant, now, |book| book.raise(merchant, &r, now).into_iter().collect()).await
    }

    /// Clears `(kind, subject)` for one order, or altogether; resolving it is told.
    pub async fn clear(
        &self,
        merchant: &MerchantId,
        kind: AlertKind,
        subject: &str,
        order: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let open = self.store.read(merchant).await?.open(kind, subject).is_some();
        if !open {
            return Ok(());
        }
        self.change(merchant, now, |book| book.clear(kind, subject, order, now).into_iter().collect()).await
    }

    /// The order (`<cart>:<id>`) left `error`: it no longer waits on any `order_error` alert.
    pub async fn order_left_error(&self, merchant: &MerchantId, order: &str) -> Result<(), StoreError> {
        if !self.store.read(merchant).await?.waits_on(order) {
            return Ok(());
        }
        let now = Utc::now();
        self.change(merchant, now, |book| book.clear_order(order, now)).await
    }

    /// A job of the merchant went to the dead letters: one `jobs_dead` alert per job kind,
    /// listing the dead jobs (in `orders`).
    pub async fn job_buried(&self, merchant: &MerchantId, kind: &str, job: &str) -> Result<(), StoreError> {
        let summary = format!("{kind} jobs gave up (dead letters): fix the cause, then redrive them");
        self.raise(merchant, AlertKind::JobsDead, kind, &summary, Some(job)).await
    }

    /// After a redrive: `jobs_dead` alerts keep only the jobs `still_dead` names, and resolve
    /// when none is left.
    pub async fn dead_jobs_now(
        &self,
        merchant: &MerchantId,
        still_dead: impl Fn(&str) -> bool,
    ) -> Result<(), StoreError> {
        if !self.store.read(merchant).await?.any_open(AlertKind::JobsDead) {
            return Ok(());
        }
        let now = Utc::now();
        self.change(merchant, now, |book| book.keep_waiting(AlertKind::JobsDead, &still_dead, now)).await
    }

    /// The merchant's alerts in `state`, newest first.
    pub async fn list(
        &self,
        merchant: &MerchantId,
        state: StateFilter,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        Ok(self.store.read(merchant).await?.list(state, limit))
    }

    /// Records that a person saw the alert; `None` when the merchant has no such alert.
    pub async fn ack(&self, merchant: &MerchantId, id: &str) -> Result<Option<Alert>, StoreError> {
        if self.store.read(merchant).await?.get(id).is_none() {
            return Ok(None);
        }
        let now = Utc::now();
        self.store.update(merchant, now, |book: &mut AlertBook| book.ack(id, now)).await
    }

    /// Applies `change` to the merchant's book and tells what it opened or resolved — and any
    /// notice an earlier writer stored but never handed over (`book::RETELL_AFTER`).
    async fn change(
        &self,
        merchant: &MerchantId,
        now: DateTime<Utc>,
        mut change: impl FnMut(&mut AlertBook) -> Vec<Change>,
    ) -> Result<(), StoreError> {
        let changes = self
            .store
            .update(merchant, now, |book| {
                let mut changes = change(book);
                changes.extend(book.overdue(now));
                changes
            })
            .await?;
        self.tell(merchant, changes).await
    }

    /// Hands the opened and resolved alerts to the sink, then marks them told; counted by kind.
    async fn tell(&self, merchant: &MerchantId, changes: Vec<Change>) -> Result<(), StoreError> {
        for change in changes {
            let (event, alert, metric) = match change {
                Change::Opened(a) => (NoticeEvent::Opened, a, ALERTS_OPENED),
                Change::Resolved(a) => (NoticeEvent::Resolved, a, ALERTS_RESOLVED),
            };
            let (id, kind) = (alert.id.clone(), alert.kind);
            tracing::info!(merchant = %merchant, id = %id, kind = kind_label(kind), subject = %alert.subject, ?event, "alert");
            let notice = Notice { event, alert };
            if let Some(log) = &self.log {
                log.push(merchant, &notice);
            }
            self.sink.notify(merchant, notice).await?;
            metrics::counter!(metric, "kind" => kind_label(kind)).increment(1);
            self.store.update(merchant, Utc::now(), |book| book.told(&id, event)).await?;
        }
        Ok(())
    }
}

/// The API spelling of a kind (`order_error`…), for metric labels and logs.
pub fn kind_label(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::OrderError => "order_error",
        AlertKind::CredentialsRejected => "credentials_rejected",
        AlertKind::CartDisconnected => "cart_disconnected",
        AlertKind::JobsDead => "jobs_dead",
        AlertKind::WebhooksRepaired => "webhooks_repaired",
        AlertKind::HeldOrders => "held_orders",
        AlertKind::UpstreamPaused => "upstream_paused",
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
