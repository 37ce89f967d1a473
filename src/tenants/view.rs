//! A merchant as admin answers show it: its settings with every secret replaced by
//! `{"set":true,"last4":"…"}` or `null`, its source, and its state.

use serde_json::{Value, json};

use super::record::{each_secret, secret_at, shown};
use super::{Entry, Tenant};

/// The merchant `id` with its carts.
pub fn merchant(id: &str, entry: &Entry) -> Value {
    match &entry.tenant {
        Tenant::Usable(m) => {
            let mut v = serde_json::to_value(m.as_ref()).unwrap_or(Value::Null);
            let Ok(()) = each_secret(&mut v, |path, slot| -> Result<(), std::convert::Infallible> {
                *slot = shown(secret_at(m, path));
                Ok(())
            });
            if let Some(map) = v.as_object_mut() {
                map.insert("source".into(), json!(entry.source));
                map.insert("state".into(), json!("usable"));
            }
            v
        }
        Tenant::Unusable { reason, carts } => json!({
            "id": id,
            "source": entry.source,
            "state": "unusable",
            "reason": reason,
            "carts": carts.iter().map(|c| json!({"id": c})).collect::<Vec<_>>(),
        }),
    }
}

/// One cart of the merchant `id`, if it has it.
pub fn cart(id: &str, entry: &Entry, cart: &str) -> Option<Value> {
    let m = merchant(id, entry);
    let found = m["carts"].as_array()?.iter().find(|c| c["id"] == cart)?.clone();
    let mut found = found;
    if let Some(map) = found.as_object_mut() {
        map.insert("merchant".into(), json!(id));
        map.insert("source".into(), json!(entry.source));
    }
    Some(found)
}
