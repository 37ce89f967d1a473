//! The merchant's two carts in the story. Orders are known by `(cart, id)`: the ids of two
//! carts are each cart's own numbering, so only the pair names one order.

use std::fmt;

use super::world::{CART, SHOPIFY_CART};

/// One of the merchant's carts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cart {
    /// `acme-tg`, connected by OAuth.
    TradeGecko,
    /// `acme-shop`, a custom app's token.
    Shopify,
}

impl Cart {
    pub const ALL: [Cart; 2] = [Cart::TradeGecko, Cart::Shopify];

    /// The cart's id in cartgate.
    pub fn id(self) -> &'static str {
        match self {
            Self::TradeGecko => CART,
            Self::Shopify => SHOPIFY_CART,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::TradeGecko => "TradeGecko",
            Self::Shopify => "Shopify",
        }
    }
}

impl fmt::Display for Cart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One order of the story: its cart and the cart's id for it.
pub type OrderKey = (Cart, u64);
