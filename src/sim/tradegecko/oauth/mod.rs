//! The simulator's one OAuth 2.0 application, as TradeGecko ran it (Doorkeeper): authorization
//! codes, grants, access tokens that expire and refresh tokens that rotate on every use.
//!
//! * **Authorize** auto-approves (or denies, when `deny` is on) and hands out a code: single
//!   use, valid 10 minutes, bound to the client and the `redirect_uri`. Any `redirect_uri` is
//!   accepted (the app has no registered list: cartgate's port is chosen at run time).
//! * **A code exchanged** starts a *grant* (one merchant account connected through the app).
//!   Every token issued afterwards belongs to that grant. The simulator is one account, so the
//!   API counts every OAuth token's calls (rate limit, idempotency keys) as that one
//!   (application, account): rotating tokens or reconnecting resets neither (UPSTREAMS: 300
//!   per 300 s per application and account).
//! * **A refresh** issues a new access token and a new refresh token; the presented refresh
//!   token is dead from then on (presenting it again is `invalid_grant` and counted as reused).
//!   The previous *access* token stays valid until its own expiry — Doorkeeper does not revoke
//!   it on refresh — so a replica still holding it keeps working for a while.
//! * **Revoking** ends every grant: its access tokens answer 401, its refresh tokens
//!   `invalid_grant`.
//!
//! A lifetime set at run time applies to the tokens issued afterwards.

mod routes;
mod wire;

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use subtle::ConstantTimeEq;

pub(crate) use self::routes::{control, scope};
use self::wire::{Issued, OAuthError, TokenRequest};
pub use self::wire::{OAuthConfig, OAuthPatch, OAuthStats, RefreshAttempt, TokenFault};
use crate::sim::util::{lock, now_ms};

/// How long an authorization code may be exchanged.
const CODE_LIFETIME_MS: u64 = 10 * 60 * 1000;

struct Code {
    redirect_uri: String,
    expires_at_ms: u64,
}

struct Access {
    grant: u64,
    expires_at_ms: u64,
}

struct Refresh {
    grant: u64,
    used: bool,
}

#[derive(Default)]
struct Inner {
    config: OAuthConfig,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    active: BTreeSet<u64>,
    next_grant: u64,
    stats: OAuthStats,
}

/// The application: its credentials, grants and tokens, and the token endpoint's counters.
pub(crate) struct OAuthApp {
    client_id: String,
    client_secret: String,
    inner: Mutex<Inner>,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// One `/oauth/token` request in flight; leaving (even by being dropped) counts it out.
pub(crate) struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl OAuthApp {
    pub(crate) fn new(client_id: String, client_secret: String, config: OAuthConfig) -> Self {
        let inner = Inner { config, ..Inner::default() };
        Self { client_id, client_secret, inner: Mutex::new(inner), in_flight: 0.into(), max_in_flight: 0.into() }
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn config(&self) -> OAuthConfig {
        lock(&self.inner).config
    }

    pub(crate) fn patch(&self, p: OAuthPatch) -> OAuthConfig {
        let mut inner = lock(&self.inner);
        let c = &mut inner.config;
        c.deny = p.deny.unwrap_or(c.deny);
        c.token_lifetime_secs = p.token_lifetime_secs.unwrap_or(c.token_lifetime_secs);
        c.token_delay_ms = p.token_delay_ms.unwrap_or(c.token_delay_ms);
        c.token_fault = p.token_fault.unwrap_or(c.token_fault);
        *c
    }

    pub(crate) fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(&self.in_flight)
    }

    /// `GET /oauth/authorize`: the `Location` to send the browser to.
    pub(crate) fn authorize(
        &self,
        response_type: Option<&str>,
        client_id: Option<&str>,
        redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<String, OAuthError> {
        if client_id != Some(self.client_id.as_str()) {
            return Err(OAuthError::InvalidClient);
        }
        if response_type != Some("code") {
            return Err(OAuthError::UnsupportedResponseType);
        }
        let raw = redirect_uri.ok_or(OAuthError::InvalidRequest("redirect_uri is missing"))?;
        let mut location =
            url::Url::parse(raw).map_err(|_| OAuthError::InvalidRequest("redirect_uri is not an absolute URL"))?;
        let mut inner = lock(&self.inner);
        let now = now_ms();
        inner.codes.retain(|_, c| c.expires_at_ms > now);
        let mut pairs = location.query_pairs_mut();
        if inner.config.deny {
            pairs.append_pair("error", "access_denied");
        } else {
            let code = random_token();
            inner
                .codes
                .insert(code.clone(), Code { redirect_uri: raw.to_owned(), expires_at_ms: now + CODE_LIFETIME_MS });
            pairs.append_pair("code", &code);
        }
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
        drop(pairs);
        Ok(location.into())
    }

    /// `POST /oauth/token`: checks the client, then runs the grant.
    pub(crate) fn token(&self, req: &TokenRequest) -> Result<Issued, OAuthError> {
        let id_ok = req.client_id.as_deref() == Some(self.client_id.as_str());
        let secret = req.client_secret.as_deref().unwrap_or_default();
        if !id_ok || !bool::from(secret.as_bytes().ct_eq(self.client_secret.as_bytes())) {
            return Err(OAuthError::InvalidClient);
        }
        match req.grant_type.as_deref() {
            Some("authorization_code") => self.exchange(req),
            Some("refresh_token") => self.refresh(req),
            Some(_) => Err(OAuthError::UnsupportedGrantType),
            None => Err(OAuthError::InvalidRequest("grant_type is missing")),
        }
    }

    fn exchange(&self, req: &TokenRequest) -> Result<Issued, OAuthError> {
        let code = req.code.as_deref().ok_or(OAuthError::InvalidRequest("code is missing"))?;
        let mut inner = lock(&self.inner);
        let valid = inner.codes.get(code).is_some_and(|c| {
            c.expires_at_ms > now_ms() && req.redirect_uri.as_deref() == Some(c.redirect_uri.as_str())
        });
        if !valid {
            return Err(OAuthError::InvalidGrant);
        }
        inner.codes.remove(code);
        inner.next_grant += 1;
        let grant = inner.next_grant;
        inner.active.insert(grant);
        inner.stats.codes_exchanged += 1;
        Ok(inner.issue(grant))
    }

    fn refresh(&self, req: &TokenRequest) -> Result<Issued, OAuthError> {
        let presented = req.refresh_token.as_deref().ok_or(OAuthError::InvalidRequest("refresh_token is missing"))?;
        let mut inner = lock(&self.inner);
        let outcome = match inner.refresh.get(presented).map(|r| (r.grant, r.used)) {
            Some((_, true)) => {
                inner.stats.reused_refresh_tokens += 1;
                Err(OAuthError::InvalidGrant)
            }
            Some((grant, false)) if inner.active.contains(&grant) => Ok(grant),
            _ => Err(OAuthError::InvalidGrant),
        };
        let ok = outcome.is_ok();
        inner.stats.refresh_log.push(RefreshAttempt { at_ms: now_ms(), ok });
        let grant = outcome.inspect_err(|_| inner.stats.refresh_failures += 1)?;
        if let Some(r) = inner.refresh.get_mut(presented) {
            r.used = true;
        }
        inner.stats.refreshes += 1;
        Ok(inner.issue(grant))
    }

    /// The account (grant) a live access token belongs to.
    pub(crate) fn grant_of(&self, access_token: &str) -> Option<u64> {
        let inner = lock(&self.inner);
        let a = inner.access.get(access_token)?;
        (a.expires_at_ms > now_ms() && inner.active.contains(&a.grant)).then_some(a.grant)
    }

    /// Ends every grant; returns how many were active.
    pub(crate) fn revoke_all(&self) -> usize {
        let mut inner = lock(&self.inner);
        let n = inner.active.len();
        inner.active.clear();
        n
    }

    /// Makes every access token issued so far expired now; returns how many were live.
    pub(crate) fn expire_all(&self) -> usize {
        let mut inner = lock(&self.inner);
        let now = now_ms();
        let live = inner.access.values_mut().filter(|a| a.expires_at_ms > now);
        live.map(|a| a.expires_at_ms = now).count()
    }

    pub(crate) fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn stats(&self) -> OAuthStats {
        let inner = lock(&self.inner);
        OAuthStats {
            max_concurrent_token_requests: self.max_in_flight.load(Ordering::SeqCst),
            active_grants: inner.active.len() as u64,
            ..inner.stats.clone()
        }
    }
}

impl Inner {
    /// A new access and refresh token for `grant`, with the current lifetime.
    fn issue(&mut self, grant: u64) -> Issued {
        let now = now_ms();
        self.access.retain(|_, a| a.expires_at_ms > now);
        let lifetime = self.config.token_lifetime_secs;
        let (access_token, refresh_token) = (random_token(), random_token());
        let expires_at_ms = now.saturating_add(lifetime.saturating_mul(1000));
        self.access.insert(access_token.clone(), Access { grant, expires_at_ms });
        self.refresh.insert(refresh_token.clone(), Refresh { grant, used: false });
        Issued {
            access_token,
            expires_in: lifetime,
            refresh_token,
            scope: "public",
            token_type: "bearer",
            created_at: now / 1000,
        }
    }
}

#[cfg(test)]
mod tests;
