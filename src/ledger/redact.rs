//! Erasure of personal data from stored orders (Shopify's `customers/redact` and `shop/redact`).
//!
//! What goes: the destination's name, company, streets, city, zip, phone and e-mail. What
//! stays: order number, lines, quantities, statuses, shipments and timeline — and the
//! destination's country and state, which identify nobody and keep the order readable in
//! reports. The free texts of the document — the status reason and the timeline's reasons —
//! that quote an erased value (a warehouse's refusal that echoed the street, say) have that
//! value replaced by [`ERASED`]; structured fields (ids, statuses, SKUs) are left alone.
//!
//! Each order is erased by the ledger's compare-and-set [`OrderLedger::update`], so the erasure
//! and a concurrent import or send never overwrite each other: a writer that read the order
//! before the erasure fails its compare-and-set and re-applies its change to the erased order.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::keys::{all_orders, parse_member};
use super::orders::{LedgerError, OrderLedger};
use crate::domain::{CartId, MerchantId, Order};

/// What an erased value is replaced by inside longer texts.
pub const ERASED: &str = "[erased]";
/// Index members read per call when looking for a cart's orders.
const PAGE: usize = 500;
/// Values shorter than this are not searched for in other texts (a 2-letter value would
/// match everywhere); they are still blanked in the destination.
const MIN_QUOTED: usize = 4;

impl OrderLedger {
    /// Every order id of `cart` (of `merchant`), oldest first.
    pub async fn ids_of_cart(&self, merchant: &MerchantId, cart: &CartId) -> Result<Vec<u64>, LedgerError> {
        let key = all_orders(merchant.as_str());
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let members = self.kv.zrange(&key, offset, PAGE).await?;
            out.extend(members.iter().filter_map(|m| parse_member(m)).filter(|(c, _)| c == cart).map(|(_, id)| id));
            if members.len() < PAGE {
                return Ok(out);
            }
            offset += PAGE;
        }
    }

    /// Erases the personal data of one order; `false` when there is no such order. `why` goes
    /// on the timeline (once: erasing an erased order changes nothing).
    pub async fn erase_personal(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        id: u64,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, LedgerError> {
        let changed = self.update(merchant, cart, id, |order| erase(order, why, now)).await?;
        match changed {
            None => Ok(false),
            Some((_, Ok(()))) => Ok(true),
            Some((_, Err(e))) => Err(e),
        }
    }
}

/// Blanks the personal fields of `order` and replaces their quotations in its free texts;
/// notes `why` when something changed.
pub fn erase(order: &mut Order, why: &str, now: DateTime<Utc>) -> Result<(), LedgerError> {
    let d = &order.destination;
    let mut quoted: Vec<String> =
        [Some(&d.name), d.company.as_ref(), Some(&d.street1), d.street2.as_ref(), Some(&d.city), Some(&d.zip)]
            .into_iter()
            .chain([d.phone.as_ref(), d.email.as_ref()])
            .flatten()
            .map(|v| v.trim().to_owned())
            .filter(|v| v.chars().count() >= MIN_QUOTED)
            .collect();
    // Longest first, so a street is replaced before a shorter value inside it.
    quoted.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let before = order.clone();
    let d = &mut order.destination;
    d.name.clear();
    d.company = None;
    d.street1.clear();
    d.street2 = None;
    d.city.clear();
    d.zip.clear();
    d.phone = None;
    d.email = None;
    if !quoted.is_empty() {
        let mut doc = serde_json::to_value(&*order).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
        if let Some(reason) = doc.get_mut("status_reason") {
            scrub(reason, &quoted);
        }
        for entry in doc.get_mut("timeline").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(reason) = entry.get_mut("reason") {
                scrub(reason, &quoted);
            }
        }
        *order = serde_json::from_value(doc).map_err(|e| LedgerError::Corrupt(e.to_string()))?;
    }
    if *order != before {
        order.note(why, now);
    }
    Ok(())
}

/// Replaces every occurrence of each of `values` in a string (case-insensitive).
fn scrub(text: &mut Value, values: &[String]) {
    if let Value::String(s) = text {
        for v in values {
            *s = replace_ignoring_case(s, v);
        }
    }
}

fn replace_ignoring_case(text: &str, value: &str) -> String {
    let (hay, needle) = (text.to_lowercase(), value.to_lowercase());
    // Lower-casing can change byte lengths outside ASCII; then only exact matches are replaced.
    if hay.len() != text.len() || needle.len() != value.len() {
        return text.replace(value, ERASED);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in hay.match_indices(&needle) {
        if at >= rest {
            out.push_str(&text[rest..at]);
            out.push_str(ERASED);
            rest = at + needle.len();
        }
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Destination, OrderStatus};

    fn order() -> Order {
        let mut o = Order::sample(vec![]);
        o.destination = Destination {
            name: "Jane Roe".into(),
            company: Some("Roe & Co".into()),
            street1: "17 Elm Street".into(),
            street2: Some("Apt 4".into()),
            city: "Springfield".into(),
            state: Some("IL".into()),
            zip: "62704".into(),
            country: "US".into(),
            phone: Some("+1 555 0100".into()),
            email: Some("jane@example.com".into()),
        };
        o
    }

    #[test]
    fn personal_fields_go_and_the_rest_stays() {
        let mut o = order();
        let now = Utc::now();
        o.transition(OrderStatus::Error, "warehouse refused: bad address 17 ELM STREET, Springfield", now).unwrap();
        erase(&mut o, "personal data erased (customers/redact)", now).unwrap();
        let d = &o.destination;
        assert_eq!((d.name.as_str(), d.street1.as_str(), d.city.as_str(), d.zip.as_str()), ("", "", "", ""));
        assert_eq!(
            (d.company.as_ref(), d.street2.as_ref(), d.phone.as_ref(), d.email.as_ref()),
            (None, None, None, None)
        );
        assert_eq!((d.country.as_str(), d.state.as_deref()), ("US", Some("IL")));
        assert_eq!((o.order_number.as_str(), o.status()), ("SO1", OrderStatus::Error));
        let text = serde_json::to_string(&o).unwrap().to_lowercase();
        for gone in ["jane", "elm street", "springfield", "62704", "555 0100", "example.com"] {
            assert!(!text.contains(gone), "{gone} left in {text}");
        }
        assert!(text.contains("bad address [erased], [erased]"), "{text}");
        let entries = o.timeline().len();
        erase(&mut o, "again", now).unwrap();
        assert_eq!(o.timeline().len(), entries, "erasing an erased order changes nothing");
    }

    #[test]
    fn replacing_ignores_case_and_leaves_other_text() {
        assert_eq!(replace_ignoring_case("Ship to JANE roe now", "Jane Roe"), "Ship to [erased] now");
        assert_eq!(replace_ignoring_case("nothing here", "Jane"), "nothing here");
    }
}
