//! Identifiers that appear in routes, store keys and job ids.
//!
//! Merchant and cart ids come from the configuration and end up inside Redis keys and URL paths,
//! so they are restricted to a safe alphabet once, here, instead of being escaped everywhere.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A configured id outside the safe alphabet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what} id (1-64 of A-Z a-z 0-9 - _)")]
pub struct InvalidId {
    pub value: String,
    /// `merchant` or `cart`.
    pub what: &'static str,
}

macro_rules! config_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Accepts 1–64 characters of `[A-Za-z0-9_-]`.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                let ok = !s.is_empty()
                    && s.len() <= 64
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if ok {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidId { value: s.to_owned(), what: $what })
                }
            }

            pub fn as_str(&self) -> &str {
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
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

config_id!(
    /// A merchant: one warehouse account (EasyPost) and its carts.
    MerchantId,
    "merchant"
);
config_id!(
    /// A cart: one TradeGecko account of a merchant.
    CartId,
    "cart"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_safe_alphabet_only_and_say_why_not() {
        assert_eq!(
            CartId::parse("a:b").unwrap_err().to_string(),
            "`a:b` is not a valid cart id (1-64 of A-Z a-z 0-9 - _)"
        );
        assert!(CartId::parse("acme-tg_1").is_ok());
        assert!(CartId::parse("").is_err());
        assert!(CartId::parse("a:b").is_err());
        assert!(MerchantId::parse("acme/../x").is_err());
        assert!(MerchantId::parse(&"x".repeat(65)).is_err());
    }
}
