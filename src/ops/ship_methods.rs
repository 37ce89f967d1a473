//! A cart's ship method mapping: show it with the methods seen on recent orders, and replace it
//! (a store-managed cart only: it is written into the cart's tenant record, so every replica
//! has it within a poll), then send the orders that waited for a method it now maps.

use serde_json::{Value, json};

use super::{CartOps, OpError, Ops};
use crate::ledger::SeenMethod;
use crate::settings::{ConfigError, ShipMethods};
use crate::workflows::ship_methods;

/// What saving a mapping did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipMethodsSaved {
    pub methods: ShipMethods,
    /// Orders in `error` for want of a mapping, now sent again.
    pub requeued: usize,
}

impl CartOps<'_> {
    /// The cart's mapping, and `seen`: every method on orders of the last 30 days, with its
    /// number of orders, whether it is mapped, and the service it goes out with (`null` when
    /// unmapped methods are rejected).
    pub async fn ship_methods(&self) -> Result<Value, OpError> {
        let methods = &self.settings().ship_methods;
        let seen = self
            .deps()
            .ledger
            .ship_methods
            .seen_recently(self.merchant_id(), &self.settings().id, self.deps().now())
            .await?;
        let seen: Vec<Value> = seen.iter().map(|s| seen_row(methods, s)).collect();
        let mut view = serde_json::to_value(methods).unwrap_or_else(|_| json!({}));
        view["seen"] = json!(seen);
        Ok(view)
    }
}

fn seen_row(methods: &ShipMethods, s: &SeenMethod) -> Value {
    let mapped = methods.mapped(&s.label).is_some();
    let service = methods.resolve(Some(&s.label)).ok().map(|w| w.service.clone());
    json!({"label": s.label, "orders": s.orders, "mapped": mapped, "service": service})
}

impl Ops {
    /// Replaces the ship method mapping of store-managed cart `c` of merchant `m` with `body`
    /// (the `[merchants.carts.ship_methods]` table as JSON), then sends the orders waiting for
    /// a method it maps.
    pub async fn put_ship_methods(&self, m: &str, c: &str, body: Value) -> Result<ShipMethodsSaved, OpError> {
        self.cart_writable(m, c)?;
        let methods = parse(body)?;
        let value = serde_json::to_value(&methods).map_err(|e| invalid("", e.to_string()))?;
        self.edit_cart(m, c, |slot| slot["ship_methods"] = value.clone()).await?;
        let cart = self.cart(c)?;
        let requeued =
            ship_methods::send_waiting(self.deps(), cart.merchant_id(), &cart.settings().id, &methods).await?;
        Ok(ShipMethodsSaved { methods, requeued })
    }
}

fn invalid(key: &str, message: String) -> OpError {
    OpError::InvalidSettings(vec![ConfigError::invalid(key, message)])
}

/// The body as a mapping, checked with the file's rules (keys as in the file:
/// `ship_methods.map.Express.service`). A `seen` list is ignored, so what GET answers can be
/// edited and sent back.
fn parse(mut body: Value) -> Result<ShipMethods, OpError> {
    let Some(table) = body.as_object_mut() else {
        return Err(invalid("ship_methods", "the body must be a JSON object".into()));
    };
    table.remove("seen");
    let methods: ShipMethods = serde_json::from_value(body).map_err(|e| invalid("ship_methods", e.to_string()))?;
    let problems = methods.problems();
    if problems.is_empty() { Ok(methods) } else { Err(OpError::InvalidSettings(problems)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_parsed_strictly_and_checked() {
        let ok =
            parse(json!({"map": {"Express": {"service": "express"}}, "reject_unmapped": true, "seen": []})).unwrap();
        assert_eq!((ok.default.service.as_str(), ok.reject_unmapped), ("standard", true));
        for bad in [json!([]), json!({"mapp": {}}), json!({"map": {"X": {"service": ""}}}), json!({"map": {"X": {}}})] {
            assert!(matches!(parse(bad.clone()), Err(OpError::InvalidSettings(_))), "{bad}");
        }
    }
}
