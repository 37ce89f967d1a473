//! TradeGecko webhook notifications.
//!
//! The body is a thin notification — `{"object_id":123,"event":"order.create",
//! "timestamp":1546272000,"resource_url":"https://api.tradegecko.com/orders/123"}` — and the
//! resource must be fetched. We fetch only from the cart's configured API host, and only the
//! resource the event names, so a signed-but-forged URL can never make us call elsewhere.
//! The docs spell some events in the plural (`fulfillments.create`): both spellings are read.

use serde::Deserialize;
use url::Url;

use super::NotificationError;

/// The events cartgate knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    OrderCreate,
    OrderFinalized,
    OrderFulfilled,
    FulfillmentCreate,
    FulfillmentFulfilled,
    VariantStockLevelUpdate,
    /// Anything else: accepted (the sender would retry an error forever) and counted.
    Unknown(String),
}

impl Event {
    /// Reads `order.create` and `orders.create` alike.
    pub fn parse(raw: &str) -> Self {
        let (resource, action) = raw.split_once('.').unwrap_or((raw, ""));
        let resource = resource.strip_suffix('s').unwrap_or(resource);
        match (resource, action) {
            ("order", "create") => Self::OrderCreate,
            ("order", "finalized") => Self::OrderFinalized,
            ("order", "fulfilled") => Self::OrderFulfilled,
            ("fulfillment", "create") => Self::FulfillmentCreate,
            ("fulfillment", "fulfilled") => Self::FulfillmentFulfilled,
            ("variant", "stock_level_update") => Self::VariantStockLevelUpdate,
            _ => Self::Unknown(raw.to_owned()),
        }
    }

    /// The API collection the event's object lives in.
    fn collection(&self) -> Option<&'static str> {
        match self {
            Self::OrderCreate | Self::OrderFinalized | Self::OrderFulfilled => Some("orders"),
            Self::FulfillmentCreate | Self::FulfillmentFulfilled => Some("fulfillments"),
            Self::VariantStockLevelUpdate => Some("variants"),
            Self::Unknown(_) => None,
        }
    }

    /// Whether the event means an order must be (re)imported.
    pub fn imports_order(&self) -> bool {
        matches!(self, Self::OrderCreate | Self::OrderFinalized | Self::OrderFulfilled)
    }

    /// The canonical (singular) name, for metrics and the timeline.
    pub fn name(&self) -> &str {
        match self {
            Self::OrderCreate => "order.create",
            Self::OrderFinalized => "order.finalized",
            Self::OrderFulfilled => "order.fulfilled",
            Self::FulfillmentCreate => "fulfillment.create",
            Self::FulfillmentFulfilled => "fulfillment.fulfilled",
            Self::VariantStockLevelUpdate => "variant.stock_level_update",
            Self::Unknown(_) => "unknown",
        }
    }
}

/// A verified, well-formed notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub object_id: u64,
    pub event: Event,
    /// Unix seconds, when given.
    pub timestamp: Option<i64>,
}

#[derive(Deserialize)]
struct Wire {
    object_id: IdOrString,
    event: String,
    #[serde(default)]
    timestamp: Option<IdOrString>,
    resource_url: String,
}

/// Ids and timestamps arrive as numbers; tolerate numeric strings too.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdOrString {
    Num(i64),
    Str(String),
}

impl IdOrString {
    fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Num(n) => Some(*n),
            Self::Str(s) => s.trim().parse().ok(),
        }
    }
}

/// Parses a notification and checks its `resource_url` against the cart's API host.
pub fn parse(body: &[u8], api_base: &Url) -> Result<Notification, NotificationError> {
    let wire: Wire = serde_json::from_slice(body).map_err(|e| NotificationError::Malformed(e.to_string()))?;
    let object_id = wire
        .object_id
        .as_i64()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| NotificationError::Malformed("object_id is not a positive integer".into()))?;
    let timestamp = match &wire.timestamp {
        None => None,
        Some(t) => Some(t.as_i64().ok_or_else(|| NotificationError::Malformed("timestamp is not a number".into()))?),
    };
    let event = Event::parse(wire.event.trim());
    check_resource_url(&wire.resource_url, api_base, &event, object_id)?;
    Ok(Notification { object_id, event, timestamp })
}

/// Same scheme, host and port as the configured API host; for a known event, exactly the path
/// of that event's object.
fn check_resource_url(raw: &str, api_base: &Url, event: &Event, object_id: u64) -> Result<(), NotificationError> {
    if is_canonical_resource_url(raw, api_base, event, object_id) {
        return Ok(());
    }
    check_parsed_resource_url(raw, api_base, event, object_id)
}

fn check_parsed_resource_url(
    raw: &str,
    api_base: &Url,
    event: &Event,
    object_id: u64,
) -> Result<(), NotificationError> {
    let url = Url::parse(raw).map_err(|e| NotificationError::ForeignResource(format!("not a URL: {e}")))?;
    let same_origin = url.scheme() == api_base.scheme()
        && url.host_str() == api_base.host_str()
        && url.port_or_known_default() == api_base.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none();
    if !same_origin {
        return Err(NotificationError::ForeignResource("not the cart's configured API host".into()));
    }
    let Some(collection) = event.collection() else { return Ok(()) };
    let base = api_base.path().trim_end_matches('/');
    let expected = format!("{base}/{collection}/{object_id}");
    let path = url.path();
    if (path == expected || path.strip_suffix('/') == Some(expected.as_str())) && url.fragment().is_none() {
        Ok(())
    } else {
        Err(NotificationError::ForeignResource(format!("expected {expected} for {}", event.name())))
    }
}

/// The usual case without parsing a URL: `raw` is exactly the base URL followed by the
/// event's object path, which the full check below would accept too.
fn is_canonical_resource_url(raw: &str, api_base: &Url, event: &Event, object_id: u64) -> bool {
    let Some(collection) = event.collection() else { return false };
    if api_base.query().is_some() || api_base.fragment().is_some() {
        return false;
    }
    let tail = raw
        .strip_prefix(api_base.as_str().trim_end_matches('/'))
        .and_then(|t| t.strip_prefix('/'))
        .and_then(|t| t.strip_prefix(collection))
        .and_then(|t| t.strip_prefix('/'));
    tail.is_some_and(|id| id.parse::<u64>().ok() == Some(object_id) && !id.starts_with(['0', '+']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://api.tradegecko.com").unwrap()
    }

    #[test]
    fn parses_the_documented_notification() {
        let body = include_bytes!("../../tests/data/tradegecko-webhook-order-create.json");
        let n = parse(body, &base()).unwrap();
        assert_eq!(n, Notification { object_id: 5706, event: Event::OrderCreate, timestamp: Some(1546272000) });
    }

    #[test]
    fn plural_and_singular_event_spellings_are_the_same_event() {
        assert_eq!(Event::parse("orders.create"), Event::OrderCreate);
        assert_eq!(Event::parse("fulfillments.create"), Event::FulfillmentCreate);
        assert_eq!(Event::parse("fulfillment.create"), Event::FulfillmentCreate);
        assert_eq!(Event::parse("order.exploded"), Event::Unknown("order.exploded".into()));
    }

    #[test]
    fn a_resource_url_on_another_host_or_port_or_scheme_is_rejected() {
        for url in [
            "https://evil.example.com/orders/5706",
            "http://api.tradegecko.com/orders/5706",
            "https://api.tradegecko.com:8443/orders/5706",
            "https://user@api.tradegecko.com/orders/5706",
        ] {
            let body = format!(r#"{{"object_id":5706,"event":"order.create","timestamp":1,"resource_url":"{url}"}}"#);
            assert!(matches!(parse(body.as_bytes(), &base()), Err(NotificationError::ForeignResource(_))), "{url}");
        }
    }

    #[test]
    fn a_path_for_a_different_resource_is_rejected() {
        for url in [
            "https://api.tradegecko.com/orders/1",
            "https://api.tradegecko.com/variants/5706",
            "https://api.tradegecko.com/orders/5706/../1",
            "https://api.tradegecko.com/admin/orders/5706",
        ] {
            let body =
                format!(r#"{{"object_id":5706,"event":"order.finalized","timestamp":1,"resource_url":"{url}"}}"#);
            assert!(matches!(parse(body.as_bytes(), &base()), Err(NotificationError::ForeignResource(_))), "{url}");
        }
    }

    #[test]
    fn a_base_url_with_a_port_and_path_is_honoured() {
        let base = Url::parse("http://127.0.0.1:9000/tg/").unwrap();
        let body = br#"{"object_id":"7","event":"order.create","resource_url":"http://127.0.0.1:9000/tg/orders/7"}"#;
        assert_eq!(parse(body, &base).unwrap().object_id, 7);
    }

    #[test]
    fn the_fast_path_accepts_only_what_the_full_check_accepts() {
        let bases = ["https://api.tradegecko.com", "http://127.0.0.1:9000/tg/", "http://127.0.0.1:9000/tg"];
        let tails = [
            "/orders/5706",
            "/orders/05706",
            "/orders/+5706",
            "/orders/5706/",
            "/orders/5706?x=1",
            "/orders/5706#f",
            "/orders/57060",
            "/orders//5706",
            "orders/5706",
            ".evil.com/orders/5706",
            "@evil.com/orders/5706",
        ];
        for base in bases {
            let api = Url::parse(base).unwrap();
            for tail in tails {
                let raw = format!("{}{tail}", base.trim_end_matches('/'));
                if is_canonical_resource_url(&raw, &api, &Event::OrderCreate, 5706) {
                    assert!(check_parsed_resource_url(&raw, &api, &Event::OrderCreate, 5706).is_ok(), "{raw}");
                }
            }
            let canonical = format!("{}/orders/5706", base.trim_end_matches('/'));
            assert!(is_canonical_resource_url(&canonical, &api, &Event::OrderCreate, 5706), "{canonical}");
        }
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        for body in [&b"not json"[..], b"{}", br#"{"object_id":-1,"event":"order.create","resource_url":"x"}"#] {
            assert!(matches!(parse(body, &base()), Err(NotificationError::Malformed(_))));
        }
    }
}
