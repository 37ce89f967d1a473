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
    use std::collections::{BTreeMap, BTreeSet};

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

    /// A small deterministic generator (xorshift64*), so the property test needs no crate.
    struct Gen(u64);

    impl Gen {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }
    }

    #[test]
    fn a_plan_takes_what_remains_at_the_location_and_never_more_across_2000_generated_orders() {
        const STATUSES: [&str; 6] = ["OPEN", "IN_PROGRESS", "CLOSED", "on_hold", "in_progress", "INCOMPLETE"];
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for case in 0..2000 {
            // Up to 4 FOs at locations 1–2 over line items 100–104; remaining may be negative.
            let mut fol = 0;
            let all: Vec<_> = (0..g.below(5))
                .map(|f| {
                    let lines: Vec<_> = (0..g.below(4))
                        .map(|_| {
                            fol += 1;
                            (fol, 100 + g.below(5), g.below(7) as i64 - 1)
                        })
                        .collect();
                    fo(f, 1 + g.below(2), STATUSES[g.below(6) as usize], &lines)
                })
                .collect();
            let all = fos(serde_json::Value::Array(all));
            let mut asked: Vec<(u64, u32)> = (100..105).map(|li| (li, g.below(6) as u32)).collect();
            asked.retain(|_| g.below(3) > 0);
            let p = plan(&all, 1, &asked);

            let open = |fo: &FulfillmentOrder| {
                let at = fo.assigned_location.as_ref().and_then(|a| a.location.as_ref());
                let status = fo.status.as_deref().unwrap_or("").to_ascii_uppercase();
                at.is_some_and(|l| l.id.ends_with("/1")) && !UNFULFILLABLE.contains(&status.as_str())
            };
            let line_of = |id: &str| {
                let found = all.iter().filter(|fo| open(fo)).flat_map(|fo| &fo.line_items.nodes).find(|l| l.id == id);
                found.unwrap_or_else(|| panic!("case {case}: planned {id}, not a line of an open FO at the location"))
            };
            let mut per_item: BTreeMap<u64, i64> = BTreeMap::new();
            for group in &p {
                assert!(!group.fulfillment_order_line_items.is_empty(), "case {case}: an empty group");
                let ids: BTreeSet<_> = group.fulfillment_order_line_items.iter().map(|l| &l.id).collect();
                assert_eq!(ids.len(), group.fulfillment_order_line_items.len(), "case {case}: a line twice");
                for planned in &group.fulfillment_order_line_items {
                    let line = line_of(&planned.id);
                    assert!(planned.quantity > 0, "case {case}: a zero quantity");
                    assert!(i64::from(planned.quantity) <= line.remaining_quantity, "case {case}: more than remains");
                    let item = number_of(&line.line_item.as_ref().unwrap().id, "LineItem").unwrap();
                    *per_item.entry(item).or_default() += i64::from(planned.quantity);
                }
            }
            for (item, units) in &asked {
                let remaining: i64 = all
                    .iter()
                    .filter(|fo| open(fo))
                    .flat_map(|fo| &fo.line_items.nodes)
                    .filter(|l| l.line_item.as_ref().is_some_and(|n| n.id.ends_with(&format!("/{item}"))))
                    .map(|l| l.remaining_quantity.max(0))
                    .sum();
                let got = per_item.remove(item).unwrap_or(0);
                assert_eq!(got, remaining.min(i64::from(*units)), "case {case}: line item {item}");
            }
            assert!(per_item.is_empty(), "case {case}: planned line items not asked for: {per_item:?}");
        }
    }

    #[test]
    fn nothing_remaining_plans_nothing() {
        let all = fos(json!([fo(2, 7, "OPEN", &[(21, 100, 0)]), fo(3, 7, "ON_HOLD", &[(31, 100, 4)])]));
        assert!(plan(&all, 7, &[(100, 1)]).is_empty());
        assert!(plan(&all, 8, &[(100, 1)]).is_empty(), "another location's FOs are not ours");
    }
}
