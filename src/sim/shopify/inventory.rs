//! `inventorySetQuantities(input:) @idempotent(key:)` as UPSTREAMS-shopify.md §5 describes the
//! ≥2026-04 API: absolute `available` or `on_hand` quantities per (item, location), each with a
//! required `changeFromQuantity` (`null`: no check; otherwise the current quantity must equal
//! it, else `CHANGE_FROM_QUANTITY_STALE`). Every entry is checked before anything is written.
//!
//! The `@idempotent` key is required: the same key with the same input replays the first answer
//! without applying anything again; the same key with another input is
//! `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`. Setting `available` moves `on_hand` by the same delta
//! (and the other way round), so the committed quantity stays as it was.

use chrono::Utc;
use serde_json::{Value, json};

use super::gql::{GqlError, Sel};
use super::model::{AdjustmentGroup, gid, gid_id};
use super::state::ShopState;
use crate::sim::util::tg_time as iso;

/// The reasons Shopify's examples and docs list.
const REASONS: [&str; 17] = [
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
];

fn error(code: &str, field: &[&str], message: impl Into<String>) -> Value {
    json!({"__typename": "InventorySetQuantitiesUserError", "code": code, "field": field, "message": message.into()})
}

fn answer(group: Value, errors: Vec<Value>) -> Value {
    json!({"__typename": "InventorySetQuantitiesPayload", "inventoryAdjustmentGroup": group, "userErrors": errors})
}

/// One checked entry: (item, location, new quantity).
type Entry = (u64, u64, i64);

fn check(s: &ShopState, input: &Value) -> Result<Result<Vec<Entry>, Value>, GqlError> {
    let name = input["name"].as_str().unwrap_or_default();
    if name != "available" && name != "on_hand" {
        return Ok(Err(error("INVALID_NAME", &["input", "name"], format!("The quantity name '{name}' is not valid."))));
    }
    let reason = input["reason"].as_str().unwrap_or_default();
    if !REASONS.contains(&reason) {
        return Ok(Err(error("INVALID_REASON", &["input", "reason"], format!("The reason '{reason}' is not valid."))));
    }
    let rows = input["quantities"].as_array().ok_or_else(|| GqlError::new("Variable $input of type InventorySetQuantitiesInput! was provided invalid value for quantities (Expected value to not be null)"))?;
    if rows.len() > 250 {
        return Ok(Err(error("INVALID_QUANTITY", &["input", "quantities"], "At most 250 quantities per call.")));
    }
    let mut out = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let idx = n.to_string();
        let field = |f: &'static str| ["input", "quantities", idx.as_str(), f].map(str::to_owned);
        let Some(change_from) = row.as_object().and_then(|o| o.get("changeFromQuantity")) else {
            return Err(GqlError::new(format!(
                "Variable $input of type InventorySetQuantitiesInput! was provided invalid value for quantities.{n}.changeFromQuantity (Expected value to be provided; null means no check)"
            )));
        };
        let item = row["inventoryItemId"]
            .as_str()
            .and_then(|t| gid_id("InventoryItem", t))
            .filter(|i| s.variant_by_item(*i).is_some());
        let Some(item) = item else {
            return Ok(Err(
                json!({"__typename": "InventorySetQuantitiesUserError", "code": "INVALID_INVENTORY_ITEM", "field": field("inventoryItemId"), "message": "The specified inventory item could not be found."}),
            ));
        };
        let loc = row["locationId"]
            .as_str()
            .and_then(|t| gid_id("Location", t))
            .filter(|l| s.locations.iter().any(|x| x.id == *l));
        let Some(loc) = loc else {
            return Ok(Err(
                json!({"__typename": "InventorySetQuantitiesUserError", "code": "INVALID_LOCATION", "field": field("locationId"), "message": "The specified location could not be found."}),
            ));
        };
        let Some(level) = s.levels.get(&(item, loc)) else {
            return Ok(Err(
                json!({"__typename": "InventorySetQuantitiesUserError", "code": "ITEM_NOT_STOCKED_AT_LOCATION", "field": field("locationId"), "message": "The specified inventory item is not stocked at the location."}),
            ));
        };
        let Some(quantity) = row["quantity"].as_i64() else {
            return Err(GqlError::new(format!(
                "Variable $input was provided invalid value for quantities.{n}.quantity"
            )));
        };
        let current = if name == "available" { level.available } else { level.on_hand };
        if let Some(expected) = change_from.as_i64().filter(|e| *e != current) {
            let m = format!("The specified compare quantity {expected} does not match the current quantity {current}.");
            return Ok(Err(
                json!({"__typename": "InventorySetQuantitiesUserError", "code": "CHANGE_FROM_QUANTITY_STALE", "field": field("changeFromQuantity"), "message": m}),
            ));
        }
        out.push((item, loc, quantity));
    }
    Ok(Ok(out))
}

fn apply(s: &mut ShopState, input: &Value, entries: Vec<Entry>) -> Value {
    let name = input["name"].as_str().unwrap_or("available").to_owned();
    let mut changes = Vec::new();
    let mut shown = Vec::new();
    for (item, loc, quantity) in entries {
        let Some(level) = s.levels.get_mut(&(item, loc)) else { continue };
        let delta = quantity - if name == "available" { level.available } else { level.on_hand };
        level.available += delta;
        level.on_hand += delta;
        let after = if name == "available" { level.available } else { level.on_hand };
        for n in [name.as_str(), if name == "available" { "on_hand" } else { "available" }] {
            changes.push((n.to_owned(), delta, item, loc));
            shown.push(json!({"__typename": "InventoryChange", "name": n, "delta": delta,
                "quantityAfterChange": if n == name { Value::from(after) } else { Value::Null },
                "item": {"__typename": "InventoryItem", "id": gid("InventoryItem", item)},
                "location": {"__typename": "Location", "id": gid("Location", loc)}}));
        }
    }
    let id = s.next_id();
    let now = Utc::now();
    let reason = input["reason"].as_str().unwrap_or_default().to_owned();
    let reference = input["referenceDocumentUri"].as_str().map(str::to_owned);
    let group = json!({"__typename": "InventoryAdjustmentGroup", "id": gid("InventoryAdjustmentGroup", id),
        "createdAt": iso(&now), "reason": reason, "referenceDocumentUri": reference, "changes": shown});
    s.adjustments.push(AdjustmentGroup { id, created_at: now, reason, reference_document_uri: reference, changes });
    group
}

pub(crate) fn set_quantities(s: &mut ShopState, sel: &Sel) -> Result<Value, GqlError> {
    let key = sel
        .directive("idempotent")
        .and_then(|d| d.get("key"))
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            GqlError::coded("The @idempotent(key:) directive is required for inventorySetQuantities", "BAD_REQUEST")
        })?;
    let input = sel.arg("input").clone();
    if !input.is_object() {
        return Err(GqlError::new("Field 'inventorySetQuantities' is missing required arguments: input"));
    }
    if let Some((first_input, first_answer)) = s.idempotent.get(&key) {
        if *first_input == input {
            return Ok(first_answer.clone());
        }
        let m = "The same idempotency key was used with different parameters.";
        return Ok(answer(Value::Null, vec![error("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", &["idempotent", "key"], m)]));
    }
    let result = match check(s, &input)? {
        Ok(entries) => answer(apply(s, &input, entries), Vec::new()),
        Err(e) => answer(Value::Null, vec![e]),
    };
    s.idempotent.insert(key, (input, result.clone()));
    Ok(result)
}
