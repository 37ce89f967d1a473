//! SKU → warehouse barcode translation, by the one rule in [`crate::domain::barcodes`]: the
//! merchant's alias, else the UPC when the cart's `item_field` is `upc`, else the SKU if it is a
//! barcode the warehouse knows (the WMS product list, cached per merchant). Lines with none of
//! these stop the order with a reason naming every such SKU. Lines the cart's item filter
//! (`skip_skus`) matches are taken away first: they are never translated nor sent.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};

use super::Deps;
use super::filters::{Skip, items_skip, shippable};
use crate::domain::{BarcodeRules, ItemCodes, OrderLine, Sku, SkuPatterns, UpcRule};
use crate::ledger::LedgerError;
use crate::settings::{ItemField, MerchantSettings};
use crate::upstream::UpstreamError;

/// How long the WMS product list is trusted before it is read again.
const PRODUCT_CACHE_TTL_HOURS: i64 = 24;
/// A cache miss re-reads the product list at most this often.
const PRODUCT_REFRESH_MIN_SECS: i64 = 300;

/// The result of translating an order's lines.
#[derive(Debug, PartialEq, Eq)]
pub enum Translation {
    /// Every line has a barcode.
    Complete(Vec<OrderLine>),
    /// These SKUs have no barcode.
    Missing(Vec<Sku>),
    /// The item filter leaves nothing to ship.
    Skipped(Skip),
}

#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl From<crate::store::StoreError> for TranslateError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Ledger(LedgerError::Store(e))
    }
}

/// Translates the lines of `lines` that `skip` leaves for `merchant`, with `item_field` and
/// `skip` from the order's cart.
pub async fn translate(
    deps: &Deps,
    merchant: &MerchantSettings,
    item_field: ItemField,
    skip: &SkuPatterns,
    lines: &[OrderLine],
) -> Result<Translation, TranslateError> {
    if let Some(why) = items_skip(lines, skip) {
        return Ok(Translation::Skipped(why));
    }
    let kept: Vec<OrderLine> = shippable(lines, skip).cloned().collect();
    let lines = kept.as_slice();
    let rules = barcode_rules(&deps.ledger.aliases.map(merchant.id.as_str()).await?, item_field);
    let first = pick(lines, &rules, &known_barcodes(deps, merchant, false).await?);
    let Translation::Missing(_) = &first else { return Ok(first) };
    // A SKU may have become a product since the cache was filled: look once more, rate-bounded.
    let fresh = known_barcodes(deps, merchant, true).await?;
    Ok(pick(lines, &rules, &fresh))
}

/// The merchant's aliases (as stored) under the cart's `item_field`.
pub fn barcode_rules(aliases: &HashMap<String, String>, item_field: ItemField) -> BarcodeRules {
    let upc = match item_field {
        ItemField::Sku => UpcRule::Ignore,
        ItemField::Upc | ItemField::Barcode => UpcRule::Use,
    };
    BarcodeRules::new(aliases, upc)
}

fn pick(lines: &[OrderLine], rules: &BarcodeRules, products: &HashSet<String>) -> Translation {
    let mut out = Vec::with_capacity(lines.len());
    let mut missing = Vec::new();
    for line in lines {
        let codes = ItemCodes { sku: Some(&line.sku), upc: line.upc.as_ref() };
        match rules.barcode(codes, |b| products.contains(b)) {
            Some(b) => out.push(OrderLine { barcode: Some(b), ..line.clone() }),
            None if !missing.contains(&line.sku) => missing.push(line.sku.clone()),
            None => {}
        }
    }
    if missing.is_empty() { Translation::Complete(out) } else { Translation::Missing(missing) }
}

/// The merchant's WMS barcodes, from the cache unless stale (or `refresh` and not read lately).
pub async fn known_barcodes(
    deps: &Deps,
    merchant: &MerchantSettings,
    refresh: bool,
) -> Result<HashSet<String>, TranslateError> {
    let cache = &deps.ledger.products;
    let age = cache.read_at(&merchant.id).await?.map(|t| Utc::now() - t);
    let stale = age.is_none_or(|a| a > Duration::hours(PRODUCT_CACHE_TTL_HOURS));
    let may_refresh = age.is_none_or(|a| a > Duration::seconds(PRODUCT_REFRESH_MIN_SECS));
    if stale || (refresh && may_refresh) {
        let ep = deps.easypost(merchant).map_err(|_| UpstreamError::Invalid { reason: "no WMS key".into() })?;
        let products = ep.products().await?;
        let pairs: Vec<(String, String)> = products.iter().map(|p| (p.barcode.to_string(), p.id.clone())).collect();
        cache.record(&merchant.id, &pairs, Utc::now()).await?;
    }
    Ok(cache.barcodes(&merchant.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Barcode;

    fn line(sku: &str, upc: Option<&str>) -> OrderLine {
        OrderLine {
            line_item_id: 1,
            variant_id: 1,
            sku: Sku::parse(sku).unwrap(),
            upc: upc.map(|u| Barcode::parse(u).unwrap()),
            barcode: None,
            quantity: 1,
        }
    }

    #[test]
    fn alias_then_upc_then_known_sku() {
        let rules = barcode_rules(&HashMap::from([("A".to_owned(), "111".to_owned())]), ItemField::Upc);
        let products = HashSet::from(["C".to_owned()]);
        let lines = [line("A", Some("999")), line("B", Some("222")), line("C", None)];
        let Translation::Complete(out) = pick(&lines, &rules, &products) else { panic!() };
        let barcodes: Vec<_> = out.iter().map(|l| l.barcode.clone().unwrap().to_string()).collect();
        assert_eq!(barcodes, ["111", "222", "C"]);
    }

    #[test]
    fn upc_is_used_only_when_item_field_is_upc_and_missing_skus_are_all_named() {
        let lines = [line("B", Some("222")), line("D", None), line("D", None)];
        let rules = barcode_rules(&HashMap::new(), ItemField::Sku);
        let missing = ["B", "D"].map(|s| Sku::parse(s).unwrap()).to_vec();
        assert_eq!(pick(&lines, &rules, &HashSet::new()), Translation::Missing(missing));
    }
}
