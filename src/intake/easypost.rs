//! EasyPost webhook events.
//!
//! An Event is `{"id":"evt_…","object":"Event","mode":"test|production","description":
//! "tracker.updated","result":{…the full object…},…}`. Tracker events carry a Tracker; events
//! about fulfillment orders carry the order (`order_…` id) or, from some integrations, its
//! trackers. Delivery is at-least-once and unordered: the event id is the dedupe key.

use serde::Deserialize;
use serde_json::Value;

use super::NotificationError;
use crate::jobs::TrackerUpdate;
use crate::settings::Mode;

/// What an event asks of us.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `tracker.created` / `tracker.updated`: record the tracker status.
    Tracker(TrackerUpdate),
    /// An event about a fulfillment order: look at that order for shipments.
    CheckOrder(String),
    /// Nothing for us (counted, accepted).
    None,
}

/// A verified, well-formed event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub description: String,
    /// `None` when the event does not say (then it is not filtered by mode).
    pub mode: Option<Mode>,
    pub action: Action,
}

#[derive(Deserialize)]
struct Wire {
    id: String,
    description: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    result: Option<Value>,
}

/// Parses an event body.
pub fn parse(body: &[u8]) -> Result<Event, NotificationError> {
    let wire: Wire = serde_json::from_slice(body).map_err(|e| NotificationError::Malformed(e.to_string()))?;
    let id = wire.id.trim();
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(NotificationError::Malformed("event id is missing or not printable".into()));
    }
    let mode = match wire.mode.as_deref() {
        None | Some("") => None,
        Some("test") => Some(Mode::Test),
        Some("production") => Some(Mode::Production),
        Some(other) => return Err(NotificationError::Malformed(format!("unknown mode `{other}`"))),
    };
    let action = action(&wire.description, wire.result.as_ref())?;
    Ok(Event { id: id.to_owned(), description: wire.description, mode, action })
}

fn action(description: &str, result: Option<&Value>) -> Result<Action, NotificationError> {
    let result_id = result.and_then(|r| r.get("id")).and_then(Value::as_str).unwrap_or("");
    if description.starts_with("tracker.") {
        let result = result.ok_or_else(|| NotificationError::Malformed("tracker event without result".into()))?;
        return tracker(result).map(Action::Tracker);
    }
    if result_id.starts_with("order_") {
        return Ok(Action::CheckOrder(result_id.to_owned()));
    }
    if description.starts_with("fulfillment.") {
        // Some senders put the order id beside the trackers instead of sending the order.
        let order_id = result.and_then(|r| r.get("order_id")).and_then(Value::as_str).unwrap_or("");
        if order_id.starts_with("order_") {
            return Ok(Action::CheckOrder(order_id.to_owned()));
        }
    }
    Ok(Action::None)
}

fn tracker(result: &Value) -> Result<TrackerUpdate, NotificationError> {
    let text = |k: &str| result.get(k).and_then(Value::as_str).map(str::to_owned);
    let tracking_code = text("tracking_code")
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| NotificationError::Malformed("tracker without tracking_code".into()))?;
    Ok(TrackerUpdate {
        id: text("id"),
        tracking_code,
        carrier: text("carrier"),
        status: text("status").unwrap_or_else(|| "unknown".into()),
        status_detail: text("status_detail"),
        public_url: text("public_url"),
        est_delivery_date: text("est_delivery_date"),
        updated_at: text("updated_at"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_tracker_event_parses() {
        let body = include_bytes!("../../tests/data/easypost-tracker-updated-event.json");
        let e = parse(body).unwrap();
        assert_eq!(e.id, "evt_1");
        assert_eq!(e.mode, Some(Mode::Production));
        let Action::Tracker(t) = e.action else { panic!("not a tracker action") };
        assert_eq!(t.tracking_code, "1");
        assert_eq!(t.status, "in_transit");
        assert_eq!(t.carrier.as_deref(), Some("FedEx"));
    }

    #[test]
    fn an_event_about_a_fulfillment_order_asks_for_a_shipment_check() {
        let body = br#"{"id":"evt_2","description":"fulfillment.order.updated","mode":"test","result":{"id":"order_9","picks":[]}}"#;
        assert_eq!(parse(body).unwrap().action, Action::CheckOrder("order_9".into()));
        let body = br#"{"id":"evt_3","description":"fulfillment.order.shipped","result":{"order_id":"order_7","trackers":[]}}"#;
        assert_eq!(parse(body).unwrap().action, Action::CheckOrder("order_7".into()));
    }

    #[test]
    fn other_events_need_nothing_and_bad_ones_are_malformed() {
        let body = br#"{"id":"evt_4","description":"batch.created","result":{"id":"batch_1"}}"#;
        assert_eq!(parse(body).unwrap().action, Action::None);
        for bad in [
            &b"[]"[..],
            br#"{"id":"","description":"x"}"#,
            br#"{"id":"evt_5","description":"tracker.updated","result":{}}"#,
            br#"{"id":"evt_6","description":"x","mode":"staging"}"#,
        ] {
            assert!(matches!(parse(bad), Err(NotificationError::Malformed(_))), "{}", String::from_utf8_lossy(bad));
        }
    }
}
