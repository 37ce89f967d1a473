//! OAuth Connect (issue 20): the admin route that starts it and the browser callback that
//! finishes it (`crate::oauth` has the protocol).
//!
//! | route | who | answers |
//! |---|---|---|
//! | `POST /admin/carts/{c}/connect` | operator, the merchant's token (another merchant's: 404) | 200 `{"authorize_url"}`; 409 for an `auth = "token"` cart |
//! | `GET /oauth/tradegecko/callback` | anyone (a browser redirect; the one-time `state` is the check) | 200 page "connected" or "access denied"; 400 bad/used/expired state or no code; 502 TradeGecko refused the code; 503 store |
//! | `GET /oauth/shopify/callback` | anyone (the query HMAC, timestamp and one-time `state` are the checks) | 200 page "connected"; 400 bad hmac, stale timestamp, bad or other shop, bad/used/expired state, no code; 502 Shopify refused the code; 503 store |
//!
//! Callback pages are static text (the only value shown is the stored cart id, which is
//! restricted to `A-Z a-z 0-9 - _`), never cached, and send no referrer (the URL held a code).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::json;

use super::admin::Principal;
use super::{ApiError, AppState};
use crate::oauth::{CallbackError, CallbackOutcome, CallbackQuery};
use crate::ops::audit::Write;

#[post("/admin/carts/{c}/connect")]
pub async fn connect(p: Principal, c: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let cart = p.cart(&state.ops, &c)?;
    let url = cart.connect().await?;
    state.ops.audit(cart.merchant_id(), &p.actor(), Write::new("cart.connect", c.as_str())).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"authorize_url": url.as_str()})))
}

#[get("/oauth/tradegecko/callback")]
pub async fn callback(q: web::Query<CallbackQuery>, state: web::Data<AppState>) -> HttpResponse {
    let outcome = crate::oauth::callback(&state.ops.deps().oauth, &q).await;
    finish("TradeGecko", outcome, &state).await
}

/// Shopify's callback reads its raw query: the HMAC covers the pairs as sent.
#[get("/oauth/shopify/callback")]
pub async fn shopify_callback(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let outcome = crate::oauth::shopify::callback(&state.ops.deps().oauth, req.query_string()).await;
    finish("Shopify", outcome, &state).await
}

/// The page for a callback's outcome (`platform`: the name people see).
async fn finish(platform: &str, outcome: Result<CallbackOutcome, CallbackError>, state: &AppState) -> HttpResponse {
    match outcome {
        Ok(CallbackOutcome::Connected { cart }) => {
            if let Ok(ops) = state.ops.cart(&cart)
                && let Err(e) = ops.after_connect().await
            {
                tracing::warn!(error = %e, "cannot run the cart's jobs now; they run at their next look");
            }
            page(
                StatusCode::OK,
                &format!("{platform} connected"),
                &format!("Cart {cart} is connected to {platform}. You can close this window."),
            )
        }
        Ok(CallbackOutcome::Denied) => page(
            StatusCode::OK,
            "Access denied",
            &format!("Access was denied in {platform}: nothing was changed. Start Connect again to grant access."),
        ),
        Err(e @ (CallbackError::BadRequest(_) | CallbackError::CartGone)) => {
            tracing::info!(error = %e, "OAuth callback refused");
            let text = match e {
                CallbackError::BadRequest(why) => format!("This link cannot be used: {why}. Start Connect again."),
                _ => "This link cannot be used: the cart is no longer an OAuth cart.".to_owned(),
            };
            page(StatusCode::BAD_REQUEST, "Connection not completed", &text)
        }
        Err(CallbackError::Exchange(why)) => {
            tracing::warn!(error = %why, "OAuth code exchange failed");
            page(
                StatusCode::BAD_GATEWAY,
                "Connection not completed",
                &format!("{platform} did not complete the connection. Start Connect again."),
            )
        }
        Err(CallbackError::Store(e)) => {
            tracing::warn!(error = %e, "OAuth callback: store unavailable");
            page(StatusCode::SERVICE_UNAVAILABLE, "Connection not completed", "Please try Connect again in a moment.")
        }
    }
}

/// A small static page; `title` and `text` are ours (see the module header).
fn page(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>\n"
    );
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .content_type(ContentType::html())
        .body(body)
}
