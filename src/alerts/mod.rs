//! Alerts: tell the merchant when something needs a person, once, and when it is fixed.
//!
//! * [`model`] — what an alert is, and the [`AlertSink`] boundary to delivery.
//! * [`book`] — a merchant's alerts and the pure lifecycle rules (open once, update, resolve,
//!   bounds), stored by `ledger::alerts` as one document per merchant.
//! * [`orders`] — `order_error`: raised by the workflows with an [`ErrorCause`], cleared by the
//!   order ledger on every exit from `error`.
//! * [`lifecycle`] — [`Alerts`]: raise and clear, called by the workflows, the upstream core
//!   and the workers; the admin API lists and acknowledges through it.
//! * Delivery: [`mod@outbox`] (the real sink: durable per-merchant outbox + a `deliver_alert` job
//!   per message, instant or per digest period), [`deliver`] (the job: each channel once, retried
//!   with backoff), [`email`] (`lettre`), [`webhook`] + [`sign`] (Standard Webhooks),
//!   [`message`] + [`render`] (ids, subject, JSON payload, text and HTML bodies).

pub mod accounts;
pub mod book;
pub mod deliver;
pub mod email;
pub mod lifecycle;
pub mod message;
pub mod model;
pub mod orders;
pub mod outbox;
pub mod render;
pub mod sign;
pub mod webhook;

use std::sync::Arc;

pub use book::{Raise, StateFilter};
pub use deliver::DeliveryHandler;
pub use lifecycle::{Alerts, NoticeLog};
pub use model::{Alert, AlertKind, AlertSink, AlertState, DiscardSink, Notice, NoticeEvent};
pub use orders::ErrorCause;
pub use outbox::Outbox;

use crate::workflows::Deps;

/// The outbox over the application's store, settings and tenant directory.
pub fn outbox(deps: &Deps) -> Outbox {
    Outbox::new(deps.ledger.kv(), deps.jobs.clone(), deps.settings.clone(), deps.tenants.clone())
}

/// Where the alert lifecycle hands its notices in a running application.
pub fn alert_sink(deps: &Deps) -> Arc<dyn AlertSink> {
    Arc::new(outbox(deps))
}
