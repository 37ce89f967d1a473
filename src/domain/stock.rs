//! The warehouse's stock per warehouse, and what of it a cart may sell.
//!
//! EasyPost reports one inventory row per product per warehouse. A cart's view of it
//! ([`WarehouseStock::for_cart`]) sums the warehouses the cart's `inventory.locations` names
//! (every one when it names none) and keeps `inventory.reserve` units of each product back,
//! never going below 0: the cart must not sell the last units the warehouse is still counting.

use std::collections::BTreeMap;

use super::{Barcode, StockLevels};

/// What of the warehouse's stock a cart sees: which warehouses, and how much is held back.
#[derive(Debug, Clone, Copy)]
pub struct StockView<'a> {
    /// Warehouse ids summed; empty: every warehouse.
    pub locations: &'a [String],
    /// Units of each product kept back.
    pub reserve: u32,
}

/// Units on hand per barcode per warehouse (`None`: a row without a warehouse).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarehouseStock {
    rows: BTreeMap<Barcode, BTreeMap<Option<String>, i64>>,
}

impl WarehouseStock {
    /// Adds a row's units.
    pub fn add(&mut self, barcode: Barcode, warehouse: Option<String>, units: i64) {
        *self.rows.entry(barcode).or_default().entry(warehouse).or_default() += units;
    }

    /// Every product, summed over every warehouse.
    pub fn total(&self) -> StockLevels {
        self.rows.iter().map(|(b, by)| (b.clone(), by.values().sum())).collect()
    }

    /// Every product the warehouse reports, as `view` sees it: summed over its warehouses
    /// (0 when none of them holds it) less the reserve, never below 0.
    pub fn for_cart(&self, view: StockView<'_>) -> StockLevels {
        let counted =
            |w: &Option<String>| view.locations.is_empty() || w.as_ref().is_some_and(|w| view.locations.contains(w));
        self.rows
            .iter()
            .map(|(b, by)| {
                let units: i64 = by.iter().filter(|(w, _)| counted(w)).map(|(_, n)| n).sum();
                (b.clone(), (units - i64::from(view.reserve)).max(0))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stock() -> WarehouseStock {
        let mut s = WarehouseStock::default();
        let b = |s: &str| Barcode::parse(s).unwrap();
        s.add(b("A"), Some("wh_east".into()), 5);
        s.add(b("B"), Some("wh_east".into()), 1);
        s.add(b("A"), Some("wh_west".into()), 4);
        s.add(b("C"), Some("wh_west".into()), 3);
        s
    }

    fn levels(l: StockLevels) -> Vec<(String, i64)> {
        l.into_iter().map(|(b, n)| (b.to_string(), n)).collect()
    }

    #[test]
    fn the_reserve_is_kept_back_from_each_product_and_never_goes_below_zero() {
        let all = StockView { locations: &[], reserve: 0 };
        assert_eq!(levels(stock().for_cart(all)), [("A".into(), 9), ("B".into(), 1), ("C".into(), 3)]);
        assert_eq!(levels(stock().total()), levels(stock().for_cart(all)));
        let reserved = StockView { locations: &[], reserve: 2 };
        assert_eq!(levels(stock().for_cart(reserved)), [("A".into(), 7), ("B".into(), 0), ("C".into(), 1)]);
    }

    #[test]
    fn locations_limit_the_sum_to_their_warehouses() {
        let east = ["wh_east".to_owned()];
        let view = StockView { locations: &east, reserve: 2 };
        assert_eq!(levels(stock().for_cart(view)), [("A".into(), 3), ("B".into(), 0), ("C".into(), 0)]);
    }
}
