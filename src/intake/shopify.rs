//! Shopify webhook deliveries: the topic header and the bodies cartgate reads.
//!
//! Order topics carry the whole REST-shaped order; cartgate only takes its `id` (an int64 that
//! exceeds 2^53, so it is read as `u64`, never through a float) and fetches the order through
//! the GraphQL Admin API, as it fetches a TradeGecko order. The compliance topics carry
//! `{"shop_id","shop_domain","customer":{"id","email","phone"},"orders_to_redact":[…]}`
//! (`customers/redact`), `{"shop_id","shop_domain"}` (`shop/redact`) and
//! `{…,"orders_requested":[…],"data_request":{"id"}}` (`customers/data_request`). Like the
//! TradeGecko parser these functions are pure and run only after the signature was verified.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::NotificationError;

/// The `X-Shopify-Topic`s cartgate knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    OrdersCreate,
    OrdersUpdated,
    /// Imported like an update: the order's `cancelledAt` takes the existing cancel path.
    OrdersCancelled,
    AppUninstalled,
    CustomersDataRequest,
    CustomersRedact,
    ShopRedact,
    /// Anything else: accepted (Shopify would retry an error, then drop the subscription).
    Unknown(String),
}

impl Topic {
    pub fn parse(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "orders/create" => Self::OrdersCreate,
            "orders/updated" => Self::OrdersUpdated,
            "orders/cancelled" => Self::OrdersCancelled,
            "app/uninstalled" => Self::AppUninstalled,
            "customers/data_request" => Self::CustomersDataRequest,
            "customers/redact" => Self::CustomersRedact,
            "shop/redact" => Self::ShopRedact,
            _ => Self::Unknown(raw.chars().take(64).collect()),
        }
    }

    /// Whether the topic means an order must be (re)imported.
    pub fn imports_order(&self) -> bool {
        matches!(self, Self::OrdersCreate | Self::OrdersUpdated | Self::OrdersCancelled)
    }

    /// Shopify's spelling, for the import's trigger, metrics and logs.
    pub fn name(&self) -> &str {
        match self {
            Self::OrdersCreate => "orders/create",
            Self::OrdersUpdated => "orders/updated",
            Self::OrdersCancelled => "orders/cancelled",
            Self::AppUninstalled => "app/uninstalled",
            Self::CustomersDataRequest => "customers/data_request",
            Self::CustomersRedact => "customers/redact",
            Self::ShopRedact => "shop/redact",
            Self::Unknown(raw) => raw,
        }
    }
}

/// An order body's `id`. Only an object is an order (a derived reader would also take `[5]`),
/// and its other members are skipped unread.
struct OrderWire {
    id: u64,
}

impl<'de> Deserialize<'de> for OrderWire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, PartialEq)]
        #[serde(field_identifier, rename_all = "lowercase")]
        enum Key {
            Id,
            #[serde(other)]
            Other,
        }
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = OrderWire;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an order object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderWire, A::Error> {
                let mut id = None;
                while let Some(key) = map.next_key::<Key>()? {
                    if key == Key::Other {
                        map.next_value::<IgnoredAny>()?;
                    } else if id.replace(map.next_value::<u64>()?).is_some() {
                        return Err(de::Error::duplicate_field("id"));
                    }
                }
                id.map(|id| OrderWire { id }).ok_or_else(|| de::Error::missing_field("id"))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// The order id of an order topic's body.
pub fn order_id(body: &[u8]) -> Result<u64, NotificationError> {
    let wire: OrderWire = serde_json::from_slice(body).map_err(|e| malformed("order", &e))?;
    Ok(wire.id)
}

/// The customer a compliance request is about (the fields cartgate matches on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Customer {
    pub id: Option<u64>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A `customers/redact`, `customers/data_request` or `shop/redact` body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Compliance {
    /// The shop the request is about (checked against the signed header's).
    pub shop_domain: Option<String>,
    #[serde(default)]
    pub customer: Customer,
    /// `customers/redact`: the orders whose personal data must go.
    #[serde(default)]
    pub orders_to_redact: Vec<u64>,
    /// `customers/data_request`: the orders the customer asked about.
    #[serde(default)]
    pub orders_requested: Vec<u64>,
}

impl Compliance {
    /// Whether the body names another shop than the delivery's `X-Shopify-Shop-Domain`.
    pub fn names_other_shop(&self, shop: &str) -> bool {
        self.shop_domain.as_deref().is_some_and(|d| !d.eq_ignore_ascii_case(shop))
    }
}

/// A compliance topic's body.
pub fn compliance(body: &[u8]) -> Result<Compliance, NotificationError> {
    serde_json::from_slice(body).map_err(|e| malformed("compliance request", &e))
}

fn malformed(what: &str, e: &serde_json::Error) -> NotificationError {
    // serde's message names the field and position, never a value of the body.
    NotificationError::Malformed(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_read_in_shopifys_spelling_and_unknown_ones_kept() {
        assert_eq!(Topic::parse("orders/create"), Topic::OrdersCreate);
        assert_eq!(Topic::parse("Orders/Cancelled"), Topic::OrdersCancelled);
        assert_eq!(Topic::parse("shop/redact"), Topic::ShopRedact);
        assert_eq!(Topic::parse("products/update"), Topic::Unknown("products/update".into()));
        assert!(Topic::OrdersCancelled.imports_order());
        assert!(!Topic::AppUninstalled.imports_order());
        assert_eq!(Topic::CustomersRedact.name(), "customers/redact");
    }

    #[test]
    fn an_order_id_beyond_two_to_the_53_is_read_exactly() {
        assert_eq!(order_id(br##"{"id":820982911946154508,"name":"#9999"}"##), Ok(820_982_911_946_154_508));
        assert!(order_id(br#"{"id":"820982911946154508"}"#).is_err());
        assert!(order_id(br#"{"id":8.2e17}"#).is_err());
        assert!(order_id(b"[]").is_err());
        assert!(order_id(b"[5]").is_err(), "only an object is an order");
        assert!(order_id(br#"{"id":5,"id":6}"#).is_err());
        assert_eq!(order_id(br##"{"name":"#1","line_items":[{"id":9}],"\u0069d":7}"##), Ok(7));
    }

    #[test]
    fn a_customers_redact_body_names_the_customer_and_orders() {
        let body = br#"{"shop_id":954889,"shop_domain":"acme.myshopify.com","customer":{"id":191167,
            "email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263]}"#;
        let c = compliance(body).unwrap();
        assert_eq!(c.customer.id, Some(191_167));
        assert_eq!(c.customer.email.as_deref(), Some("john@example.com"));
        assert_eq!(c.orders_to_redact, [299_938, 280_263]);
        assert!(!c.names_other_shop("ACME.myshopify.com"));
        assert!(c.names_other_shop("other.myshopify.com"));
        let shop = compliance(br#"{"shop_id":954889,"shop_domain":"acme.myshopify.com"}"#).unwrap();
        assert_eq!(shop.customer, Customer::default());
        assert!(compliance(b"nope").is_err());
    }
}
