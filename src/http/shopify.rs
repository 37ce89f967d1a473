//! Shopify's webhook receivers `POST /webhooks/shopify/{cart}` (the subscriptions cartgate makes
//! per shop) and `POST /webhooks/shopify` (the app's compliance address): verify, dedupe, enqueue, answer
//! well within Shopify's 5 s (it retries 8 times over 4 h, then deletes the subscription).
//!
//! Order of checks (the shared steps are `super::webhooks`'s): unknown cart, or a cart that is
//! not a Shopify cart (404; 503 while its merchant is unusable); content type (415); body size
//! while reading (413); `X-Shopify-Hmac-Sha256` over the raw bytes against the cart's signing
//! secrets (401 — Shopify's app review requires it — reason only in the log); the signed
//! `X-Shopify-Shop-Domain` against the cart's `shop` (401: another shop's delivery); topic,
//! webhook id and body shape (400); then the topic's effect:
//!
//! | topic | effect | answer |
//! |---|---|---|
//! | `orders/create`, `orders/updated`, `orders/cancelled` | `import_order` (a cancellation takes the existing cancel path) | `accepted` / `duplicate` |
//! | `customers/redact`, `shop/redact` | `erase_personal_data` | `accepted` / `duplicate` |
//! | `app/uninstalled` | the cart disconnected and its alert raised, here (idempotent) | `accepted` |
//! | `customers/data_request` | logged: cartgate keeps no customer data beyond the orders | `accepted` |
//! | anything else | counted | `ignored` |
//!
//! Jobs are enqueued with the `X-Shopify-Webhook-Id` as dedupe key in one atomic store call,
//! and 200 is answered only after it succeeded (a store that cannot be reached gives 503).

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, post, web};

use super::webhooks::{Refusal, Verdict, answer, bad_signature, enqueue_once, read_body, secrets, unknown_cart};
use super::{ApiError, AppState};
use crate::intake::shopify::{self as parse, Compliance, Topic};
use crate::jobs::{ErasePersonalData, ErasureScope, ImportOrder, erasure_email_digest, shopify_webhook_key};
use crate::settings::{CartAuth, CartKind, CartSettings, MerchantSettings, Secret};
use crate::signature;

#[post("/webhooks/shopify/{cart_id}")]
pub async fn shopify(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let verdict = receive(&req, &path, payload, &state).await;
    answer("shopify", verdict, started)
}

async fn receive(
    req: &HttpRequest,
    cart_id: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<Verdict, Refusal> {
    let (merchant, cart) = state.tenants().cart(cart_id).ok_or_else(|| unknown_cart(state, cart_id))?;
    if cart.kind != CartKind::Shopify {
        return Err(Refusal::new("unknown_target", ApiError::not_found(format!("unknown Shopify cart `{cart_id}`"))));
    }
    let body = read_body(req, payload, state).await?;
    let header = req.headers().get("x-shopify-hmac-sha256").map(|v| v.as_bytes());
    signature::shopify_verify(secrets(signing_secrets(state, &cart)), header, &body)
        .map_err(|e| bad_signature("shopify", cart_id, e))?;
    act(req, state, &merchant, &cart, &body).await
}

/// `POST /webhooks/shopify`: the app's own address. Shopify configures the mandatory compliance
/// topics once per app (its `[webhooks]` TOML or dashboard), not per shop, so their deliveries
/// carry no cart: they are verified with `[apps.shopify]`'s secrets and routed to the Shopify
/// cart whose `shop` is `X-Shopify-Shop-Domain`. A shop no cart has (anymore) is answered
/// `ignored`: there is nothing of it to erase.
#[post("/webhooks/shopify")]
pub async fn shopify_app(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let verdict = receive_for_app(&req, payload, &state).await;
    answer("shopify", verdict, started)
}

async fn receive_for_app(req: &HttpRequest, payload: web::Payload, state: &AppState) -> Result<Verdict, Refusal> {
    let Some(app) = state.settings.apps.shopify.as_ref() else {
        return Err(Refusal::new("unknown_target", ApiError::not_found("no Shopify app is configured".to_owned())));
    };
    let body = read_body(req, payload, state).await?;
    let header = req.headers().get("x-shopify-hmac-sha256").map(|v| v.as_bytes());
    signature::shopify_verify(secrets([Some(&app.client_secret), app.client_secret_previous.as_ref()]), header, &body)
        .map_err(|e| bad_signature("shopify", "app", e))?;
    let from = header_str(req, "x-shopify-shop-domain").unwrap_or_default();
    let directory = state.tenants().now();
    let cart_id = directory.merchants().flat_map(|m| m.carts.iter()).find_map(|c| {
        let same_shop = c.shop.as_deref().is_some_and(|s| !from.is_empty() && s.eq_ignore_ascii_case(from));
        (c.kind == CartKind::Shopify && same_shop).then(|| c.id.to_string())
    });
    let Some((merchant, cart)) = cart_id.and_then(|id| state.tenants().cart(&id)) else {
        tracing::info!(shop = from, "Shopify app webhook for a shop no cart has: nothing to do");
        return Ok(Verdict::Ignored("unknown_shop"));
    };
    act(req, state, &merchant, &cart, &body).await
}

/// What a verified delivery does for its cart: the shop check, then the topic's effect.
async fn act(
    req: &HttpRequest,
    state: &AppState,
    merchant: &MerchantSettings,
    cart: &CartSettings,
    body: &[u8],
) -> Result<Verdict, Refusal> {
    let cart_id = cart.id.as_str();
    let shop = cart.shop.as_deref().unwrap_or_default();
    let from = header_str(req, "x-shopify-shop-domain").unwrap_or_default();
    if shop.is_empty() || !from.eq_ignore_ascii_case(shop) {
        tracing::warn!(cart = cart_id, "Shopify webhook refused: signed for another shop");
        return Err(Refusal::new("other_shop", ApiError::Unauthorized));
    }
    let topic = Topic::parse(header_str(req, "x-shopify-topic").ok_or_else(|| missing("X-Shopify-Topic"))?);
    let webhook_id = header_str(req, "x-shopify-webhook-id")
        .filter(|id| !id.is_empty() && id.len() <= 200)
        .ok_or_else(|| missing("X-Shopify-Webhook-Id"))?;
    let dedupe = shopify_webhook_key(&cart.id, webhook_id);
    match topic {
        t if t.imports_order() => {
            let order_id = parse::order_id(body)?;
            let job = ImportOrder { cart: cart.id.clone(), order_id, trigger: t.name().to_owned() };
            enqueue_once(state, &dedupe, job.job()).await
        }
        Topic::CustomersRedact | Topic::ShopRedact => {
            let request = compliance(body, shop)?;
            let scope = match topic {
                Topic::ShopRedact => ErasureScope::Shop,
                _ => ErasureScope::Customer {
                    customer_id: request.customer.id,
                    orders: request.orders_to_redact,
                    email_digest: request.customer.email.as_deref().map(|e| erasure_email_digest(&cart.id, e)),
                },
            };
            enqueue_once(state, &dedupe, ErasePersonalData { cart: cart.id.clone(), scope }.job()).await
        }
        Topic::CustomersDataRequest => {
            let request = compliance(body, shop)?;
            tracing::info!(
                cart = cart_id,
                customer_id = ?request.customer.id,
                orders = request.orders_requested.len(),
                "customers/data_request: cartgate keeps no customer data beyond the cart's orders"
            );
            Ok(Verdict::Accepted)
        }
        Topic::AppUninstalled => uninstalled(state, merchant, cart).await,
        other => {
            tracing::info!(cart = cart_id, topic = other.name(), "Shopify webhook accepted, no work");
            Ok(Verdict::Ignored("unknown_topic"))
        }
    }
}

/// `[apps.shopify]`'s secrets (an `oauth` cart, or a token cart without its own), else the
/// token cart's own `client_secret` and `client_secret_previous`.
fn signing_secrets<'a>(state: &'a AppState, cart: &'a CartSettings) -> [Option<&'a Secret>; 2] {
    let app = state.settings.apps.shopify.as_ref();
    match (cart.auth, cart.client_secret.as_ref()) {
        (CartAuth::Token, Some(own)) => [Some(own), cart.client_secret_previous.as_ref()],
        _ => [app.map(|a| &a.client_secret), app.and_then(|a| a.client_secret_previous.as_ref())],
    }
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn missing(header: &str) -> Refusal {
    Refusal::new("malformed", ApiError::BadRequest(format!("the {header} header is missing or invalid")))
}

/// A compliance body, refused (401, like the header check) when it names another shop.
fn compliance(body: &[u8], shop: &str) -> Result<Compliance, Refusal> {
    let request = parse::compliance(body)?;
    if request.names_other_shop(shop) {
        tracing::warn!(shop, "Shopify compliance request refused: its body names another shop");
        return Err(Refusal::new("other_shop", ApiError::Unauthorized));
    }
    Ok(request)
}

async fn uninstalled(state: &AppState, merchant: &MerchantSettings, cart: &CartSettings) -> Result<Verdict, Refusal> {
    match state.ops.deps().oauth.uninstalled(&merchant.id, cart).await {
        Ok(()) => Ok(Verdict::Accepted),
        Err(e) => {
            tracing::warn!(cart = %cart.id, error = %e, "app/uninstalled not stored: store unavailable");
            let error = ApiError::Unavailable("the store is unavailable; deliver again later".into());
            Err(Refusal::new("store_unavailable", error))
        }
    }
}
