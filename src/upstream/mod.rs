//! The one client core every call to TradeGecko, Shopify or EasyPost goes through.
//!
//! Rate limits, timeouts, request ids, retries-or-not and error classes are decided here once,
//! so the workflows only say *what* to call: `cart.get("/orders").query(&q).send().await?`.
//!
//! # Pieces
//! * [`UpstreamClient`] owns the one pooled `reqwest::Client` (rustls, no redirects) and the
//!   [`Limiter`]; it hands out an [`Account`] per upstream credential.
//! * [`Account`] knows its base URL, auth, timeout and rate-limit gate; its request builder
//!   ([`UpstreamRequest`]) buffers bodies (sent with `Content-Length`, never chunked).
//! * [`UpstreamError`] is the classification every workflow matches on.
//! * A client made [`UpstreamClient::watched`] tells a [`CallWatch`] how each call of its
//!   accounts was answered (success, 401/403, rate limited and for how long): the merchant's
//!   account alerts (`crate::alerts::accounts`) are raised and cleared there, in one place.
//!
//! # Rate-limit protocol (DESIGN.md invariants 6–7, "Rate limits are paced, not bursted")
//! Every account (a TradeGecko access token, an EasyPost API key — identified by a SHA-256
//! prefix, never the secret) has one Redis hash `{prefix}:rl:{<upstream>:<account>}` shared by
//! all replicas (one key per script call, hash-tagged: Redis Cluster safe). `gcra.lua` runs
//! GCRA on the Redis clock with emission interval `T = W / R` and **no burst**: a call is granted
//! the slot `max(tat, now)` and pushes `tat` one `T` further, so grants are at least `T` apart
//! across all replicas and any `W`-second window holds at most `R` (+1 at the window's edges).
//! A slot at most `max_wait` ahead is reserved and slept for in-process; a later one answers
//! [`UpstreamError::RateLimited`] with the slot time (store-clock ms), so the worker reschedules
//! the job without charging an attempt. `pause.lua` records what the upstream itself said (429,
//! `Retry-After`, TradeGecko `X-Rate-Limit-Remaining: 0` + `Reset`, else exponential backoff
//! with jitter) in the same hash: while paused every replica's acquire answers `RateLimited`,
//! and `tat` is moved to the pause end so calls resume paced, not in a burst.
//! In front of Redis, each replica remembers a lower bound of the account's next free slot:
//! its own last slot + `T`, a busy horizon or a pause Redis reported. When that bound is more
//! than `max_wait` away, Redis would refuse too, so the acquire answers `RateLimited` without
//! the round trip. (A `governor` bucket in front would consume a local cell before Redis
//! decides; a Redis refusal would then leave a phantom cell that refuses calls Redis would
//! grant. The learned bound never does.) With the memory store a `governor` limiter per account
//! is the limiter, paced the same way (burst 1). If Redis fails, acquires fail as
//! [`UpstreamError::Transient`]: never call upstream unthrottled.
//!
//! Shopify meters query *cost*, not calls: a [`ShopifyAccount`] also reserves each GraphQL
//! query's cost from the shop's leaky bucket, kept in the same hash (its unsettled
//! reservations in a sorted set beside it, `…}:cost`, same slot), records the bucket every
//! answer reports, and pauses the shop for every replica on `THROTTLED` (`limiter/cost.rs`,
//! `shopify.rs`).

mod account;
mod adaptive;
mod endpoint;
mod error;
mod error_body;
mod limiter;
mod metrics;
mod request;
mod response;
mod shopify;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use account::{Account, AccountId, AccountSpec, BearerToken, Credential, TokenSource};
pub use error::UpstreamError;
pub use limiter::Limiter;
pub use metrics::describe as describe_metrics;
pub use request::UpstreamRequest;
pub use response::UpstreamResponse;
pub use shopify::{Operation, OperationKind, ShopifyAccount};

use crate::domain::MerchantId;
use crate::settings::{CartAuth, CartSettings, SHOPIFY_API_VERSION, Secret, WmsSettings};

/// Longest time a connection may take to establish. Kept below any request timeout so a slow
/// connect is reported as a connect error (nothing sent → safe to retry), not as a timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The upstream services cartgate talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upstream {
    TradeGecko,
    EasyPost,
    Shopify,
}

impl Upstream {
    /// The label used in metrics, logs and Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TradeGecko => "tradegecko",
            Self::EasyPost => "easypost",
            Self::Shopify => "shopify",
        }
    }

    /// The response header carrying the upstream's own request id.
    fn request_id_header(self) -> &'static str {
        match self {
            Self::TradeGecko => "x-request-id",
            Self::EasyPost => "x-ep-request-uuid",
            Self::Shopify => "x-request-id",
        }
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hands out the token source of an `auth = "oauth"` cart (implemented by `crate::oauth`).
pub trait TokenProvider: Send + Sync {
    fn source(&self, cart: &CartSettings) -> Arc<dyn TokenSource>;
}

/// Told how each call of a watched account was answered: credentials refused (401/403) or a
/// success. What `credentials_rejected` alerts are raised and cleared by (`crate::alerts`).
#[async_trait::async_trait]
pub trait CallWatch: Send + Sync {
    async fn rejected(&self, owner: &MerchantId, account: &str);
    /// Rate limited: no call before `for_how_long` from now (a pause, or a full schedule).
    async fn paused(&self, owner: &MerchantId, account: &str, for_how_long: Duration);
    async fn accepted(&self, owner: &MerchantId, account: &str);
}

/// A watch and what it calls the account: its merchant and a name without any secret
/// (`easypost:<merchant>:production`, `tradegecko:<cart>`).
#[derive(Clone)]
pub struct Watched {
    pub watch: Arc<dyn CallWatch>,
    pub owner: MerchantId,
    pub account: String,
}

/// The shared HTTP client and rate limiter; cheap to clone, build one per process.
#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    limiter: Limiter,
    tokens: Option<Arc<dyn TokenProvider>>,
    watch: Option<Watched>,
    /// The Admin API version Shopify calls name (`[apps.shopify].api_version`).
    shopify_version: Arc<str>,
}

impl UpstreamClient {
    /// Builds the pooled HTTP client. Redirects are not followed: an upstream redirect is an
    /// answer to classify, and following one could carry credentials elsewhere.
    pub fn new(limiter: Limiter) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("cartgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UpstreamError::Invalid { reason: format!("cannot build the HTTP client: {e}") })?;
        Ok(Self { http, limiter, tokens: None, watch: None, shopify_version: Arc::from(SHOPIFY_API_VERSION) })
    }

    /// The same client, handing OAuth carts their tokens from `tokens`.
    pub fn with_tokens(self, tokens: Arc<dyn TokenProvider>) -> Self {
        Self { tokens: Some(tokens), ..self }
    }

    /// The same client, naming `version` in Shopify calls (default: cartgate's pinned one).
    pub fn with_shopify_api_version(self, version: &str) -> Self {
        Self { shopify_version: Arc::from(version), ..self }
    }

    /// The Admin API version Shopify calls name.
    pub fn shopify_api_version(&self) -> &str {
        &self.shopify_version
    }

    /// The same client, its accounts watched by `watch` (every answer is told to it).
    pub fn watched(&self, watch: Watched) -> Self {
        Self { watch: Some(watch), ..self.clone() }
    }

    /// An account for any credential (e.g. a specific EasyPost key for "Test WMS Connection").
    pub fn account(&self, spec: AccountSpec) -> Result<Account, UpstreamError> {
        Account::new(self.http.clone(), &self.limiter, spec, self.watch.clone())
    }

    /// The TradeGecko account of a cart (Bearer token — fixed, or its OAuth connection's — the
    /// cart's rate limit and timeout).
    pub fn tradegecko(&self, cart: &CartSettings) -> Result<Account, UpstreamError> {
        let credential = match (cart.auth, &self.tokens) {
            (CartAuth::Token, _) => {
                Credential::Bearer(cart.access_token.clone().unwrap_or_else(|| Secret::literal("")))
            }
            (CartAuth::Oauth, Some(tokens)) => Credential::OAuth(tokens.source(cart)),
            (CartAuth::Oauth, None) => {
                return Err(UpstreamError::Invalid { reason: "OAuth carts are not served by this client".into() });
            }
        };
        self.account(AccountSpec {
            upstream: Upstream::TradeGecko,
            base_url: cart.api_base(),
            credential,
            rate_limit: cart.call_rate(),
            timeout: Duration::from_secs(cart.timeout_secs),
        })
    }

    /// The Shopify account of a cart at the pinned `api_version`: its Admin API token (fixed,
    /// or its OAuth connection's) in `X-Shopify-Access-Token`, paced by query cost per shop
    /// (`limiter/cost.rs`) as well as by the cart's rate limit.
    pub fn shopify(&self, cart: &CartSettings, api_version: &str) -> Result<ShopifyAccount, UpstreamError> {
        let credential = match (cart.auth, &self.tokens) {
            (CartAuth::Token, _) => {
                Credential::AccessToken(cart.access_token.clone().unwrap_or_else(|| Secret::literal("")))
            }
            (CartAuth::Oauth, Some(tokens)) => Credential::OAuthAccessToken(tokens.source(cart)),
            (CartAuth::Oauth, None) => {
                return Err(UpstreamError::Invalid { reason: "OAuth carts are not served by this client".into() });
            }
        };
        let account = self.account(AccountSpec {
            upstream: Upstream::Shopify,
            base_url: cart.api_base(),
            credential,
            rate_limit: cart.call_rate(),
            timeout: Duration::from_secs(cart.timeout_secs),
        })?;
        Ok(ShopifyAccount::new(account, api_version))
    }

    /// The EasyPost account of a merchant's active key (test or production); `Invalid` says
    /// plainly when the active mode has no key configured.
    pub fn easypost(&self, wms: &WmsSettings) -> Result<Account, UpstreamError> {
        let key = wms.active_key().cloned().ok_or_else(|| UpstreamError::Invalid {
            reason: format!("no EasyPost {} API key is configured", wms.mode().as_str()),
        })?;
        self.account(AccountSpec {
            upstream: Upstream::EasyPost,
            base_url: wms.base_url.clone(),
            credential: Credential::Basic(key),
            rate_limit: wms.rate_limit,
            timeout: Duration::from_secs(wms.timeout_secs),
        })
    }

    /// The pooled HTTP client itself (rustls, no redirects, connect timeout) for calls that are
    /// not to an upstream account: alert webhooks to merchants' receivers, which set their own
    /// request timeout and are not rate-limited per account.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }
}
