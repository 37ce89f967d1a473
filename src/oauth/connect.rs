//! Connect: the authorize URL with a one-time `state`, and the callback that exchanges the code.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use url::Url;

use super::endpoint::{TokenAnswer, TokenError, TokenRequest, call, connected, token_endpoint, token_path};
use super::{Connections, record_status};
use crate::alerts::AlertKind;
use crate::ledger::{ConnectionStatus, PendingConnect};
use crate::settings::{CartAuth, CartKind, Settings};
use crate::store::StoreError;
use crate::upstream::UpstreamError;

/// How long a Connect's `state` is accepted.
pub const STATE_TTL_MS: u64 = 10 * 60 * 1000;
/// Random bytes in a `state` (256 bits).
const STATE_BYTES: usize = 32;

/// Where TradeGecko sends the merchant's browser back: `{server.public_url}/oauth/tradegecko/callback`.
pub fn redirect_url(settings: &Settings) -> Option<Url> {
    let mut url = settings.server.public_url.clone()?;
    url.path_segments_mut().ok()?.pop_if_empty().extend(["oauth", "tradegecko", "callback"]);
    Some(url)
}

/// Starts a Connect of `cart` (of `merchant`): stores a fresh `state` bound to them and answers
/// the application's authorize URL (TradeGecko's, or the shop's for a Shopify cart). `None`
/// when the deployment lacks the cart's `[apps.*]` or `server.public_url` (validation refuses
/// such an `oauth` cart, so this is a race at most).
pub async fn authorize_url(conns: &Connections, merchant: &str, cart: &str) -> Result<Option<Url>, StoreError> {
    let settings = &conns.settings;
    let kind = conns.tenants.cart(cart).map(|(_, c)| c.kind);
    if kind == Some(CartKind::Shopify) {
        return super::shopify::authorize_url(conns, merchant, cart).await;
    }
    let (Some(app), Some(redirect)) = (settings.apps.tradegecko.as_ref(), redirect_url(settings)) else {
        return Ok(None);
    };
    let state = new_state(conns, merchant, cart).await?;
    let mut url = app.authorize_url.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", app.client_id.expose())
        .append_pair("redirect_uri", redirect.as_str())
        .append_pair("state", &state);
    Ok(Some(url))
}

/// Draws a `state` and stores it bound to `merchant` and `cart` for [`STATE_TTL_MS`].
pub(super) async fn new_state(conns: &Connections, merchant: &str, cart: &str) -> Result<String, StoreError> {
    // `rand::random` draws from a CSPRNG seeded by the operating system.
    let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; STATE_BYTES]>());
    let pending = PendingConnect { merchant: merchant.to_owned(), cart: cart.to_owned() };
    if !conns.store.remember_state(&state, &pending, STATE_TTL_MS).await? {
        return Err(StoreError::Corrupt("a fresh OAuth state collided with a stored one".into()));
    }
    Ok(state)
}

/// The callback's query string.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// What a callback did.
#[derive(Debug, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The cart is connected (tokens stored).
    Connected { cart: String },
    /// The merchant did not grant access; nothing changed.
    Denied,
}

/// Why a callback was refused.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// Missing, unknown, expired or already used `state`, or no `code`: 400, nothing stored.
    #[error("{0}")]
    BadRequest(&'static str),
    /// The cart is gone or no longer `auth = "oauth"`: 400, nothing stored.
    #[error("the cart this connection was started for is no longer an OAuth cart")]
    CartGone,
    /// The platform refused the code or could not be reached: 502, nothing stored.
    #[error("the code was not exchanged: {0}")]
    Exchange(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Handles `GET /oauth/tradegecko/callback`.
pub async fn callback(conns: &Connections, q: &CallbackQuery) -> Result<CallbackOutcome, CallbackError> {
    let state = q.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 256);
    if let Some(error) = q.error.as_deref() {
        // The state is spent either way; a denial changes nothing.
        if let Some(state) = state {
            conns.store.take_state(state).await?;
        }
        tracing::info!(error = %error.chars().take(64).collect::<String>(), "OAuth authorization not granted");
        return Ok(CallbackOutcome::Denied);
    }
    let state = state.ok_or(CallbackError::BadRequest("the state is missing"))?;
    let pending = conns
        .store
        .take_state(state)
        .await?
        .ok_or(CallbackError::BadRequest("the state is unknown, expired or already used"))?;
    let code = q.code.as_deref().filter(|c| !c.is_empty()).ok_or(CallbackError::BadRequest("the code is missing"))?;
    exchange(conns, &pending, code).await?;
    Ok(CallbackOutcome::Connected { cart: pending.cart })
}

/// Exchanges `code` and stores the tokens sealed, replacing any earlier connection.
async fn exchange(conns: &Connections, pending: &PendingConnect, code: &str) -> Result<(), CallbackError> {
    let (merchant, cart) = conns.tenants.cart(&pending.cart).ok_or(CallbackError::CartGone)?;
    if cart.kind != CartKind::Tradegecko || cart.auth != CartAuth::Oauth || merchant.id.as_str() != pending.merchant {
        return Err(CallbackError::CartGone);
    }
    let settings = &conns.settings;
    let (Some(app), Some(redirect)) = (settings.apps.tradegecko.as_ref(), redirect_url(settings)) else {
        return Err(CallbackError::CartGone);
    };
    let endpoint = token_endpoint(&conns.upstream, &cart).map_err(|e| CallbackError::Exchange(e.to_string()))?;
    let body = TokenRequest {
        client_id: app.client_id.expose(),
        client_secret: app.client_secret.expose(),
        redirect_uri: redirect.as_str(),
        grant_type: "authorization_code",
        code: Some(code),
        refresh_token: None,
    };
    let answer = call(&endpoint, token_path(cart.kind), &body).await.map_err(exchange_failed)?;
    store_connected(conns, &merchant.id, pending, &answer).await
}

/// Why an exchange failed, for the callback's answer.
pub(super) fn exchange_failed(e: TokenError) -> CallbackError {
    match e {
        TokenError::InvalidGrant => CallbackError::Exchange("the code was refused (invalid_grant)".into()),
        TokenError::Upstream(e) => CallbackError::Exchange(e.merchant_message()),
    }
}

/// Stores the tokens of `answer` sealed, replacing any earlier connection, and resolves the
/// cart's `cart_disconnected` alert.
pub(super) async fn store_connected(
    conns: &Connections,
    merchant: &crate::domain::MerchantId,
    pending: &PendingConnect,
    answer: &TokenAnswer,
) -> Result<(), CallbackError> {
    let conn = connected(conns.tenants.ring(), &pending.merchant, &pending.cart, answer)
        .map_err(|e: UpstreamError| CallbackError::Exchange(e.to_string()))?;
    // Replace whatever is stored (a disconnected grant, an older connection).
    for _ in 0..5 {
        let expected = conns.store.version(&pending.cart).await?;
        if conns.store.save(&pending.cart, expected, &conn).await?.is_ok() {
            record_status(&pending.cart, ConnectionStatus::Connected);
            tracing::info!(cart = %pending.cart, "cart connected by OAuth");
            let cleared = conns.alerts.clear(merchant, AlertKind::CartDisconnected, &pending.cart, None).await;
            if let Err(e) = cleared {
                tracing::warn!(cart = %pending.cart, error = %e, "cannot resolve the disconnection alert");
            }
            return Ok(());
        }
    }
    Err(CallbackError::Store(StoreError::Unavailable("the connection kept changing while it was stored".into())))
}
