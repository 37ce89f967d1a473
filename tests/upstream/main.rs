//! Black-box tests of the upstream client core: error classes against wiremock upstreams, and
//! the shared rate limiter against a private Redis with several "replicas" (limiter instances,
//! each on its own connection).

// Tests may unwrap (STYLE.md); clippy only knows that for `#[test]` functions, not helpers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod classification;
mod gcra;
mod pause;
mod shopify;
mod support;
mod transport;
