//! Shopify's authorization-code grant (UPSTREAMS-shopify.md §1) on the shared machinery
//! (state, sealed tokens, single-flight refresh, disconnected).
//!
//! Connect answers `{api_base}/admin/oauth/authorize?client_id&scope&redirect_uri&state&
//! grant_options[]=` (empty grant options: an offline token). The browser comes back to
//! `{server.public_url}/oauth/shopify/callback?code&hmac&host&shop&state&timestamp`, which is
//! checked in this order, each failure a 400 that changes nothing:
//! 1. `hmac`: the query HMAC (`signature::shopify_query_verify`) under `[apps.shopify]`'s client
//!    secret, constant time — before anything in the query is believed;
//! 2. `timestamp` within [`MAX_SKEW_SECS`] of now (a captured link is not replayed later);
//! 3. `shop` a `*.myshopify.com` domain (Shopify's weak-shop-validation rule);
//! 4. `state` taken (single use) and bound to a Shopify `oauth` cart of the same merchant whose
//!    `shop` is the query's.
//!
//! The code is then exchanged at `POST {api_base}/admin/oauth/access_token` with
//! `{client_id, client_secret, code, expiring:"1"}`: an access token that expires (an hour) and
//! a refresh token, stored sealed as TradeGecko's are. Refreshes send
//! `{client_id, client_secret, grant_type:"refresh_token", refresh_token}` to the same endpoint
//! and store the rotated pair in one compare-and-set (`tokens.rs`).

use url::Url;

use super::Connections;
use super::connect::{CallbackError, CallbackOutcome, exchange_failed, new_state, store_connected};
use super::endpoint::{ShopifyTokenRequest, call, token_endpoint, token_path};
use crate::settings::{CartAuth, CartKind, Settings, is_shop_domain};
use crate::signature;
use crate::store::StoreError;

/// How far a callback's `timestamp` may be from now (Shopify's libraries use 90 s).
pub const MAX_SKEW_SECS: i64 = 90;

/// Where Shopify sends the merchant's browser back: `{server.public_url}/oauth/shopify/callback`.
pub fn redirect_url(settings: &Settings) -> Option<Url> {
    let mut url = settings.server.public_url.clone()?;
    url.path_segments_mut().ok()?.pop_if_empty().extend(["oauth", "shopify", "callback"]);
    Some(url)
}

/// The shop's authorize URL for a Connect of the Shopify cart `cart` (see the module header).
pub(super) async fn authorize_url(conns: &Connections, merchant: &str, cart: &str) -> Result<Option<Url>, StoreError> {
    let settings = &conns.settings;
    let (Some(app), Some(redirect), Some((_, cart_settings))) =
        (settings.apps.shopify.as_ref(), redirect_url(settings), conns.tenants.cart(cart))
    else {
        return Ok(None);
    };
    let mut url = cart_settings.api_base();
    let Ok(mut segments) = url.path_segments_mut() else { return Ok(None) };
    segments.pop_if_empty().extend(["admin", "oauth", "authorize"]);
    drop(segments);
    let state = new_state(conns, merchant, cart).await?;
    url.query_pairs_mut()
        .append_pair("client_id", app.client_id.expose())
        .append_pair("scope", &app.scopes)
        .append_pair("redirect_uri", redirect.as_str())
        .append_pair("state", &state)
        .append_pair("grant_options[]", "");
    Ok(Some(url))
}

/// Handles `GET /oauth/shopify/callback` with its raw query string.
pub async fn callback(conns: &Connections, query: &str) -> Result<CallbackOutcome, CallbackError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let app = conns.settings.apps.shopify.as_ref().ok_or(CallbackError::CartGone)?;
    signature::shopify_query_verify(app.client_secret.expose(), pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| {
            tracing::info!(reason = %e, "Shopify OAuth callback: query HMAC refused");
            CallbackError::BadRequest("the hmac does not match")
        })?;
    let timestamp: i64 =
        get("timestamp").and_then(|t| t.parse().ok()).ok_or(CallbackError::BadRequest("the timestamp is missing"))?;
    if (chrono::Utc::now().timestamp() - timestamp).abs() > MAX_SKEW_SECS {
        return Err(CallbackError::BadRequest("the link is too old (timestamp)"));
    }
    let shop = get("shop").filter(|s| is_shop_domain(s)).ok_or(CallbackError::BadRequest("the shop is not valid"))?;
    let state = get("state").filter(|s| s.len() <= 256).ok_or(CallbackError::BadRequest("the state is missing"))?;
    let pending = conns
        .store
        .take_state(state)
        .await?
        .ok_or(CallbackError::BadRequest("the state is unknown, expired or already used"))?;
    let code = get("code").ok_or(CallbackError::BadRequest("the code is missing"))?;
    let (merchant, cart) = conns.tenants.cart(&pending.cart).ok_or(CallbackError::CartGone)?;
    if cart.kind != CartKind::Shopify || cart.auth != CartAuth::Oauth || merchant.id.as_str() != pending.merchant {
        return Err(CallbackError::CartGone);
    }
    if !cart.shop.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(shop)) {
        tracing::warn!(cart = %cart.id, "Shopify OAuth callback for another shop than the cart's");
        return Err(CallbackError::BadRequest("the shop is not this cart's"));
    }
    let endpoint = token_endpoint(&conns.upstream, &cart).map_err(|e| CallbackError::Exchange(e.to_string()))?;
    let body = ShopifyTokenRequest {
        client_id: app.client_id.expose(),
        client_secret: app.client_secret.expose(),
        code: Some(code),
        expiring: Some("1"),
        grant_type: None,
        refresh_token: None,
    };
    let answer = call(&endpoint, token_path(cart.kind), &body).await.map_err(exchange_failed)?;
    store_connected(conns, &merchant.id, &pending, &answer).await?;
    Ok(CallbackOutcome::Connected { cart: pending.cart })
}
