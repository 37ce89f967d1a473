//! Alerts: tell the merchant when something needs a person, once, and when it is fixed.

pub mod model;

pub use model::{Alert, AlertKind, AlertSink, AlertState, DiscardSink, Notice, NoticeEvent};
