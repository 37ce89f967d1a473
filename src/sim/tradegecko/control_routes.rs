//! The `/_sim/…` HTTP routes of the TradeGecko simulator (JSON; no auth, no faults, not recorded).

use actix_web::{HttpRequest, HttpResponse, Scope, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::control::OrderPatch;
use super::events::emit;
use super::model::OrderStatus;
use super::state::{NewOrder, TgError};
use super::{RateLimitConfig, TgShared};
use crate::sim::util::{Query, json as reply, lock};

type Shared = web::Data<TgShared>;

fn result(r: Result<Value, TgError>) -> HttpResponse {
    r.map_or_else(|e| e.response(), |v| reply(200, &v))
}

async fn post_order(shared: Shared, spec: web::Json<NewOrder>) -> HttpResponse {
    let arc = shared.clone().into_inner();
    result(arc.create_order(spec.into_inner()).map(|id| arc.order_detail(id).unwrap_or(Value::Null)))
}

#[derive(Deserialize)]
struct Bulk {
    count: usize,
    #[serde(default)]
    template: NewOrder,
}

async fn post_bulk(shared: Shared, bulk: web::Json<Bulk>) -> HttpResponse {
    let arc = shared.clone().into_inner();
    let ids: Result<Vec<u64>, TgError> =
        (0..bulk.count).map(|_| arc.create_order(NewOrder { order_number: None, ..bulk.template.clone() })).collect();
    result(ids.map(|ids| json!({ "ids": ids })))
}

async fn order_action(shared: Shared, path: web::Path<(u64, String)>) -> HttpResponse {
    let arc = shared.clone().into_inner();
    let (id, action) = path.into_inner();
    let done = match action.as_str() {
        "finalize" => arc.set_status(id, OrderStatus::Finalized),
        "void" => arc.set_status(id, OrderStatus::Void),
        "fulfil" | "fulfill" => arc.fulfil(id).map(|_| ()),
        other => return reply(404, &json!({"error": format!("unknown action {other}")})),
    };
    result(done.map(|()| arc.order_detail(id).unwrap_or(Value::Null)))
}

async fn patch_order(shared: Shared, id: web::Path<u64>, patch: web::Json<OrderPatch>) -> HttpResponse {
    result(shared.patch(*id, patch.into_inner()).map(|()| shared.order_detail(*id).unwrap_or(Value::Null)))
}

async fn get_order(shared: Shared, id: web::Path<u64>) -> HttpResponse {
    result(shared.order_detail(*id).ok_or_else(|| TgError::not_found("Order", *id)))
}

#[derive(Deserialize)]
struct Notify {
    event: String,
    object_id: u64,
}

async fn notify(shared: Shared, n: web::Json<Notify>) -> HttpResponse {
    emit(&shared.clone().into_inner(), &n.event, n.object_id);
    reply(202, &json!({"sent": n.event}))
}

#[derive(Deserialize)]
struct AddVariant {
    sku: String,
    upc: Option<String>,
    title: Option<String>,
    #[serde(default)]
    stock: i64,
}

async fn add_variant(shared: Shared, v: web::Json<AddVariant>) -> HttpResponse {
    let mut s = lock(&shared.state);
    let id = s.add_variant(&v.sku, v.upc.as_deref(), v.title.as_deref().unwrap_or(&v.sku));
    let loc = s.first_location();
    s.stock.insert((id, loc), v.stock);
    reply(201, &json!({"variant": s.variant_json(id)}))
}

async fn fulfillments(shared: Shared, req: HttpRequest) -> HttpResponse {
    let order = Query::parse(req.query_string()).get("order_id").and_then(|v| v.parse().ok());
    reply(200, &json!({"fulfillments": shared.fulfillments_of(order)}))
}

async fn rate_limit(shared: Shared, body: Option<web::Json<RateLimitConfig>>) -> HttpResponse {
    if let Some(config) = body {
        shared.set_rate_limit(config.into_inner());
    }
    reply(200, &shared.limiter.config())
}

#[derive(Deserialize)]
struct Subscription {
    lapsed: bool,
}

async fn subscription(shared: Shared, body: web::Json<Subscription>) -> HttpResponse {
    shared.lapsed.store(body.lapsed, std::sync::atomic::Ordering::Relaxed);
    reply(200, &json!({"lapsed": body.lapsed}))
}

/// The `/_sim` scope.
pub(crate) fn scope() -> Scope {
    use actix_web::web::{get, patch, post, put};
    web::scope("/_sim")
        .route("/orders", post().to(post_order))
        .route("/orders/bulk", post().to(post_bulk))
        .route("/orders/{id}", get().to(get_order))
        .route("/orders/{id}", patch().to(patch_order))
        .route("/orders/{id}/{action}", post().to(order_action))
        .route("/notify", post().to(notify))
        .route("/variants", post().to(add_variant))
        .route("/stock", get().to(|s: Shared| async move { reply(200, &json!({"variants": s.stock_table()})) }))
        .route("/fulfillments", get().to(fulfillments))
        .route(
            "/stock_adjustments",
            get().to(|s: Shared| async move { reply(200, &json!({"stock_adjustments": s.adjustments()})) }),
        )
        .route("/rate_limit", get().to(rate_limit))
        .route("/rate_limit", put().to(rate_limit))
        .route("/subscription", put().to(subscription))
        .configure(super::oauth::control)
        .configure(crate::sim::control::common_routes::<TgShared>)
}
