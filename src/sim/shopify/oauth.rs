//! Shopify's authorization-code grant (UPSTREAMS-shopify.md §1) for the one app the simulator
//! knows, with expiring offline tokens:
//!
//! * `GET /admin/oauth/authorize?client_id&scope&redirect_uri&state&grant_options[]=` approves at
//!   once: 302 to `redirect_uri?code&hmac&host&shop&state&timestamp`, signed with [`query_hmac`]
//!   (a wrong `client_id` or no `redirect_uri` is a 400 page). Codes are single use, 10 minutes.
//! * `POST /admin/oauth/access_token` (JSON or form): `{client_id, client_secret, code,
//!   expiring:"1"}` → `{access_token, scope, expires_in, refresh_token, refresh_token_expires_in}`
//!   (without `expiring`: a non-expiring offline token, `{access_token, scope}`); a bad client
//!   or code is 400. `grant_type=refresh_token` rotates: each use issues a new pair; the
//!   presented refresh token stays valid until a newer one is used (so a replica that lost the
//!   race still refreshes once); anything else is 400 `{"error":"invalid_grant"}`.
//! * Access tokens expire after `token_lifetime_secs` (3600, as Shopify; short in tests): 401.
//!
//! The query HMAC: drop `hmac` and `signature`, sort by key, join `k=v` with `&` form-encoded
//! with spaces as `%20` (repeated keys: values joined by `,`), HMAC-SHA256 with the client
//! secret, lowercase hex.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use actix_web::{HttpRequest, HttpResponse, web};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::ShopShared;
use crate::sim::util::{Query, json as reply, lock, now_ms};

/// Token lifetimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopifyOAuthConfig {
    pub token_lifetime_secs: u64,
    pub refresh_lifetime_secs: u64,
}

impl Default for ShopifyOAuthConfig {
    fn default() -> Self {
        Self { token_lifetime_secs: 3600, refresh_lifetime_secs: 90 * 24 * 3600 }
    }
}

/// The query HMAC of §1 over `pairs` (lowercase hex).
pub fn query_hmac(secret: &str, pairs: &[(String, String)]) -> String {
    let mut joined: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in pairs.iter().filter(|(k, _)| k != "hmac" && k != "signature") {
        joined.entry(k.as_str()).or_default().push(v.as_str());
    }
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    let message =
        joined.iter().map(|(k, vs)| format!("{}={}", enc(k), enc(&vs.join(",")))).collect::<Vec<_>>().join("&");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

struct RefreshToken {
    generation: u64,
    expires_at_ms: u64,
}

#[derive(Default)]
struct Inner {
    config: ShopifyOAuthConfig,
    codes: HashMap<String, (String, u64)>,
    access: HashMap<String, u64>,
    refresh: HashMap<String, RefreshToken>,
    /// Refresh tokens older than this generation are dead (a newer one was used).
    floor: u64,
    /// The scope of the last code exchanged, answered again by refreshes.
    granted_scope: String,
    stats: OAuthStats,
}

/// Counters of the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OAuthStats {
    pub codes_exchanged: u64,
    pub refreshes: u64,
    pub invalid_grants: u64,
}

pub(crate) struct OAuth {
    client_id: String,
    client_secret: String,
    shop: String,
    inner: Mutex<Inner>,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl OAuth {
    pub(crate) fn new(client_id: String, client_secret: String, shop: String, config: ShopifyOAuthConfig) -> Self {
        Self { client_id, client_secret, shop, inner: Mutex::new(Inner { config, ..Inner::default() }) }
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn access_ok(&self, token: &str) -> bool {
        lock(&self.inner).access.get(token).is_some_and(|exp| *exp > now_ms())
    }

    pub(crate) fn stats(&self) -> OAuthStats {
        lock(&self.inner).stats
    }

    pub(crate) fn set_config(&self, config: ShopifyOAuthConfig) {
        lock(&self.inner).config = config;
    }

    /// Every access token expires now (refresh tokens keep working).
    pub(crate) fn expire_all(&self) {
        lock(&self.inner).access.values_mut().for_each(|exp| *exp = 0);
    }

    /// Every token and code ends (the app was uninstalled).
    pub(crate) fn revoke_all(&self) {
        let mut i = lock(&self.inner);
        i.access.clear();
        i.refresh.clear();
        i.codes.clear();
    }

    fn issue(&self, i: &mut Inner, scope: &str, expiring: bool, generation: u64) -> Value {
        let access = format!("shpua_{}", random());
        let life = i.config.token_lifetime_secs;
        let now = now_ms();
        i.access.insert(access.clone(), if expiring { now + life * 1000 } else { u64::MAX });
        if !expiring {
            return json!({"access_token": access, "scope": scope});
        }
        let refresh = format!("shprt_{}", random());
        let refresh_life = i.config.refresh_lifetime_secs;
        i.refresh.insert(refresh.clone(), RefreshToken { generation, expires_at_ms: now + refresh_life * 1000 });
        json!({"access_token": access, "scope": scope, "expires_in": life, "refresh_token": refresh,
            "refresh_token_expires_in": refresh_life})
    }

    fn client_ok(&self, id: &str, secret: &str) -> bool {
        id == self.client_id && bool::from(secret.as_bytes().ct_eq(self.client_secret.as_bytes()))
    }

    fn token(&self, body: &HashMap<String, Value>) -> (u16, Value) {
        let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        if !self.client_ok(&field("client_id"), &field("client_secret")) {
            return (400, json!({"error": "invalid_client", "error_description": "Client credentials are invalid"}));
        }
        let mut i = lock(&self.inner);
        if field("grant_type") == "refresh_token" {
            let now = now_ms();
            let floor = i.floor;
            let presented =
                i.refresh.get(&field("refresh_token")).filter(|r| r.generation >= floor && r.expires_at_ms > now);
            let Some(generation) = presented.map(|r| r.generation) else {
                i.stats.invalid_grants += 1;
                return (400, json!({"error": "invalid_grant"}));
            };
            i.floor = i.floor.max(generation);
            i.stats.refreshes += 1;
            let scope = i.granted_scope.clone();
            return (200, self.issue(&mut i, &scope, true, generation + 1));
        }
        let code = field("code");
        let Some((scope, expires)) = i.codes.remove(&code) else {
            return (
                400,
                json!({"error": "invalid_request", "error_description": "The authorization code was not found or was already used"}),
            );
        };
        if expires < now_ms() {
            return (
                400,
                json!({"error": "invalid_request", "error_description": "The authorization code has expired"}),
            );
        }
        i.stats.codes_exchanged += 1;
        i.granted_scope = scope.clone();
        let floor = i.floor;
        (200, self.issue(&mut i, &scope, field("expiring") == "1", floor))
    }
}

async fn authorize(shared: web::Data<ShopShared>, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let oauth = &shared.oauth;
    let (Some(redirect), true) = (q.get("redirect_uri"), q.get("client_id") == Some(oauth.client_id.as_str())) else {
        return HttpResponse::BadRequest().content_type("text/html").body("<h1>Oauth error invalid_request</h1>");
    };
    let code = random();
    lock(&oauth.inner).codes.insert(code.clone(), (q.get("scope").unwrap_or_default().to_owned(), now_ms() + 600_000));
    let host =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD_NO_PAD, format!("{}/admin", oauth.shop));
    let mut pairs = vec![
        ("code".to_owned(), code),
        ("host".to_owned(), host),
        ("shop".to_owned(), oauth.shop.clone()),
        ("state".to_owned(), q.get("state").unwrap_or_default().to_owned()),
        ("timestamp".to_owned(), (now_ms() / 1000).to_string()),
    ];
    let hmac = query_hmac(&oauth.client_secret, &pairs);
    pairs.push(("hmac".to_owned(), hmac));
    let Ok(mut location) = url::Url::parse(redirect) else {
        return HttpResponse::BadRequest()
            .content_type("text/html")
            .body("<h1>Oauth error invalid_request: redirect_uri</h1>");
    };
    location.query_pairs_mut().extend_pairs(&pairs);
    HttpResponse::Found().insert_header(("location", location.to_string())).finish()
}

async fn access_token(shared: web::Data<ShopShared>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let parsed: Option<HashMap<String, Value>> = if form {
        Some(url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect())
    } else {
        serde_json::from_slice(&body).ok()
    };
    let Some(parsed) = parsed else {
        return reply(400, &json!({"error": "invalid_request", "error_description": "The request body is not valid"}));
    };
    let (status, answer) = shared.oauth.token(&parsed);
    reply(status, &answer)
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/oauth/authorize", web::get().to(authorize))
        .route("/admin/oauth/access_token", web::post().to(access_token));
}
