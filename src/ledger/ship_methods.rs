//! Per cart: the ship methods seen on orders (what to map), and the orders waiting for a
//! mapping of theirs.
//!
//! Two hashes per cart (see the key table in the `ledger` module header):
//! * `{m:<merchant>}:ship_seen:<cart>`: `<YYYY-MM-DD>|<label>` → orders imported that day with that method.
//!   Each new field prunes the days older than [`SEEN_DAYS`], so the hash holds at most that
//!   many days of the cart's distinct labels (each cut to [`MAX_LABEL`] bytes).
//! * `{m:<merchant>}:ship_awaiting:<cart>`: order → the method label it waits for, so saving a mapping sends
//!   exactly the orders stopped for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::keys;
use super::kv::Kv;
use crate::domain::{CartId, MerchantId};
use crate::settings::method_code;
use crate::store::StoreError;

/// How far back `seen` counts.
pub const SEEN_DAYS: i64 = 30;

/// Longest label kept (a longer one is cut at a character boundary).
pub const MAX_LABEL: usize = 128;

/// One method seen on the cart's orders, with the number of orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenMethod {
    /// The label as the cart wrote it (trimmed; the most frequent spelling of its code).
    pub label: String,
    pub orders: u64,
}

#[derive(Clone)]
pub struct ShipMethodLedger {
    kv: Arc<dyn Kv>,
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn cut(label: &str) -> &str {
    let label = label.trim();
    let mut end = label.len().min(MAX_LABEL);
    while !label.is_char_boundary(end) {
        end -= 1;
    }
    &label[..end]
}

/// The label of a `seen` field, if its day is still counted at `now`.
fn recent(field: &str, now: DateTime<Utc>) -> Option<&str> {
    let (d, label) = field.split_once('|')?;
    let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    (d > (now - Duration::days(SEEN_DAYS)).date_naive()).then_some(label)
}

impl ShipMethodLedger {
    pub fn new(kv: Arc<dyn Kv>) -> Self {
        Self { kv }
    }

    /// Counts one order imported at `now` with method `label`.
    pub async fn seen(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = keys::ship_seen(merchant, cart);
        let count = self.kv.hincr(&key, &format!("{}|{}", day(now), cut(label)), 1).await?;
        if count == 1 {
            // A new day or a new label: the moment to drop what is too old to be shown.
            let stale: Vec<String> =
                self.kv.hgetall(&key).await?.into_iter().map(|(f, _)| f).filter(|f| recent(f, now).is_none()).collect();
            self.kv.hdel(&key, &stale).await?;
        }
        Ok(())
    }

    /// The methods seen in the last [`SEEN_DAYS`] days, most orders first.
    pub async fn seen_recently(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SeenMethod>, StoreError> {
        // code → (total, spelling → count)
        let mut by_code: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
        for (field, count) in self.kv.hgetall(&keys::ship_seen(merchant, cart)).await? {
            let Some(label) = recent(&field, now) else { continue };
            let n = count.parse::<u64>().unwrap_or(0);
            let entry = by_code.entry(method_code(label)).or_default();
            entry.0 += n;
            *entry.1.entry(label.to_owned()).or_default() += n;
        }
        let mut out: Vec<SeenMethod> = by_code
            .into_values()
            .map(|(orders, spellings)| {
                let label = spellings.iter().max_by_key(|(_, n)| **n).map(|(l, _)| l.clone()).unwrap_or_default();
                SeenMethod { label, orders }
            })
            .collect();
        out.sort_by(|a, b| b.orders.cmp(&a.orders).then_with(|| a.label.cmp(&b.label)));
        Ok(out)
    }

    /// Remembers that `order` waits for a mapping of method `label`.
    pub async fn await_mapping(
        &self,
        merchant: &MerchantId,
        cart: &CartId,
        order: &str,
        label: &str,
    ) -> Result<(), StoreError> {
        self.kv.hset(&keys::ship_awaiting(merchant, cart), &[(order.to_owned(), label.to_owned())]).await
    }

    /// Orders waiting for a mapping, with the method each waits for.
    pub async fn awaiting(&self, merchant: &MerchantId, cart: &CartId) -> Result<Vec<(String, String)>, StoreError> {
        self.kv.hgetall(&keys::ship_awaiting(merchant, cart)).await
    }

    pub async fn done_waiting(&self, merchant: &MerchantId, cart: &CartId, order: &str) -> Result<(), StoreError> {
        self.kv.hdel(&keys::ship_awaiting(merchant, cart), &[order.to_owned()]).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::MemoryKv;

    #[tokio::test]
    async fn counts_group_spellings_and_forget_what_is_older_than_thirty_days() {
        let ledger = ShipMethodLedger::new(Arc::new(MemoryKv::default()));
        let (merchant, cart) = (MerchantId::parse("m").unwrap(), CartId::parse("c").unwrap());
        let now = Utc::now();
        let old = now - Duration::days(SEEN_DAYS + 1);
        ledger.seen(&merchant, &cart, "Pigeon", old).await.unwrap();
        for label in ["Express", " express", "Express", "Pigeon"] {
            ledger.seen(&merchant, &cart, label, now).await.unwrap();
        }
        let seen = ledger.seen_recently(&merchant, &cart, now).await.unwrap();
        let seen: Vec<(&str, u64)> = seen.iter().map(|s| (s.label.as_str(), s.orders)).collect();
        assert_eq!(seen, [("Express", 3), ("Pigeon", 1)]);
        let fields = ledger.kv.hgetall(&keys::ship_seen(&merchant, &cart)).await.unwrap();
        assert!(fields.iter().all(|(f, _)| !f.starts_with(&day(old))), "pruned: {fields:?}");
        assert_eq!(cut(&"é".repeat(100)).len(), MAX_LABEL);
    }
}
