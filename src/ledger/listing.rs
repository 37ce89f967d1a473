//! Listing orders, oldest first: one merchant's index, or — for the operator — every known
//! merchant's index merged into one order (creation time, ties by `<cart>:<id>`), with a cursor
//! that names the last order shown rather than a position, so a page boundary stays put while
//! orders are added, change status or are removed by retention.

use std::fmt;

use futures::future::try_join_all;

use super::keys::{all_orders, parse_member, status_index};
use super::orders::{LedgerError, OrderFilter, OrderLedger};
use crate::domain::{MerchantId, Order};

/// Where a page ended: the creation ms and member of the last order read. Shown to clients as
/// `<ms>:<cart>:<id>` (opaque to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    pub created_ms: i64,
    pub member: String,
}

impl ListCursor {
    pub fn parse(text: &str) -> Option<Self> {
        let (ms, member) = text.split_once(':')?;
        parse_member(member)?;
        Some(Self { created_ms: ms.parse().ok()?, member: member.to_owned() })
    }
}

impl fmt::Display for ListCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.created_ms, self.member)
    }
}

/// Rounds of index reads one page may take (each reads up to a chunk per merchant).
const MAX_ROUNDS: usize = 20;

impl OrderLedger {
    /// Orders matching `filter`, oldest first, after `cursor`; returns the page and the cursor
    /// of the next one. `merchants` are the merchants whose indexes are merged when the filter
    /// names none (every known merchant, for the operator).
    pub async fn list(
        &self,
        merchants: &[MerchantId],
        filter: &OrderFilter,
        limit: usize,
        cursor: Option<ListCursor>,
    ) -> Result<(Vec<Order>, Option<ListCursor>), LedgerError> {
        let names: Vec<&str> = match &filter.merchant {
            Some(m) => vec![m.as_str()],
            None => merchants.iter().map(MerchantId::as_str).collect(),
        };
        let indexes: Vec<String> =
            names.iter().map(|m| filter.status.map(|s| status_index(m, s)).unwrap_or_else(|| all_orders(m))).collect();
        let chunk = (limit * 2).clamp(10, 500);
        let (mut out, mut at) = (Vec::new(), cursor);
        for _ in 0..MAX_ROUNDS {
            let after = at.as_ref().map(|c| (c.created_ms as f64, c.member.as_str()));
            let pages = try_join_all(indexes.iter().map(|key| self.kv.zrange_after(key, after, chunk))).await?;
            // Past the last member of a full page, that merchant may hold more: the merged
            // order is only known up to the smallest such member (the frontier).
            let mut frontier: Option<(f64, String)> = None;
            let mut heads = Vec::new();
            for (m, page) in names.iter().zip(pages) {
                if page.len() == chunk
                    && let Some((member, score)) = page.last()
                    && frontier.as_ref().is_none_or(|(fs, fm)| (*score, member) < (*fs, fm))
                {
                    frontier = Some((*score, member.clone()));
                }
                heads.extend(page.into_iter().map(|(member, score)| (score, member, *m)));
            }
            heads.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            for (score, member, merchant) in heads {
                if frontier.as_ref().is_some_and(|(fs, fm)| (score, &member) > (*fs, fm)) {
                    break;
                }
                at = Some(ListCursor { created_ms: score as i64, member: member.clone() });
                let Some((cart, id)) = parse_member(&member) else { continue };
                let Some((_, order)) = self.get_versioned(merchant, &cart, id).await? else { continue };
                if matches(filter, &order) {
                    out.push(order);
                    if out.len() == limit {
                        return Ok((out, at));
                    }
                }
            }
            if frontier.is_none() {
                return Ok((out, None));
            }
        }
        Ok((out, at))
    }
}

fn matches(f: &OrderFilter, o: &Order) -> bool {
    f.status.is_none_or(|s| s == o.status())
        && f.merchant.as_deref().is_none_or(|m| m == o.merchant.as_str())
        && f.cart.as_deref().is_none_or(|c| c == o.cart.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = ListCursor { created_ms: 1_793_610_060_000, member: "acme-tg:5701".into() };
        assert_eq!(c.to_string(), "1793610060000:acme-tg:5701");
        assert_eq!(ListCursor::parse(&c.to_string()), Some(c));
        for bad in ["", "10", "x:acme-tg:1", "1:acme-tg", "1:acme-tg:x"] {
            assert_eq!(ListCursor::parse(bad), None, "{bad}");
        }
    }
}
