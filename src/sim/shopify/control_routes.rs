//! The `/_sim/…` HTTP routes of the Shopify simulator (JSON; no auth, no faults, not recorded).

use actix_web::{HttpResponse, Scope, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ShopShared;
use super::control::{ComplianceRequest, NewVariant, ShopOrderPatch};
use super::cost::BucketConfig;
use super::nodes;
use super::state::{NewShopOrder, ShopError};
use crate::sim::control::{SimParts, common_routes};
use crate::sim::delivery::Deliverer;
use crate::sim::server::Common;
use crate::sim::util::{json as reply, lock};

type Shared = web::Data<ShopShared>;

impl SimParts for ShopShared {
    fn common(&self) -> &Common {
        &self.common
    }
    fn deliverer(&self) -> &std::sync::Arc<Deliverer> {
        &self.deliverer
    }
}

fn result(r: Result<Value, ShopError>) -> HttpResponse {
    match r {
        Ok(v) => reply(200, &v),
        Err(e @ ShopError::NotFound(_)) => reply(404, &json!({"error": e.to_string()})),
        Err(e) => reply(422, &json!({"error": e.to_string()})),
    }
}

async fn post_order(shared: Shared, spec: web::Json<NewShopOrder>) -> HttpResponse {
    let arc = shared.into_inner();
    result(arc.create_order(spec.into_inner()).map(|id| arc.order_detail(id).unwrap_or(Value::Null)))
}

async fn patch_order(shared: Shared, id: web::Path<u64>, patch: web::Json<ShopOrderPatch>) -> HttpResponse {
    let arc = shared.into_inner();
    result(arc.edit_order(*id, patch.into_inner()).map(|()| arc.order_detail(*id).unwrap_or(Value::Null)))
}

async fn cancel_order(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    let arc = shared.into_inner();
    result(arc.cancel_order(*id).map(|()| arc.order_detail(*id).unwrap_or(Value::Null)))
}

async fn get_order(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    result(shared.order_detail(*id).ok_or_else(|| ShopError::NotFound(format!("order {id}"))))
}

async fn bucket(shared: Shared, body: Option<web::Json<BucketConfig>>) -> HttpResponse {
    if let Some(config) = body {
        shared.bucket.set(config.into_inner());
    }
    reply(200, &shared.bucket.config())
}

#[derive(Deserialize)]
struct ShopStatus {
    status: Option<u16>,
}

async fn shop(shared: Shared, body: web::Json<ShopStatus>) -> HttpResponse {
    let status = body.status.filter(|s| *s == 402 || *s == 423);
    shared.shop_status.store(status.map_or(0, u32::from), std::sync::atomic::Ordering::Relaxed);
    reply(200, &json!({ "status": status }))
}

#[derive(Deserialize)]
struct Webhooks {
    delay_ms: u64,
}

async fn webhooks(shared: Shared, body: Option<web::Json<Webhooks>>) -> HttpResponse {
    if let Some(b) = body {
        shared.webhook_delay_ms.store(b.delay_ms, std::sync::atomic::Ordering::Relaxed);
    }
    let subs: Vec<Value> = lock(&shared.state).subscriptions.values().map(nodes::subscription).collect();
    let delay = shared.webhook_delay_ms.load(std::sync::atomic::Ordering::Relaxed);
    reply(200, &json!({"subscriptions": subs, "delay_ms": delay}))
}

async fn compliance(shared: Shared, body: web::Json<ComplianceRequest>) -> HttpResponse {
    result(shared.into_inner().compliance(&body))
}

async fn uninstall(shared: Shared) -> HttpResponse {
    shared.into_inner().uninstall();
    reply(200, &json!({"uninstalled": true}))
}

/// The `/_sim` scope.
pub(crate) fn scope() -> Scope {
    use actix_web::web::{get, patch, post, put};
    web::scope("/_sim")
        .route("/variants", post().to(|s: Shared, v: web::Json<NewVariant>| async move { result(s.add_variant(&v)) }))
        .route("/orders", post().to(post_order))
        .route("/orders/{id}", get().to(get_order))
        .route("/orders/{id}", patch().to(patch_order))
        .route("/orders/{id}/cancel", post().to(cancel_order))
        .route("/levels", get().to(|s: Shared| async move { reply(200, &json!({"levels": s.levels()})) }))
        .route(
            "/adjustments",
            get().to(|s: Shared| async move { reply(200, &json!({"adjustments": lock(&s.state).adjustments})) }),
        )
        .route("/bucket", get().to(bucket))
        .route("/bucket", put().to(bucket))
        .route(
            "/throttled",
            get().to(|s: Shared| async move {
                let at = s.bucket.throttled();
                reply(200, &json!({"throttled": at.len(), "at_ms": at}))
            }),
        )
        .route("/shop", put().to(shop))
        .route("/webhooks", get().to(webhooks))
        .route("/webhooks", put().to(webhooks))
        .route("/compliance", post().to(compliance))
        .route("/uninstall", post().to(uninstall))
        .route(
            "/install",
            post().to(|s: Shared| async move {
                s.uninstalled.store(false, std::sync::atomic::Ordering::Relaxed);
                reply(200, &json!({"uninstalled": false}))
            }),
        )
        .route(
            "/oauth/expire",
            post().to(|s: Shared| async move {
                s.oauth.expire_all();
                HttpResponse::NoContent().finish()
            }),
        )
        .route("/oauth/stats", get().to(|s: Shared| async move { reply(200, &s.oauth.stats()) }))
        .configure(common_routes::<ShopShared>)
}
