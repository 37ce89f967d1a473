//! One upstream account: where to call, with which credential, how fast and how patiently.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::limiter::{Gate, Limiter};
use super::{Upstream, UpstreamError, UpstreamRequest, Watched};
use crate::settings::{RateLimit, Secret};

/// How an account authenticates.
#[derive(Clone)]
pub enum Credential {
    /// `Authorization: Bearer <token>` (TradeGecko).
    Bearer(Secret),
    /// HTTP Basic with the key as user name and an empty password (EasyPost).
    Basic(Secret),
    /// A bearer token that changes (an OAuth connection): asked for before every call, and
    /// refreshed once when a call answers 401 (see [`TokenSource`]).
    OAuth(Arc<dyn TokenSource>),
    /// `X-Shopify-Access-Token: <token>` (a Shopify custom app's Admin API token).
    AccessToken(Secret),
    /// A Shopify OAuth connection's token, in `X-Shopify-Access-Token`; asked for and refreshed
    /// as [`Credential::OAuth`].
    OAuthAccessToken(Arc<dyn TokenSource>),
    /// No `Authorization` header (the OAuth token endpoint authenticates in its body).
    None,
}

/// Which header carries a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenHeader {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `X-Shopify-Access-Token: <token>`.
    Shopify,
}

/// Shopify's token header (UPSTREAMS-shopify.md §0).
const SHOPIFY_TOKEN: &str = "x-shopify-access-token";

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bearer(_) => "Bearer(<redacted>)",
            Self::Basic(_) => "Basic(<redacted>)",
            Self::OAuth(_) => "OAuth",
            Self::AccessToken(_) => "AccessToken(<redacted>)",
            Self::OAuthAccessToken(_) => "OAuthAccessToken",
            Self::None => "None",
        })
    }
}

/// One bearer token handed out by a [`TokenSource`], and the stored version it came from (so a
/// 401 can say which token failed, and a refresh is not repeated for a token already replaced).
#[derive(Clone)]
pub struct BearerToken {
    pub version: u64,
    pub token: Secret,
}

/// Where an OAuth account's bearer token comes from (implemented by `crate::oauth`).
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync {
    /// A stable, non-secret name of the account (tokens rotate; its rate limit does not).
    fn account_key(&self) -> String;
    /// The token to send now (refreshed first when it is about to expire).
    async fn token(&self) -> Result<BearerToken, UpstreamError>;
    /// The upstream answered 401 to `rejected`: a newer token (refreshed, unless another call
    /// or replica already replaced it).
    async fn rejected(&self, rejected: &BearerToken) -> Result<BearerToken, UpstreamError>;
    /// A fresh token was refused too: the grant is gone; the answer for the call.
    async fn unrecoverable(&self, rejected: &BearerToken) -> UpstreamError;
}

/// The header that carries `token`, marked sensitive.
pub(super) fn token_header(kind: TokenHeader, token: &Secret) -> Result<(HeaderName, HeaderValue), UpstreamError> {
    match kind {
        TokenHeader::Bearer => Ok((AUTHORIZATION, sensitive(format!("Bearer {}", token.expose()))?)),
        TokenHeader::Shopify => Ok((HeaderName::from_static(SHOPIFY_TOKEN), sensitive(token.expose().to_owned())?)),
    }
}

fn sensitive(value: String) -> Result<HeaderValue, UpstreamError> {
    let mut header = HeaderValue::from_str(&value)
        .map_err(|_| UpstreamError::Invalid { reason: "the credential contains invalid characters".into() })?;
    header.set_sensitive(true);
    Ok(header)
}

impl Credential {
    fn secret(&self) -> Option<&Secret> {
        match self {
            Self::Bearer(s) | Self::Basic(s) | Self::AccessToken(s) => Some(s),
            Self::OAuth(_) | Self::OAuthAccessToken(_) | Self::None => None,
        }
    }

    fn auth(&self) -> Result<Auth, UpstreamError> {
        match self {
            Self::Bearer(s) => Ok(Auth::Static(Some(token_header(TokenHeader::Bearer, s)?))),
            Self::AccessToken(s) => Ok(Auth::Static(Some(token_header(TokenHeader::Shopify, s)?))),
            Self::Basic(s) => {
                let pair = format!("{}:", s.expose());
                let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
                Ok(Auth::Static(Some((AUTHORIZATION, sensitive(value)?))))
            }
            Self::OAuth(source) => Ok(Auth::Dynamic(source.clone(), TokenHeader::Bearer)),
            Self::OAuthAccessToken(source) => Ok(Auth::Dynamic(source.clone(), TokenHeader::Shopify)),
            Self::None => Ok(Auth::Static(None)),
        }
    }

    #[cfg(test)]
    fn header(&self) -> Result<HeaderValue, UpstreamError> {
        match self.auth()? {
            Auth::Static(Some((_, h))) => Ok(h),
            _ => Err(UpstreamError::Invalid { reason: "no static header".into() }),
        }
    }
}

/// How a request is authenticated: a fixed header (or none), or a token source and the header
/// its tokens go in.
#[derive(Clone)]
pub(super) enum Auth {
    Static(Option<(HeaderName, HeaderValue)>),
    Dynamic(Arc<dyn TokenSource>, TokenHeader),
}

/// Everything needed to build an [`Account`].
#[derive(Clone, Debug)]
pub struct AccountSpec {
    pub upstream: Upstream,
    /// The API host (a path prefix is kept); request paths are appended to it.
    pub base_url: Url,
    pub credential: Credential,
    pub rate_limit: RateLimit,
    /// Whole-request timeout (connect, send, answer and body).
    pub timeout: Duration,
}

/// The non-secret name of an account: the first 16 hex digits of a SHA-256 over the upstream
/// and the credential. Safe in logs, metrics and Redis keys; two carts sharing a token share it
/// (and so their rate limit, as the upstream does).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    fn derive(upstream: Upstream, secret: &Secret) -> Self {
        let mut h = Sha256::new();
        h.update(b"cartgate-upstream-account:");
        h.update(upstream.as_str().as_bytes());
        h.update(b":");
        h.update(secret.expose().as_bytes());
        Self(hex::encode(&h.finalize()[..8]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A handle on one upstream account; cheap to clone. Build requests with [`Account::get`] and
/// friends; every request waits for the account's rate limit before it is sent.
#[derive(Clone)]
pub struct Account {
    pub(super) inner: Arc<AccountInner>,
}

pub(super) struct AccountInner {
    pub upstream: Upstream,
    pub id: AccountId,
    pub base: String,
    pub auth: Auth,
    pub timeout: Duration,
    pub http: reqwest::Client,
    pub gate: Arc<Gate>,
    /// Told how each call was answered (credentials alerts), if anyone listens.
    pub watch: Option<Watched>,
}

impl Account {
    pub(super) fn new(
        http: reqwest::Client,
        limiter: &Limiter,
        spec: AccountSpec,
        watch: Option<Watched>,
    ) -> Result<Self, UpstreamError> {
        if spec.timeout.is_zero() {
            return Err(UpstreamError::Invalid { reason: "the request timeout must be positive".into() });
        }
        let id = match &spec.credential {
            Credential::Bearer(s) | Credential::Basic(s) if s.expose().is_empty() => {
                return Err(UpstreamError::Invalid { reason: format!("no {} credential configured", spec.upstream) });
            }
            Credential::AccessToken(s) if s.expose().is_empty() => {
                return Err(UpstreamError::Invalid { reason: format!("no {} credential configured", spec.upstream) });
            }
            Credential::OAuth(source) | Credential::OAuthAccessToken(source) => {
                AccountId::derive(spec.upstream, &Secret::literal(source.account_key()))
            }
            Credential::None => {
                AccountId::derive(spec.upstream, &Secret::literal(format!("anonymous:{}", spec.base_url)))
            }
            other => AccountId::derive(spec.upstream, other.secret().unwrap_or(&Secret::literal(""))),
        };
        let gate = limiter.gate(spec.upstream, &id, spec.rate_limit)?;
        let base = spec.base_url.as_str().trim_end_matches('/').to_owned();
        let auth = spec.credential.auth()?;
        let inner = AccountInner { upstream: spec.upstream, id, base, auth, timeout: spec.timeout, http, gate, watch };
        Ok(Self { inner: Arc::new(inner) })
    }

    pub fn upstream(&self) -> Upstream {
        self.inner.upstream
    }

    /// The non-secret account id used in metrics, logs and rate-limit keys.
    pub fn id(&self) -> &AccountId {
        &self.inner.id
    }

    /// A request with any method; `path` starts with `/` and is appended to the base URL.
    pub fn request(&self, method: Method, path: &str) -> UpstreamRequest {
        UpstreamRequest::new(self.clone(), method, path)
    }

    pub fn get(&self, path: &str) -> UpstreamRequest {
        self.request(Method::GET, path)
    }

    pub fn delete(&self, path: &str) -> UpstreamRequest {
        self.request(Method::DELETE, path)
    }

    pub fn post_json<T: Serialize + ?Sized>(&self, path: &str, body: &T) -> UpstreamRequest {
        self.request(Method::POST, path).json(body)
    }

    pub fn put_json<T: Serialize + ?Sized>(&self, path: &str, body: &T) -> UpstreamRequest {
        self.request(Method::PUT, path).json(body)
    }

    pub fn patch_json<T: Serialize + ?Sized>(&self, path: &str, body: &T) -> UpstreamRequest {
        self.request(Method::PATCH, path).json(body)
    }

    /// Waits for this account's rate limit (see the module docs). `send` does this itself;
    /// public for callers that want a slot without a request (and for tests).
    pub async fn acquire(&self) -> Result<(), UpstreamError> {
        self.inner.gate.acquire().await
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("upstream", &self.inner.upstream)
            .field("id", &self.inner.id)
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_is_stable_and_reveals_nothing() {
        let key = Secret::literal("EZTKsecretkey123");
        let a = AccountId::derive(Upstream::EasyPost, &key);
        assert_eq!(a, AccountId::derive(Upstream::EasyPost, &key));
        assert_ne!(a, AccountId::derive(Upstream::TradeGecko, &key));
        assert_eq!(a.as_str().len(), 16);
        assert!(!a.as_str().contains("secret"));
    }

    #[test]
    fn basic_auth_uses_key_as_user_with_empty_password() {
        let h = Credential::Basic(Secret::literal("k")).header().unwrap();
        assert_eq!(h.to_str().unwrap(), "Basic azo="); // base64("k:")
        assert!(h.is_sensitive());
    }

    #[test]
    fn a_shopify_token_goes_in_its_own_header_and_is_sensitive() {
        let Ok(Auth::Static(Some((name, value)))) = Credential::AccessToken(Secret::literal("shpat_x")).auth() else {
            panic!("a fixed header");
        };
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("x-shopify-access-token", "shpat_x"));
        assert!(value.is_sensitive());
        assert_eq!(format!("{:?}", Credential::AccessToken(Secret::literal("shpat_x"))), "AccessToken(<redacted>)");
    }
}
