//! Alerts: tell the merchant when something needs a person, once, and when it is fixed.
//!
//! * [`model`] — what an alert and a notice are, and [`AlertSink`], the one interface between
//!   raising alerts (the lifecycle) and delivering them.
//! * Delivery: [`mod@outbox`] (the real sink: durable per-merchant outbox + a `deliver_alert` job
//!   per message, instant or per digest period), [`deliver`] (the job: each channel once, retried
//!   with backoff), [`email`] (`lettre`), [`webhook`] + [`sign`] (Standard Webhooks),
//!   [`message`] + [`render`] (ids, subject, JSON payload, text and HTML bodies).

pub mod deliver;
pub mod email;
pub mod message;
pub mod model;
pub mod outbox;
pub mod render;
pub mod sign;
pub mod webhook;

use std::sync::Arc;

pub use deliver::DeliveryHandler;
pub use model::{Alert, AlertKind, AlertSink, AlertState, DiscardSink, Notice, NoticeEvent};
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
