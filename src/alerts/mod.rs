//! Alerts: tell the merchant when something needs a person, once, and when it is fixed.
//!
//! * [`model`] — what an alert is, and the [`AlertSink`] boundary to delivery.
//! * [`book`] — a merchant's alerts and the pure lifecycle rules (open once, update, resolve,
//!   bounds), stored by `ledger::alerts` as one document per merchant.
//! * [`orders`] — `order_error`: raised by the workflows with an [`ErrorCause`], cleared by the
//!   order ledger on every exit from `error`.
//! * [`lifecycle`] — [`Alerts`]: raise and clear, called by the workflows, the upstream core
//!   and the workers; the admin API lists and acknowledges through it.

pub mod accounts;
pub mod book;
pub mod lifecycle;
pub mod model;
pub mod orders;

pub use book::{Raise, StateFilter};
pub use lifecycle::{Alerts, NoticeLog};
pub use model::{Alert, AlertKind, AlertSink, AlertState, DiscardSink, Notice, NoticeEvent};
pub use orders::ErrorCause;
