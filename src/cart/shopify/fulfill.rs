//! Which fulfillment order lines a parcel fulfils (UPSTREAMS-shopify.md §4).
//!
//! Shopify fulfils fulfillment orders (FOs), not orders: each FO is assigned to one location
//! and holds the order's line items with a `remainingQuantity`. A parcel from the warehouse is
//! mapped onto the FOs of the cart's `location_id` that can still be fulfilled, line by line
//! and within what remains, so a retry after a fulfillment that did land finds nothing left
//! instead of fulfilling twice. `fulfillmentCreate` takes one location per call, which this
//! respects by construction.

use super::convert::number_of;
use super::wire::{FulfillmentOrder, FulfillmentOrderLineInput, FulfillmentOrderLines};

/// FO states in which nothing can be fulfilled (`ON_HOLD` and `SCHEDULED` must be released
/// first, `INCOMPLETE` is being moved; unknown states are tried and Shopify decides).
const UNFULFILLABLE: [&str; 5] = ["CLOSED", "CANCELLED", "ON_HOLD", "SCHEDULED", "INCOMPLETE"];

/// `lines` (`(order line item id, units)`) spread over the FOs at `location` within their
/// remaining quantities, grouped per FO in Shopify's order. Empty: nothing remains to fulfil.
pub(super) fn plan(fos: &[FulfillmentOrder], location: u64, lines: &[(u64, u32)]) -> Vec<FulfillmentOrderLines> {
    let open: Vec<&FulfillmentOrder> = fos
        .iter()
        .filter(|fo| {
            let at = fo.assigned_location.as_ref().and_then(|a| a.location.as_ref());
            at.and_then(|l| number_of(&l.id, "Location")) == Some(location)
        })
        .filter(|fo| fo.status.as_deref().is_none_or(|s| !UNFULFILLABLE.contains(&s.to_ascii_uppercase().as_str())))
        .collect();
    // What is left on each FO line as the parcel's lines take from it.
    let mut left: Vec<Vec<i64>> =
        open.iter().map(|fo| fo.line_items.nodes.iter().map(|l| l.remaining_quantity.max(0)).collect()).collect();
    let mut taken: Vec<Vec<(usize, u32)>> = vec![Vec::new(); open.len()];
    for &(line_item, units) in lines {
        let mut wanted = i64::from(units);
        for (f, fo) in open.iter().enumerate() {
            for (i, l) in fo.line_items.nodes.iter().enumerate() {
                let same = l.line_item.as_ref().and_then(|li| number_of(&li.id, "LineItem")) == Some(line_item);
                if wanted == 0 || !same || left[f][i] == 0 {
                    continue;
                }
                let n = wanted.min(left[f][i]);
                left[f][i] -= n;
                wanted -= n;
                taken[f].push((i, u32::try_from(n).unwrap_or(u32::MAX)));
            }
        }
    }
    open.iter()
        .zip(taken)
        .filter(|(_, t)| !t.is_empty())
        .map(|(fo, t)| FulfillmentOrderLines {
            fulfillment_order_id: fo.id.clone(),
            fulfillment_order_line_items: t
                .into_iter()
                .map(|(i, quantity)| FulfillmentOrderLineInput { id: fo.line_items.nodes[i].id.clone(), quantity })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fo(id: u64, location: u64, status: &str, lines: &[(u64, u64, i64)]) -> serde_json::Value {
        let nodes: Vec<_> = lines
            .iter()
            .map(|(fol, li, remaining)| {
                json!({
                    "id": format!("gid://shopify/FulfillmentOrderLineItem/{fol}"),
                    "remainingQuantity": remaining, "totalQuantity": remaining,
                    "lineItem": {"id": format!("gid://shopify/LineItem/{li}")}
                })
            })
            .collect();
        json!({"id": format!("gid://shopify/FulfillmentOrder/{id}"), "status": status,
               "assignedLocation": {"name": "W", "location": {"id": format!("gid://shopify/Location/{location}")}},
               "lineItems": {"nodes": nodes}})
    }

    fn fos(v: serde_json::Value) -> Vec<FulfillmentOrder> {
        serde_json::from_value(v).unwrap()
    }

    fn flat(p: &[FulfillmentOrderLines]) -> Vec<(String, String, u32)> {
        p.iter()
            .flat_map(|g| {
                g.fulfillment_order_line_items
                    .iter()
                    .map(|l| (g.fulfillment_order_id.clone(), l.id.clone(), l.quantity))
            })
            .collect()
    }

    #[test]
    fn a_parcel_takes_only_from_open_fulfillment_orders_at_the_cart_location() {
        let all = fos(json!([
            fo(1, 9, "OPEN", &[(11, 100, 5)]),
            fo(2, 7, "OPEN", &[(21, 100, 5)]),
            fo(3, 7, "CLOSED", &[(31, 101, 5)]),
            fo(4, 7, "IN_PROGRESS", &[(41, 101, 1), (42, 102, 2)]),
        ]));
        let p = plan(&all, 7, &[(100, 2), (101, 3), (102, 2)]);
        let fo = |n: u64| format!("gid://shopify/FulfillmentOrder/{n}");
        let line = |n: u64| format!("gid://shopify/FulfillmentOrderLineItem/{n}");
        assert_eq!(flat(&p), [(fo(2), line(21), 2), (fo(4), line(41), 1), (fo(4), line(42), 2)]);
    }

    #[test]
    fn nothing_remaining_plans_nothing() {
        let all = fos(json!([fo(2, 7, "OPEN", &[(21, 100, 0)]), fo(3, 7, "ON_HOLD", &[(31, 100, 4)])]));
        assert!(plan(&all, 7, &[(100, 1)]).is_empty());
        assert!(plan(&all, 8, &[(100, 1)]).is_empty(), "another location's FOs are not ours");
    }
}
