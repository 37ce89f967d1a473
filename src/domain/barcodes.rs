//! Which warehouse barcode a cart item goes by: one rule, used by delivery and by inventory.
//!
//! In order:
//! 1. the merchant's **alias** for the item's SKU, if there is one (and then nothing else:
//!    an alias says what the warehouse calls the item, even when it has a UPC);
//! 2. the item's **UPC**, when the cart's `item_field` is `upc`;
//! 3. the **SKU itself**, when it is a barcode the warehouse knows.
//!
//! Delivery asks it forwards (an order line's barcode, checked against the WMS product list);
//! inventory asks it for every cart item and reads the warehouse's stock under the answer
//! ([`BarcodeRules::levels`]), so a level lands on exactly the items an order of them would
//! have been sent as (DESIGN.md, "Contract notes").

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Barcode, Sku};

/// Units on hand per warehouse barcode, summed over warehouses.
pub type StockLevels = BTreeMap<Barcode, i64>;

/// Whether a cart item's UPC may name it at the warehouse (the cart's `item_field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpcRule {
    /// `item_field = "sku"`: only an alias or the SKU itself.
    Ignore,
    /// `item_field = "upc"`: the UPC, when the item has one and no alias.
    Use,
}

/// The codes of one cart item, as the rules read them.
#[derive(Debug, Clone, Copy)]
pub struct ItemCodes<'a> {
    pub sku: Option<&'a Sku>,
    pub upc: Option<&'a Barcode>,
}

/// A merchant's aliases and a cart's UPC rule.
#[derive(Debug, Clone)]
pub struct BarcodeRules {
    aliases: HashMap<Sku, Barcode>,
    upc: UpcRule,
}

impl BarcodeRules {
    /// Rules from the alias table as stored (SKU → barcode). Rows with a blank side cannot
    /// name anything and are left out (uploads refuse them anyway).
    pub fn new(aliases: &HashMap<String, String>, upc: UpcRule) -> Self {
        let aliases = aliases.iter().filter_map(|(s, b)| Some((Sku::parse(s).ok()?, Barcode::parse(b).ok()?)));
        Self { aliases: aliases.collect(), upc }
    }

    /// The barcode of an item, `known` saying which barcodes the warehouse has.
    pub fn barcode(&self, item: ItemCodes<'_>, known: impl Fn(&str) -> bool) -> Option<Barcode> {
        if let Some(alias) = item.sku.and_then(|s| self.aliases.get(s)) {
            return Some(alias.clone());
        }
        if self.upc == UpcRule::Use
            && let Some(upc) = item.upc
        {
            return Some(upc.clone());
        }
        item.sku.filter(|s| known(s.as_str())).map(Sku::as_barcode)
    }

    /// The reverse, for inventory: the level of each item whose barcode the warehouse reports,
    /// and how many reported barcodes no item maps to.
    pub fn levels<'a, K: Ord>(
        &self,
        items: impl IntoIterator<Item = (K, ItemCodes<'a>)>,
        stock: &StockLevels,
    ) -> (BTreeMap<K, i64>, usize) {
        let mut out = BTreeMap::new();
        let mut used = HashSet::new();
        for (key, codes) in items {
            let barcode = self.barcode(codes, |b| stock.contains_key(b));
            if let Some((b, units)) = barcode.and_then(|b| stock.get_key_value(&b)) {
                out.insert(key, *units);
                used.insert(b);
            }
        }
        (out, stock.len() - used.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn barcode(s: &str) -> Barcode {
        Barcode::parse(s).unwrap()
    }

    fn rules(upc: UpcRule) -> BarcodeRules {
        BarcodeRules::new(&HashMap::from([("A".to_owned(), "111".to_owned())]), upc)
    }

    #[test]
    fn alias_then_upc_then_known_sku() {
        let known = |b: &str| b == "C";
        let (a, b, c, d) = (sku("A"), sku("B"), sku("C"), sku("D"));
        let (u999, u222) = (barcode("999"), barcode("222"));
        let find = |sku, upc| rules(UpcRule::Use).barcode(ItemCodes { sku: Some(sku), upc }, known);
        assert_eq!(find(&a, Some(&u999)), Some(barcode("111")), "the alias wins over the UPC");
        assert_eq!(find(&b, Some(&u222)), Some(barcode("222")));
        assert_eq!(find(&c, None), Some(barcode("C")));
        assert_eq!(find(&d, None), None);
        let ignore = rules(UpcRule::Ignore);
        assert_eq!(ignore.barcode(ItemCodes { sku: Some(&b), upc: Some(&u222) }, known), None);
    }

    #[test]
    fn stock_maps_back_by_alias_then_upc_then_sku_and_unknown_barcodes_are_counted() {
        let stock: StockLevels = [("111", 5), ("222", 6), ("C", 7), ("999", 1)].map(|(b, n)| (barcode(b), n)).into();
        let (a, b, c, u222) = (sku("A"), sku("B"), sku("C"), barcode("222"));
        let items = [(1, Some(&a), Some(&u222)), (2, Some(&b), Some(&u222)), (3, Some(&c), None)];
        let codes = || items.iter().map(|(id, sku, upc)| (*id, ItemCodes { sku: *sku, upc: *upc }));
        let (upc, skipped) = rules(UpcRule::Use).levels(codes(), &stock);
        assert_eq!(upc, BTreeMap::from([(1, 5), (2, 6), (3, 7)]));
        assert_eq!(skipped, 1);
        let (by_sku, skipped) = rules(UpcRule::Ignore).levels(codes(), &stock);
        assert_eq!(by_sku, BTreeMap::from([(1, 5), (3, 7)]));
        assert_eq!(skipped, 2);
    }
}
