//! Who is using the console: the session cookie, the session it names in the store, and the
//! CSRF token every form of that session carries.
//!
//! A request's session, in order:
//! 1. the `__Host-cartgate` cookie holds a random 256-bit id (from the OS CSPRNG, base64url);
//!    missing → the sign-in page;
//! 2. its SHA-256 finds the session in the store (`ledger::sessions`; any replica) — unknown or
//!    idle for 12 h → the sign-in page; found → its idle expiry moves forward;
//! 3. a merchant session holds only while its token is still listed: revoking the token signs
//!    out every browser that signed in with it;
//! 4. the session's [`Principal`] then goes through the admin API's access rules
//!    (`http/access.rs`): another merchant's page is a 404, an operator page a 403.
//!
//! Every POST must carry the session's CSRF token (compared in constant time) → else **403**.
//! The cookie is `HttpOnly`, `Path=/`, `SameSite=Lax`, no `Domain` (the `__Host-` prefix
//! requires all three) and `Secure` — when `server.public_url` is https, and also when it is
//! a loopback address, which browsers treat as a secure origin and where a `__Host-` cookie
//! without `Secure` would be refused.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use futures::future::LocalBoxFuture;
use rand::TryRngCore;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::page::PageError;
use crate::http::admin::Principal;
use crate::http::{ApiError, AppState};
use crate::ledger::sessions::{IDLE_MS, SessionOwner, SessionRecord, Sessions};
use crate::ops::tokens::digest;
use crate::settings::Settings;

/// The session cookie's name.
pub const COOKIE: &str = "__Host-cartgate";

/// A signed-in console request: who, and the token its forms must carry.
pub struct Console {
    pub principal: Principal,
    pub csrf: String,
    digest: String,
}

/// The session store over the app's ledger.
pub fn sessions(state: &AppState) -> Sessions {
    Sessions::new(state.ops.deps().ledger.kv())
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, PageError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")).into())
}

/// The console is off, like the admin API, when no `server.admin_token` is configured.
pub fn enabled(state: &AppState) -> Result<(), PageError> {
    match state.settings.server.admin_token {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("the console is disabled (no server.admin_token)").into()),
    }
}

impl FromRequest for Console {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state_of(req);
        let id = req.cookie(COOKIE).map(|c| c.value().to_owned());
        Box::pin(async move {
            let state = state?;
            enabled(&state)?;
            let digest = digest(&id.ok_or(PageError::SignIn)?);
            let store = sessions(&state);
            let now = Utc::now().timestamp_millis();
            let session = store.get(&digest, now).await?.ok_or(PageError::SignIn)?;
            let principal = match &session.record.owner {
                SessionOwner::Operator => Principal::Operator,
                SessionOwner::Merchant { merchant, token_id } => {
                    let live = state.ops.deps().ledger.tokens.list(merchant).await?;
                    if !live.iter().any(|t| t.id == *token_id) {
                        store.end(&digest).await?;
                        return Err(PageError::SignIn);
                    }
                    Principal::Merchant { merchant: merchant.clone(), token_id: token_id.clone() }
                }
            };
            store.touch(&digest, &session, now).await?;
            Ok(Console { principal, csrf: session.record.csrf, digest })
        })
    }
}

impl Console {
    /// 403 unless `presented` is this session's CSRF token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        match bool::from(presented.as_bytes().ct_eq(self.csrf.as_bytes())) {
            true => Ok(()),
            false => Err(PageError::Csrf),
        }
    }

    /// A posted form (`application/x-www-form-urlencoded`), once its CSRF token checks out.
    pub fn form<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, PageError> {
        let bad = |e: serde_urlencoded::de::Error| PageError::Api(ApiError::BadRequest(format!("invalid form: {e}")));
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(bad)?;
        let presented = pairs.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
        self.check_csrf(presented)?;
        serde_urlencoded::from_bytes(body).map_err(bad)
    }

    /// Ends this session for every replica (sign-out).
    pub async fn end(&self, state: &AppState) -> Result<(), PageError> {
        Ok(sessions(state).end(&self.digest).await?)
    }

    /// The merchant the merchant pages show: a merchant's own; the operator's pick, if any.
    pub fn merchant_for<'a>(&'a self, picked: Option<&'a str>) -> Option<&'a str> {
        match &self.principal {
            Principal::Operator => picked.filter(|m| !m.is_empty()),
            Principal::Merchant { merchant, .. } => Some(merchant.as_str()),
        }
    }
}

/// 256 random bits from the operating system, base64url.
fn random_token() -> Result<String, PageError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the OS random source failed: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Starts a session for `principal`: expired sessions are swept, a fresh id is drawn and only
/// its digest stored. Returns the cookie to set.
pub async fn start(state: &AppState, principal: &Principal) -> Result<Cookie<'static>, PageError> {
    let store = sessions(state);
    let now = Utc::now().timestamp_millis();
    store.sweep(now).await?;
    let owner = match principal {
        Principal::Operator => SessionOwner::Operator,
        Principal::Merchant { merchant, token_id } => {
            SessionOwner::Merchant { merchant: merchant.clone(), token_id: token_id.clone() }
        }
    };
    let record = SessionRecord { owner, csrf: random_token()?, expires_at: now.saturating_add(IDLE_MS) };
    loop {
        let id = random_token()?;
        if store.create(&digest(&id), &record).await? {
            return Ok(cookie(&state.settings, id));
        }
    }
}

/// The session cookie: no `Max-Age`, so it lasts the browser session; the store's idle expiry
/// is what ends a session.
fn cookie(settings: &Settings, value: String) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(settings.server.public_url.as_ref()))
        .finish()
}

/// The cookie that clears the session cookie in the browser.
pub fn removal(settings: &Settings) -> Cookie<'static> {
    let mut c = cookie(settings, String::new());
    c.make_removal();
    c
}

/// Whether the cookie gets `Secure` (see the module header).
fn secure(public_url: Option<&url::Url>) -> bool {
    let Some(url) = public_url else { return false };
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    url.scheme() == "https" || loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_secure_on_https_and_on_loopback_only() {
        let at = |u: &str| secure(Some(&url::Url::parse(u).unwrap()));
        assert!(at("https://cartgate.example.com"));
        assert!(at("http://127.0.0.1:8080") && at("http://localhost:8080") && at("http://[::1]:8080"));
        assert!(!at("http://cartgate.internal:8080"));
        assert!(!secure(None));
    }

    #[test]
    fn a_session_id_is_256_random_bits() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
    }
}
