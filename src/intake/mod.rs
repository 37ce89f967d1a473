//! Webhook notifications: parsing the providers' bodies into what cartgate acts on.
//!
//! These functions are pure (bytes in, typed value or error out) so they can be fuzzed; the
//! HTTP handlers in `http::webhooks` verify the signature *before* calling them.

pub mod easypost;
pub mod shopify;
pub mod tradegecko;

use std::time::Duration;

/// How long a delivery id is remembered: TradeGecko retries for 3 days, EasyPost for about
/// one; four days covers both with margin.
pub const DEDUPE_TTL: Duration = Duration::from_secs(4 * 24 * 3600);

/// Why a signed body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    /// Not the documented shape.
    #[error("malformed notification: {0}")]
    Malformed(String),
    /// `resource_url` points somewhere we must not fetch.
    #[error("resource_url rejected: {0}")]
    ForeignResource(String),
}
