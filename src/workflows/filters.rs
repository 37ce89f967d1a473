//! The cart's order and item filters that leave an order out for good (`skipped`), as pure
//! rules: [`order_skip`] reads only the order itself (no further cart calls), [`items_skip`]
//! its product lines once their SKUs are known. The ready-filters (`status`,
//! `payment_status`, `fulfillment_status`) are not here: an order they refuse is not ready
//! yet, and is simply not imported ([`eligible`]).

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{CartOrder, OrderLine, SkuPatterns};
use crate::settings::{CalendarDate, CartKind, OrderFilters};

/// Why an order is skipped: which filter (a metric label) and the reason the merchant reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub filter: &'static str,
    pub reason: String,
}

impl Skip {
    fn new(filter: &'static str, reason: String) -> Self {
        Self { filter, reason }
    }
}

/// The first order-level filter `order` fails, in the order the settings list them.
/// `cart_start` (where the cart's first download started) stands in for an unset
/// `created_after`.
pub fn order_skip(order: &CartOrder, filters: &OrderFilters, cart_start: Option<NaiveDate>) -> Option<Skip> {
    location_skip(order.stock_location_id, &filters.stock_location_ids)
        .or_else(|| tags_skip(&order.tags, filters))
        .or_else(|| date_skip(order.created_at, filters.created_after, cart_start))
}

fn location_skip(location: Option<i64>, allowed: &[i64]) -> Option<Skip> {
    if allowed.is_empty() || location.is_some_and(|l| allowed.contains(&l)) {
        return None;
    }
    let reason = match location {
        Some(l) => format!("stock location {l} is not in stock_location_ids"),
        None => "the order has no stock location (stock_location_ids)".to_owned(),
    };
    Some(Skip::new("stock_location_ids", reason))
}

fn tags_skip(tags: &[String], filters: &OrderFilters) -> Option<Skip> {
    let has = |wanted: &str| tags.iter().any(|t| t.trim().eq_ignore_ascii_case(wanted.trim()));
    if let Some(tag) = filters.tags_none.iter().find(|t| has(t)) {
        let spelled = tags.iter().find(|t| t.trim().eq_ignore_ascii_case(tag.trim())).unwrap_or(tag);
        return Some(Skip::new("tags_none", format!("tagged \"{}\" (tags_none)", spelled.trim())));
    }
    if !filters.tags_any.is_empty() && !filters.tags_any.iter().any(|t| has(t)) {
        let wanted: Vec<String> = filters.tags_any.iter().map(|t| format!("\"{}\"", t.trim())).collect();
        return Some(Skip::new("tags_any", format!("not tagged {} (tags_any)", wanted.join(" or "))));
    }
    None
}

fn date_skip(
    created_at: Option<DateTime<Utc>>,
    after: Option<CalendarDate>,
    cart_start: Option<NaiveDate>,
) -> Option<Skip> {
    let created = created_at?.date_naive();
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let reason = match (after, cart_start) {
        (Some(after), _) if created < after.0 => format!("created {} before created_after {after}", day(created)),
        (None, Some(start)) if created < start => format!(
            "created {} before {} (created_after unset: one day before the cart was added)",
            day(created),
            day(start)
        ),
        _ => return None,
    };
    Some(Skip::new("created_after", reason))
}

/// The order is skipped when every product line matches `skip`; the reason names the
/// patterns that matched. No lines at all is not a skip (the import reports it as an error).
pub fn items_skip(lines: &[OrderLine], skip: &SkuPatterns) -> Option<Skip> {
    if lines.is_empty() || skip.is_empty() {
        return None;
    }
    let mut matched: Vec<&str> = Vec::new();
    for line in lines {
        let pattern = skip.matching(&line.sku)?;
        if !matched.contains(&pattern) {
            matched.push(pattern);
        }
    }
    Some(Skip::new("skip_skus", format!("only skipped items ({})", matched.join(", "))))
}

/// The lines still to ship once the skipped SKUs are taken away.
pub fn shippable<'a>(lines: &'a [OrderLine], skip: &'a SkuPatterns) -> impl Iterator<Item = &'a OrderLine> {
    lines.iter().filter(|l| skip.matching(&l.sku).is_none())
}

/// The cart's ready-filters: each list, when non-empty, must contain the order's value.
pub fn eligible(order: &CartOrder, filters: &OrderFilters, kind: CartKind) -> bool {
    let ok = |allowed: &[String], value: Option<&str>| {
        allowed.is_empty() || value.is_some_and(|v| allowed.iter().any(|a| a.eq_ignore_ascii_case(v)))
    };
    let (words, ready) = (&order.words, filters.ready_words(kind));
    ok(&ready.status, Some(&words.status))
        && ok(&ready.payment, words.payment.as_deref())
        && ok(&ready.fulfillment, words.fulfillment.as_deref())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::{CartOrderState, CartStatusWords, Sku};

    fn order(location: Option<i64>, tags: &[&str], created: (i32, u32, u32)) -> CartOrder {
        CartOrder {
            id: 1,
            number: "SO1".into(),
            state: CartOrderState::Open,
            words: CartStatusWords::default(),
            version: None,
            lines: Vec::new(),
            shipping_address_id: None,
            email: None,
            phone: None,
            ship_method: None,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            stock_location_id: location,
            created_at: Some(Utc.with_ymd_and_hms(created.0, created.1, created.2, 23, 59, 0).unwrap()),
        }
    }

    fn filters() -> OrderFilters {
        OrderFilters {
            stock_location_ids: vec![1],
            tags_any: Vec::new(),
            tags_none: vec!["wholesale".into()],
            created_after: Some(CalendarDate(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())),
            ..OrderFilters::default()
        }
    }

    fn reason(o: &CartOrder, f: &OrderFilters) -> Option<String> {
        order_skip(o, f, None).map(|s| s.reason)
    }

    #[test]
    fn each_order_filter_names_itself_in_the_reason() {
        let f = filters();
        assert_eq!(reason(&order(Some(1), &["retail"], (2026, 1, 1)), &f), None);
        assert_eq!(
            reason(&order(Some(2), &[], (2026, 1, 5)), &f).as_deref(),
            Some("stock location 2 is not in stock_location_ids")
        );
        assert_eq!(
            reason(&order(Some(1), &["Wholesale"], (2026, 1, 5)), &f).as_deref(),
            Some("tagged \"Wholesale\" (tags_none)")
        );
        assert_eq!(
            reason(&order(Some(1), &[], (2025, 12, 31)), &f).as_deref(),
            Some("created 2025-12-31 before created_after 2026-01-01")
        );
        assert!(reason(&order(None, &[], (2026, 1, 5)), &f).is_some(), "no location is not an allowed one");
    }

    #[test]
    fn defaults_skip_nothing_and_tags_any_needs_one_of_its_tags() {
        let o = order(Some(9), &["gift"], (2001, 1, 1));
        assert_eq!(order_skip(&o, &OrderFilters::default(), None), None);
        let any = OrderFilters { tags_any: vec!["retail".into(), "web".into()], ..OrderFilters::default() };
        assert_eq!(reason(&o, &any).as_deref(), Some("not tagged \"retail\" or \"web\" (tags_any)"));
        assert_eq!(reason(&order(Some(9), &["WEB"], (2001, 1, 1)), &any), None);
    }

    #[test]
    fn without_created_after_orders_from_before_the_carts_first_download_are_skipped() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 1);
        let old = order(Some(1), &[], (2026, 2, 28));
        let skip = order_skip(&old, &OrderFilters::default(), start).unwrap();
        assert_eq!(
            (skip.filter, skip.reason.as_str()),
            (
                "created_after",
                "created 2026-02-28 before 2026-03-01 (created_after unset: one day before the cart was added)"
            )
        );
        assert_eq!(order_skip(&order(Some(1), &[], (2026, 3, 1)), &OrderFilters::default(), start), None);
        let set = filters();
        assert_eq!(order_skip(&old, &set, start), None, "a set created_after wins");
    }

    fn line(sku: &str) -> OrderLine {
        OrderLine {
            line_item_id: 1,
            variant_id: 1,
            sku: Sku::parse(sku).unwrap(),
            upc: None,
            barcode: None,
            quantity: 1,
        }
    }

    #[test]
    fn an_order_of_skipped_items_only_is_skipped_and_a_mixed_one_keeps_its_products() {
        let skip = SkuPatterns::parse(&["GIFTCARD-*", "DIGITAL-*"]).unwrap();
        let gifts = [line("GIFTCARD-10"), line("GIFTCARD-25"), line("DIGITAL-1")];
        let s = items_skip(&gifts, &skip).unwrap();
        assert_eq!((s.filter, s.reason.as_str()), ("skip_skus", "only skipped items (GIFTCARD-*, DIGITAL-*)"));
        let mixed = [line("GIFTCARD-10"), line("SKU-0001")];
        assert_eq!(items_skip(&mixed, &skip), None);
        let kept: Vec<_> = shippable(&mixed, &skip).map(|l| l.sku.to_string()).collect();
        assert_eq!(kept, ["SKU-0001"]);
        assert_eq!(items_skip(&[], &skip), None);
        assert_eq!(items_skip(&gifts, &SkuPatterns::default()), None);
    }
}
