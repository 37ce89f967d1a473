//! The warehouse side: EasyPost Fulfillment's API as cartgate uses it, in domain terms
//! ([`WmsProduct`], [`WmsOrder`] and its [`Parcel`]s, [`StockLevels`]). The wire shapes
//! ([`wire`]) stay private to this folder; [`convert`] is the edge between them.
//!
//! [`WmsProduct`]: crate::domain::WmsProduct
//! [`WmsOrder`]: crate::domain::WmsOrder
//! [`Parcel`]: crate::domain::Parcel
//! [`StockLevels`]: crate::domain::StockLevels

mod client;
mod convert;
mod wire;

pub use client::EasyPost;
