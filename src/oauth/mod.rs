//! OAuth connections of `auth = "oauth"` carts (issues 20, 24): Connect, the callback, and tokens
//! that stay alive across replicas.
//!
//! # Connect
//! `POST /admin/carts/{c}/connect` draws a `state` (256 random bits from the OS CSPRNG), stores
//! it for 10 minutes bound to the merchant and cart (`ledger::oauth`), and answers the
//! application's authorize URL. The merchant's browser comes back to
//! `{server.public_url}/oauth/tradegecko/callback?code&state` on any replica: the state is taken
//! with `GETDEL` (single use), the code is exchanged at `{cart base_url}/oauth/token` through the
//! upstream core, and the tokens are stored sealed (AAD: merchant + `oauth.<cart>.<field>`).
//! Shopify carts (issue 24) take the same path with Shopify's URLs, its HMAC-signed callback
//! `/oauth/shopify/callback` and its JSON token endpoint ([`shopify`] has the protocol).
//!
//! # Refresh: single flight across replicas (`tokens.rs`)
//! Every call asks the cart's [`CartTokens`] for the token. The stored document is read (one
//! store round trip); when less than min(10% of the token's lifetime, 5 min) is left, or a call
//! answered 401 with it, the token is refreshed:
//! 1. in this replica, one refresh per cart at a time (a per-cart async mutex); a waiter that
//!    finds a newer version than the one it saw uses it;
//! 2. across replicas, the refresh lease `oauth_lease:{cart}` (`SET NX PX`, the token call's
//!    timeout + 15 s): only its holder presents the refresh token; the others poll the document's
//!    version every 100 ms and use the token the holder stored;
//! 3. the holder re-reads the document after taking the lease (another replica may have
//!    finished just before), calls the token endpoint, and stores access token, rotated refresh
//!    token and expiry in one compare-and-set on the version it refreshed from — so one refresh
//!    token is presented at most once by cartgate;
//! 4. a replica killed mid-refresh leaves its lease to expire; the next one retries with the
//!    stored refresh token (if the upstream had already rotated it, that answers `invalid_grant`
//!    and the cart is disconnected: the merchant connects again).
//!
//! # Disconnected
//! `invalid_grant` on a refresh, or a 401 to a freshly refreshed token, stores the connection
//! as `disconnected` with a reason. Calls then fail with [`UpstreamError::Disconnected`]
//! without reaching the upstream; jobs map that to `Outcome::Parked` (not charged, never
//! dead-lettered, looked at again every few seconds). A new Connect overwrites the document and
//! the parked jobs run. The replica whose write disconnected the cart opens the merchant's
//! `cart_disconnected` alert (subject: the cart); a successful Connect resolves it. Shopify's
//! `app/uninstalled` webhook disconnects the cart the same way (`uninstall.rs`).

mod connect;
mod endpoint;
pub mod shopify;
mod tokens;
mod uninstall;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use connect::{CallbackError, CallbackOutcome, CallbackQuery, STATE_TTL_MS, authorize_url, callback, redirect_url};
pub use tokens::CartTokens;
pub use uninstall::UNINSTALLED;

use crate::alerts::Alerts;
use crate::ledger::{ConnectionStatus, OAuthStore, StoredConnection};
use crate::settings::{CartSettings, Settings};
use crate::tenants::Tenants;
use crate::upstream::{TokenProvider, TokenSource, UpstreamClient, UpstreamError};

pub const REFRESHES: &str = "cartgate_oauth_refreshes_total";
pub const TOKEN_AGE: &str = "cartgate_oauth_token_age_seconds";
pub const CONNECTION: &str = "cartgate_cart_connection";

/// Registers the metric descriptions.
pub fn describe_metrics() {
    metrics::describe_counter!(REFRESHES, "OAuth token refreshes by outcome (ok, invalid_grant, error)");
    metrics::describe_gauge!(TOKEN_AGE, metrics::Unit::Seconds, "Age of the access token a cart's last call used");
    metrics::describe_gauge!(CONNECTION, "1 for a cart's current connection status (connected, disconnected)");
}

/// Records the cart's connection status as the gauge.
pub(crate) fn record_status(cart: &str, status: ConnectionStatus) {
    let (on, off) = match status {
        ConnectionStatus::Connected => ("connected", "disconnected"),
        ConnectionStatus::Disconnected => ("disconnected", "connected"),
    };
    metrics::gauge!(CONNECTION, "cart" => cart.to_owned(), "status" => on).set(1.0);
    metrics::gauge!(CONNECTION, "cart" => cart.to_owned(), "status" => off).set(0.0);
}

/// The OAuth side of one process: the token source of every OAuth cart (one per cart, so the
/// in-process single flight holds), over the shared store.
pub struct Connections {
    settings: Arc<Settings>,
    tenants: Tenants,
    store: OAuthStore,
    /// The upstream client without token provider (the token endpoint needs none).
    upstream: UpstreamClient,
    carts: Mutex<HashMap<String, Arc<CartTokens>>>,
    /// `cart_disconnected` is raised when a grant is lost and cleared on the next Connect.
    alerts: Alerts,
}

impl Connections {
    pub fn new(
        settings: Arc<Settings>,
        tenants: Tenants,
        store: OAuthStore,
        upstream: UpstreamClient,
        alerts: Alerts,
    ) -> Arc<Self> {
        Arc::new(Self { settings, tenants, store, upstream, carts: Mutex::new(HashMap::new()), alerts })
    }

    pub fn store(&self) -> &OAuthStore {
        &self.store
    }

    /// The cart's token source (created once per process and cart).
    pub fn cart(&self, cart: &CartSettings) -> Arc<CartTokens> {
        let mut carts = self.carts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = carts.entry(cart.id.to_string()).or_insert_with(|| {
            Arc::new(CartTokens::new(
                self.settings.clone(),
                self.tenants.clone(),
                self.store.clone(),
                cart,
                self.alerts.clone(),
            ))
        });
        // Settings may have changed (base URL, timeout): keep the flight, use the new settings.
        entry.update(&self.upstream, cart);
        entry.clone()
    }
}

impl TokenProvider for Connections {
    fn source(&self, cart: &CartSettings) -> Arc<dyn TokenSource> {
        self.cart(cart)
    }
}

/// The connection as the admin API shows it.
pub fn connection_view(conn: Option<&StoredConnection>) -> serde_json::Value {
    use serde_json::json;
    let rfc3339 = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339());
    match conn {
        None => json!({"status": "disconnected", "reason": "not connected yet", "since": null}),
        Some(c) if c.status == ConnectionStatus::Connected => {
            json!({"status": "connected", "expires_at": rfc3339(c.expires_at_ms)})
        }
        Some(c) => json!({"status": "disconnected", "reason": c.reason, "since": c.since_ms.and_then(rfc3339)}),
    }
}

/// Why the store or the seal failed, as an upstream error a job retries.
pub(crate) fn store_trouble(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Transient {
        upstream: crate::upstream::Upstream::TradeGecko,
        status: None,
        reason: format!("OAuth token store: {e}"),
        retry_at: None,
    }
}
