//! The warehouse side: EasyPost Fulfillment's API as cartgate uses it.

pub mod wire;

mod client;

pub use client::EasyPost;
