//! One cart's token source: read, refresh under the lease, disconnect (protocol in `super`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use super::endpoint::{TokenError, connected, field, now_ms, refresh, token_endpoint, upstream_of};
use super::{REFRESHES, TOKEN_AGE, record_status, store_trouble};
use crate::alerts::{AlertKind, Alerts};
use crate::domain::MerchantId;
use crate::ledger::{ConnectionStatus, OAuthStore, StoredConnection};
use crate::settings::{CartKind, CartSettings, Secret, Settings};
use crate::tenants::{Sealed, Tenants};
use crate::upstream::{Account, BearerToken, TokenSource, UpstreamClient, UpstreamError};

/// How often a replica waiting for another's refresh looks at the stored version.
const POLL: Duration = Duration::from_millis(100);
/// The lease outlives the token call's timeout by this much.
const LEASE_MARGIN: Duration = Duration::from_secs(15);
/// Refresh when less than this is left, or 10% of the lifetime if that is less.
const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;

/// A cart's tokens; one per process and cart (see `Connections::cart`).
pub struct CartTokens {
    cart: String,
    settings: std::sync::Arc<Settings>,
    tenants: Tenants,
    store: OAuthStore,
    /// The token endpoint's account, rebuilt when the cart's settings change.
    endpoint: Mutex<Option<Account>>,
    /// The cart's platform (the token endpoint's dialect, the names in errors and alerts).
    kind: Mutex<CartKind>,
    lease_ttl: Mutex<Duration>,
    /// One refresh per cart at a time in this process.
    flight: tokio::sync::Mutex<()>,
    /// This process's lease value (random: a lease is released by its holder only).
    holder: String,
    alerts: Alerts,
}

/// Whether the token should be refreshed now: less than min(10% of its lifetime, 5 min) left.
fn due(conn: &StoredConnection, now: i64) -> bool {
    let lifetime = (conn.expires_at_ms - conn.obtained_at_ms).max(0);
    let margin = (lifetime / 10).min(REFRESH_MARGIN_MS);
    conn.expires_at_ms - now < margin
}

impl CartTokens {
    pub(super) fn new(
        settings: std::sync::Arc<Settings>,
        tenants: Tenants,
        store: OAuthStore,
        cart: &CartSettings,
        alerts: Alerts,
    ) -> Self {
        // The process id first: an operator (or a test) can tell which replica holds the lease.
        let holder = format!("{}-{}", std::process::id(), hex::encode(rand::random::<[u8; 16]>()));
        Self {
            cart: cart.id.to_string(),
            settings,
            tenants,
            store,
            endpoint: Mutex::new(None),
            kind: Mutex::new(cart.kind),
            lease_ttl: Mutex::new(Duration::from_secs(cart.timeout_secs) + LEASE_MARGIN),
            flight: tokio::sync::Mutex::new(()),
            holder,
            alerts,
        }
    }

    /// Takes the cart's current settings (token endpoint, lease length).
    pub(super) fn update(&self, upstream: &UpstreamClient, cart: &CartSettings) {
        let account = token_endpoint(upstream, cart).ok();
        *self.endpoint.lock().unwrap_or_else(|p| p.into_inner()) = account;
        *self.kind.lock().unwrap_or_else(|p| p.into_inner()) = cart.kind;
        *self.lease_ttl.lock().unwrap_or_else(|p| p.into_inner()) =
            Duration::from_secs(cart.timeout_secs) + LEASE_MARGIN;
    }

    fn kind(&self) -> CartKind {
        *self.kind.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn disconnected_error(&self, reason: impl Into<String>) -> UpstreamError {
        UpstreamError::Disconnected { upstream: upstream_of(self.kind()), reason: reason.into() }
    }

    fn lease_ttl(&self) -> Duration {
        *self.lease_ttl.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stored connection; an unconnected or disconnected cart is an error.
    async fn load(&self) -> Result<(u64, StoredConnection), UpstreamError> {
        match self.store.load(&self.cart).await.map_err(store_trouble)? {
            None => Err(self.disconnected_error("the cart is not connected yet")),
            Some((_, conn)) if conn.status == ConnectionStatus::Disconnected => {
                record_status(&self.cart, ConnectionStatus::Disconnected);
                Err(self.disconnected_error(conn.reason.unwrap_or_else(|| "disconnected".into())))
            }
            // A cart id deleted and set up again for another merchant does not inherit the grant.
            Some((_, conn)) if self.tenants.now().owner_of(&self.cart).is_some_and(|m| m != conn.merchant) => {
                Err(self.disconnected_error("the cart was connected for another merchant"))
            }
            Some(found) => Ok(found),
        }
    }

    fn open_field(
        &self,
        conn: &StoredConnection,
        name: &str,
        sealed: Option<&String>,
    ) -> Result<String, UpstreamError> {
        let sealed = Sealed::try_from(sealed.cloned().unwrap_or_default()).map_err(store_trouble)?;
        let plain =
            self.tenants.ring().open(&conn.merchant, &field(&self.cart, name), &sealed).map_err(store_trouble)?;
        Ok(plain.expose_secret().to_owned())
    }

    fn bearer(&self, version: u64, conn: &StoredConnection) -> Result<BearerToken, UpstreamError> {
        let token = self.open_field(conn, "access_token", conn.access_token.as_ref())?;
        record_status(&self.cart, ConnectionStatus::Connected);
        let age = (now_ms() - conn.obtained_at_ms).max(0) as f64 / 1000.0;
        metrics::gauge!(TOKEN_AGE, "cart" => self.cart.clone()).set(age);
        Ok(BearerToken { version, token: Secret::literal(token) })
    }

    /// Refreshes the token the document's `observed` version holds, once across replicas.
    async fn refresh(&self, observed: u64) -> Result<BearerToken, UpstreamError> {
        let _flight = self.flight.lock().await;
        let deadline = Instant::now() + self.lease_ttl() + Duration::from_secs(5);
        loop {
            let (version, conn) = self.load().await?;
            if version != observed {
                return self.bearer(version, &conn);
            }
            let ttl = u64::try_from(self.lease_ttl().as_millis()).unwrap_or(u64::MAX);
            if self.store.lease(&self.cart, &self.holder, ttl).await.map_err(store_trouble)? {
                let result = self.refresh_holding(observed).await;
                if let Err(e) = self.store.release(&self.cart, &self.holder).await {
                    tracing::warn!(cart = %self.cart, error = %e, "cannot release the refresh lease; it expires");
                }
                return result;
            }
            // Another replica refreshes: wait for the token it stores, or for its lease to end.
            loop {
                tokio::time::sleep(POLL).await;
                if Instant::now() > deadline {
                    return Err(store_trouble("another replica's token refresh is taking too long"));
                }
                let moved = self.store.version(&self.cart).await.map_err(store_trouble)? != Some(observed);
                if moved || !self.store.leased(&self.cart).await.map_err(store_trouble)? {
                    break;
                }
            }
        }
    }

    /// The refresh itself, with the lease held.
    async fn refresh_holding(&self, observed: u64) -> Result<BearerToken, UpstreamError> {
        // Another replica may have finished between our read and our lease.
        let (version, conn) = self.load().await?;
        if version != observed {
            return self.bearer(version, &conn);
        }
        let refresh_token = self.open_field(&conn, "refresh_token", conn.refresh_token.as_ref())?;
        let endpoint = self.endpoint.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let endpoint = endpoint.ok_or_else(|| UpstreamError::Invalid { reason: "no token endpoint".into() })?;
        match refresh(&self.settings, self.kind(), &endpoint, &refresh_token).await {
            Ok(answer) => {
                let next = connected(self.tenants.ring(), &conn.merchant, &self.cart, &answer)?;
                match self.store.save(&self.cart, Some(version), &next).await.map_err(store_trouble)? {
                    Ok(v) => {
                        metrics::counter!(REFRESHES, "outcome" => "ok").increment(1);
                        tracing::info!(cart = %self.cart, "access token refreshed");
                        self.bearer(v, &next)
                    }
                    // A new Connect wrote meanwhile: its tokens win.
                    Err(_) => {
                        let (v, current) = self.load().await?;
                        self.bearer(v, &current)
                    }
                }
            }
            Err(TokenError::InvalidGrant) => {
                metrics::counter!(REFRESHES, "outcome" => "invalid_grant").increment(1);
                Err(self.disconnect(version, &conn, "the refresh token was refused (invalid_grant)").await)
            }
            Err(TokenError::Upstream(e)) => {
                metrics::counter!(REFRESHES, "outcome" => "error").increment(1);
                tracing::warn!(cart = %self.cart, error = %e, "token refresh failed");
                Err(e)
            }
        }
    }

    /// Opens `cart_disconnected` for the cart (told once; the jobs wait until Connect).
    async fn alert_disconnected(&self, merchant: &str, reason: &str) {
        let Ok(merchant) = MerchantId::parse(merchant) else { return };
        let summary = format!("Cart {} lost its {} grant ({reason}): connect it again", self.cart, self.kind().label());
        let raised = self.alerts.raise(&merchant, AlertKind::CartDisconnected, &self.cart, &summary, None).await;
        if let Err(e) = raised {
            tracing::warn!(cart = %self.cart, error = %e, "cannot raise the disconnection alert");
        }
    }

    /// Stores the connection as disconnected (over `version` only); the error for the call.
    async fn disconnect(&self, version: u64, conn: &StoredConnection, reason: &str) -> UpstreamError {
        let gone = StoredConnection {
            status: ConnectionStatus::Disconnected,
            access_token: None,
            refresh_token: None,
            reason: Some(reason.to_owned()),
            since_ms: Some(now_ms()),
            ..conn.clone()
        };
        match self.store.save(&self.cart, Some(version), &gone).await {
            Ok(Ok(_)) => {
                tracing::warn!(cart = %self.cart, reason, "cart disconnected: the merchant must connect again");
                record_status(&self.cart, ConnectionStatus::Disconnected);
                self.alert_disconnected(&conn.merchant, reason).await;
            }
            Ok(Err(_)) => tracing::info!(cart = %self.cart, "connection changed meanwhile; left as it is"),
            Err(e) => tracing::warn!(cart = %self.cart, error = %e, "cannot store the disconnection"),
        }
        self.disconnected_error(reason)
    }
}

#[async_trait::async_trait]
impl TokenSource for CartTokens {
    fn account_key(&self) -> String {
        format!("oauth-cart:{}", self.cart)
    }

    async fn token(&self) -> Result<BearerToken, UpstreamError> {
        let (version, conn) = self.load().await?;
        let now = now_ms();
        if due(&conn, now) {
            match self.refresh(version).await {
                // A refresh that failed for a passing reason leaves the current token usable
                // until it expires; the next call tries again.
                Err(e) if !matches!(e, UpstreamError::Disconnected { .. }) && conn.expires_at_ms > now => {
                    tracing::info!(cart = %self.cart, error = %e, "early refresh failed; the token is still valid");
                }
                other => return other,
            }
        }
        self.bearer(version, &conn)
    }

    async fn rejected(&self, rejected: &BearerToken) -> Result<BearerToken, UpstreamError> {
        self.refresh(rejected.version).await
    }

    async fn unrecoverable(&self, rejected: &BearerToken) -> UpstreamError {
        match self.load().await {
            Ok((version, conn)) if version == rejected.version => {
                self.disconnect(version, &conn, "a freshly refreshed access token was refused (401)").await
            }
            Ok(_) => self.disconnected_error("the access token was refused (401); a newer one is stored"),
            Err(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(obtained: i64, expires: i64) -> StoredConnection {
        StoredConnection {
            status: ConnectionStatus::Connected,
            merchant: "m".into(),
            access_token: None,
            refresh_token: None,
            obtained_at_ms: obtained,
            expires_at_ms: expires,
            reason: None,
            since_ms: None,
        }
    }

    #[test]
    fn a_token_is_refreshed_in_the_last_tenth_of_its_life_or_last_five_minutes() {
        let short = conn(0, 5_000);
        assert!(!due(&short, 4_499));
        assert!(due(&short, 4_501));
        let two_hours = conn(0, 7_200_000);
        assert!(!due(&two_hours, 6_899_000), "10% would be 12 min; 5 min is less");
        assert!(due(&two_hours, 6_900_001));
    }
}
