//! The token endpoint — TradeGecko's `POST {cart base_url}/oauth/token`, Shopify's
//! `POST {api_base}/admin/oauth/access_token` — through the upstream core (timeout, no
//! redirects, metrics), for both grants, and the sealed document a token answer becomes.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::store_trouble;
use crate::ledger::{ConnectionStatus, StoredConnection};
use crate::settings::{CartKind, CartSettings, RateLimit, Settings};
use crate::tenants::KeyRing;
use crate::upstream::{Account, AccountSpec, Credential, Upstream, UpstreamClient, UpstreamError};

/// The token endpoint's own pace (it is called rarely; this only keeps a bug from hammering it).
const TOKEN_RATE: RateLimit = RateLimit { requests: 600, per_secs: 60 };

/// What the token endpoint answers (Shopify adds `scope` and `refresh_token_expires_in`).
#[derive(Deserialize)]
pub(super) struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// Why the token endpoint refused.
pub(super) enum TokenError {
    /// `invalid_grant`: the code or refresh token is used, revoked or expired.
    InvalidGrant,
    Upstream(UpstreamError),
}

/// The body of `POST /oauth/token` (either grant).
#[derive(Serialize)]
pub(super) struct TokenRequest<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub redirect_uri: &'a str,
    pub grant_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
}

/// The body of Shopify's `POST /admin/oauth/access_token` (either grant; JSON, no redirect URI).
#[derive(Serialize)]
pub(super) struct ShopifyTokenRequest<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    /// `"1"`: ask for an expiring offline token with a refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiring: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
}

/// The token endpoint's path on the cart's API host.
pub(super) fn token_path(kind: CartKind) -> &'static str {
    match kind {
        CartKind::Tradegecko => "/oauth/token",
        CartKind::Shopify => "/admin/oauth/access_token",
    }
}

/// The upstream a cart's calls are counted under.
pub(super) fn upstream_of(kind: CartKind) -> Upstream {
    match kind {
        CartKind::Tradegecko => Upstream::TradeGecko,
        CartKind::Shopify => Upstream::Shopify,
    }
}

/// The cart's token endpoint, through the upstream core (timeout, no redirects, metrics).
pub(super) fn token_endpoint(upstream: &UpstreamClient, cart: &CartSettings) -> Result<Account, UpstreamError> {
    upstream.account(AccountSpec {
        upstream: upstream_of(cart.kind),
        base_url: cart.api_base(),
        credential: Credential::None,
        rate_limit: TOKEN_RATE,
        timeout: Duration::from_secs(cart.timeout_secs),
    })
}

/// Calls the token endpoint at `path` ([`token_path`]).
pub(super) async fn call(account: &Account, path: &str, body: &impl Serialize) -> Result<TokenAnswer, TokenError> {
    let answer = account.post_json(path, body).endpoint(path).send().await;
    match answer {
        Ok(resp) => resp.json().map_err(TokenError::Upstream),
        Err(e) => Err(refusal(e)),
    }
}

/// Presents `refresh_token` at the token endpoint of a `kind` cart, in its platform's dialect:
/// TradeGecko's form of RFC 6749 (with the redirect URI), Shopify's JSON. Either answers a
/// rotated refresh token, which the caller stores with the access token in one step.
pub(super) async fn refresh(
    settings: &Settings,
    kind: CartKind,
    account: &Account,
    refresh_token: &str,
) -> Result<TokenAnswer, TokenError> {
    let missing = |app: &str| {
        TokenError::Upstream(UpstreamError::Invalid { reason: format!("auth = \"oauth\" needs [apps.{app}]") })
    };
    let path = token_path(kind);
    match kind {
        CartKind::Tradegecko => {
            let app = settings.apps.tradegecko.as_ref().ok_or_else(|| missing("tradegecko"))?;
            let redirect = super::redirect_url(settings).map(|u| u.to_string()).unwrap_or_default();
            let body = TokenRequest {
                client_id: app.client_id.expose(),
                client_secret: app.client_secret.expose(),
                redirect_uri: &redirect,
                grant_type: "refresh_token",
                code: None,
                refresh_token: Some(refresh_token),
            };
            call(account, path, &body).await
        }
        CartKind::Shopify => {
            let app = settings.apps.shopify.as_ref().ok_or_else(|| missing("shopify"))?;
            let body = ShopifyTokenRequest {
                client_id: app.client_id.expose(),
                client_secret: app.client_secret.expose(),
                code: None,
                expiring: None,
                grant_type: Some("refresh_token"),
                refresh_token: Some(refresh_token),
            };
            call(account, path, &body).await
        }
    }
}

/// `invalid_grant` (a used, revoked or expired code or refresh token) answered 400 — or 401, which
/// RFC 6749 §5.2 also allows — is the grant's end; anything else is an ordinary upstream error.
fn refusal(e: UpstreamError) -> TokenError {
    let grant_ended = match &e {
        UpstreamError::Rejected { raw_body, .. } => oauth_error(raw_body).as_deref() == Some("invalid_grant"),
        UpstreamError::Unauthorized { code, .. } => code.as_deref() == Some("invalid_grant"),
        _ => false,
    };
    if grant_ended { TokenError::InvalidGrant } else { TokenError::Upstream(e) }
}

fn oauth_error(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get("error")?.as_str().map(str::to_owned)
}

/// Unix ms now.
pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Field names the tokens are sealed under (the AAD binds merchant, cart and field).
pub(super) fn field(cart: &str, name: &str) -> String {
    format!("oauth.{cart}.{name}")
}

/// A connected document for a token answer, sealed for `merchant`.
pub(super) fn connected(
    ring: &KeyRing,
    merchant: &str,
    cart: &str,
    answer: &TokenAnswer,
) -> Result<StoredConnection, UpstreamError> {
    let seal = |name: &str, value: &str| {
        ring.seal(merchant, &field(cart, name), &SecretString::from(value.to_owned()))
            .map(String::from)
            .map_err(store_trouble)
    };
    let now = now_ms();
    Ok(StoredConnection {
        status: ConnectionStatus::Connected,
        merchant: merchant.to_owned(),
        access_token: Some(seal("access_token", &answer.access_token)?),
        refresh_token: Some(seal("refresh_token", &answer.refresh_token)?),
        obtained_at_ms: now,
        expires_at_ms: now + answer.expires_in.max(1) * 1000,
        reason: None,
        since_ms: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oauth_error_code_is_read_from_the_body() {
        assert_eq!(oauth_error(r#"{"error":"invalid_grant"}"#).as_deref(), Some("invalid_grant"));
        assert_eq!(oauth_error(r#"{"error": "invalid_client", "x": 1}"#).as_deref(), Some("invalid_client"));
        assert_eq!(oauth_error("nope"), None);
    }

    #[test]
    fn invalid_grant_ends_the_grant_whether_answered_400_or_401() {
        let tg = crate::upstream::Upstream::TradeGecko;
        let rejected = |body: &str| UpstreamError::Rejected {
            upstream: tg,
            status: 400,
            code: None,
            message: String::new(),
            raw_body: body.to_owned(),
        };
        let unauthorized = |code: Option<&str>| UpstreamError::Unauthorized {
            upstream: tg,
            status: 401,
            code: code.map(str::to_owned),
        };
        assert!(matches!(refusal(rejected(r#"{"error":"invalid_grant"}"#)), TokenError::InvalidGrant));
        assert!(matches!(refusal(unauthorized(Some("invalid_grant"))), TokenError::InvalidGrant));
        assert!(matches!(refusal(rejected(r#"{"error":"invalid_request"}"#)), TokenError::Upstream(_)));
        assert!(matches!(refusal(unauthorized(Some("invalid_client"))), TokenError::Upstream(_)));
        assert!(matches!(refusal(unauthorized(None)), TokenError::Upstream(_)));
    }
}
