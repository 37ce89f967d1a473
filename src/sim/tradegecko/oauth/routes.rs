//! The OAuth routes of the TradeGecko simulator — `GET /oauth/authorize`, `POST /oauth/token` —
//! and their controls under `/_sim/oauth` (see [`oauth`](super) for the protocol).
//!
//! The token endpoint takes a JSON body (the docs' curl) or a form body (the OAuth libraries),
//! with the client's credentials in the body or as HTTP Basic auth. Each request counts as in
//! flight from entry to exit, the configured delay included; the configured fault replaces the
//! answer only after the work is done, so a 500 or a hang means "rotated, reply lost". A hung
//! request counts out when the hang begins: actix does not drop a handler whose client went
//! away, so it would otherwise count as in flight for the whole hour, and every later request
//! would look concurrent with it.

use std::time::Duration;

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use base64::Engine;
use bytes::Bytes;
use serde_json::json;

use super::wire::{OAuthConfig, OAuthError, OAuthPatch, OAuthStats, TokenFault, TokenRequest};
use crate::sim::tradegecko::{TgShared, TradegeckoSim};
use crate::sim::util::{Query, json as reply};

type Shared = web::Data<TgShared>;

/// How long a `hang` fault holds the answer: longer than any sane client timeout.
const HANG: Duration = Duration::from_secs(3600);

fn refused(e: OAuthError) -> HttpResponse {
    reply(e.status(), &e.body())
}

/// Authorize refuses with 400 whatever the reason (its `invalid_client` too).
fn bad_authorize(e: OAuthError) -> HttpResponse {
    reply(400, &e.body())
}

async fn authorize(shared: Shared, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    match shared.oauth.authorize(q.get("response_type"), q.get("client_id"), q.get("redirect_uri"), q.get("state")) {
        Ok(location) => HttpResponse::Found().insert_header((LOCATION, location)).finish(),
        Err(e) => bad_authorize(e),
    }
}

/// The request's fields from a JSON or form body, completed by HTTP Basic client credentials.
/// A body is JSON when its content type says so or it starts with `{` (a curl without `-H`).
fn parse(req: &HttpRequest, body: &[u8]) -> Result<TokenRequest, OAuthError> {
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let json = content_type.contains("json") || body.trim_ascii_start().starts_with(b"{");
    let mut fields: TokenRequest = if json {
        serde_json::from_slice(body).map_err(|_| OAuthError::InvalidRequest("the JSON body is malformed"))?
    } else {
        serde_urlencoded::from_bytes(body).map_err(|_| OAuthError::InvalidRequest("the form body is malformed"))?
    };
    if fields.client_id.is_none()
        && let Some((id, secret)) = basic_auth(req)
    {
        fields.client_id = Some(id);
        fields.client_secret = Some(secret);
    }
    Ok(fields)
}

fn basic_auth(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(shared: Shared, req: HttpRequest, body: Bytes) -> HttpResponse {
    let app = &shared.oauth;
    let in_flight = app.enter();
    let delay = app.config().token_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let answer = match parse(&req, &body).and_then(|fields| app.token(&fields)) {
        Ok(issued) => reply(200, &issued),
        Err(e) => refused(e),
    };
    match app.config().token_fault {
        TokenFault::None => answer,
        TokenFault::Error => shared.common.flavour.error(500, "InternalServerError", "Something went wrong"),
        TokenFault::Hang => {
            drop(in_flight);
            tokio::time::sleep(HANG).await;
            answer
        }
    }
}

/// `/oauth/…`, outside the API gate (no bearer token, no rate limit).
pub(crate) fn scope() -> Scope {
    use actix_web::web::{get, post};
    web::scope("/oauth").route("/authorize", get().to(authorize)).route("/token", post().to(token))
}

async fn get_config(shared: Shared) -> HttpResponse {
    reply(200, &shared.oauth.config())
}

async fn put_config(shared: Shared, patch: web::Json<OAuthPatch>) -> HttpResponse {
    reply(200, &shared.oauth.patch(patch.into_inner()))
}

async fn revoke(shared: Shared) -> HttpResponse {
    reply(200, &json!({"revoked": shared.oauth.revoke_all()}))
}

async fn expire(shared: Shared) -> HttpResponse {
    reply(200, &json!({"expired": shared.oauth.expire_all()}))
}

async fn stats(shared: Shared) -> HttpResponse {
    reply(200, &shared.oauth.stats())
}

/// `/_sim/oauth…` (added to the `/_sim` scope).
pub(crate) fn control(cfg: &mut web::ServiceConfig) {
    use actix_web::web::{get, post, put};
    cfg.route("/oauth", get().to(get_config))
        .route("/oauth", put().to(put_config))
        .route("/oauth/revoke", post().to(revoke))
        .route("/oauth/expire", post().to(expire))
        .route("/oauth/stats", get().to(stats));
}

impl TradegeckoSim {
    /// The OAuth application's client id.
    pub fn client_id(&self) -> &str {
        self.shared.oauth.client_id()
    }

    /// The URL a merchant's browser is sent to (cartgate's `authorize_url` for this sim).
    pub fn authorize_url(&self) -> String {
        format!("{}/oauth/authorize", self.url())
    }

    pub fn oauth_config(&self) -> OAuthConfig {
        self.shared.oauth.config()
    }

    /// Changes the given OAuth switches; returns the result.
    pub fn set_oauth(&self, patch: OAuthPatch) -> OAuthConfig {
        self.shared.oauth.patch(patch)
    }

    /// Revokes every grant; returns how many were active.
    pub fn revoke_grants(&self) -> usize {
        self.shared.oauth.revoke_all()
    }

    /// Makes every access token expired now; returns how many were live.
    pub fn expire_access_tokens(&self) -> usize {
        self.shared.oauth.expire_all()
    }

    pub fn oauth_stats(&self) -> OAuthStats {
        self.shared.oauth.stats()
    }

    /// `/oauth/token` requests being answered now (one whose client gave up has left).
    pub fn token_requests_in_flight(&self) -> u64 {
        self.shared.oauth.in_flight()
    }
}
