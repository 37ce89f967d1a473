//! How an item is named: the cart's [`Sku`] and the warehouse's [`Barcode`].
//!
//! Both come from upstreams that send empty strings for "none" (a variant without a UPC has
//! `"upc": ""`), so the one rule checked here is that a code is not blank: an `Option` of
//! either type is how "none" is written past the edge. Codes are otherwise kept exactly as the
//! upstream spelled them (no trimming, no case folding), because that is how the other side
//! matches them.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// A code that cannot name an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemCodeError {
    #[error("a SKU must not be blank")]
    BlankSku,
    #[error("a barcode must not be blank")]
    BlankBarcode,
}

macro_rules! item_code {
    ($(#[$doc:meta])* $name:ident, $blank:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Any code that is not blank, kept as spelled.
            pub fn parse(s: &str) -> Result<Self, ItemCodeError> {
                if s.trim().is_empty() { Err(ItemCodeError::$blank) } else { Ok(Self(s.to_owned())) }
            }

            /// `None` for an absent or blank upstream value.
            pub fn parse_opt(s: Option<&str>) -> Option<Self> {
                s.and_then(|s| Self::parse(s).ok())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ItemCodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ItemCodeError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                if s.trim().is_empty() { Err(ItemCodeError::$blank) } else { Ok(Self(s)) }
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

item_code!(
    /// The cart's stock-keeping unit of a variant.
    Sku,
    BlankSku
);
item_code!(
    /// What the warehouse knows a product by (EasyPost's `barcode`, often a UPC).
    Barcode,
    BlankBarcode
);

impl Sku {
    /// What a variant without a SKU is called (in the ledger, and in the "add an alias" reason
    /// that names it).
    pub fn of_unnamed_variant(variant_id: u64) -> Self {
        Self(format!("variant-{variant_id}"))
    }

    /// The SKU read as a barcode: a merchant whose SKUs are the warehouse's barcodes needs no
    /// alias (see [`super::barcodes`]). Never blank, since the SKU is not.
    pub fn as_barcode(&self) -> Barcode {
        Barcode(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kept_as_spelled_and_blank_ones_refused() {
        assert_eq!(Sku::parse(" A-1 ").unwrap().as_str(), " A-1 ");
        assert_eq!(Sku::parse("  "), Err(ItemCodeError::BlankSku));
        assert_eq!(Barcode::parse(""), Err(ItemCodeError::BlankBarcode));
        assert_eq!(Barcode::parse_opt(Some("")), None);
        assert_eq!(Barcode::parse_opt(Some("0001")).map(|b| b.to_string()), Some("0001".into()));
    }

    #[test]
    fn codes_read_and_write_as_plain_strings() {
        let b: Barcode = serde_json::from_str("\"0001\"").unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"0001\"");
        assert!(serde_json::from_str::<Sku>("\"\"").is_err());
    }
}
