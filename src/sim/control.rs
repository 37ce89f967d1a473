//! Control routes both simulators share: the request record, faults and delivery switches.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::delivery::{Deliverer, DeliverySwitches};
use super::faults::FaultConfig;
use super::server::Common;
use super::util::{Query, json as reply};

/// The parts of a simulator the shared control routes need.
pub(crate) trait SimParts: Send + Sync + 'static {
    fn common(&self) -> &Common;
    fn deliverer(&self) -> &Arc<Deliverer>;
}

impl SimParts for super::tradegecko::TgShared {
    fn common(&self) -> &Common {
        &self.common
    }
    fn deliverer(&self) -> &Arc<Deliverer> {
        &self.deliverer
    }
}

async fn requests<T: SimParts>(sim: web::Data<T>) -> HttpResponse {
    reply(200, &json!({"requests": sim.common().recorder.entries()}))
}

async fn clear<T: SimParts>(sim: web::Data<T>) -> HttpResponse {
    sim.common().recorder.clear();
    HttpResponse::NoContent().finish()
}

async fn counts<T: SimParts>(sim: web::Data<T>) -> HttpResponse {
    reply(200, &json!({"counts": sim.common().recorder.counts()}))
}

/// `?token=…&window_ms=…`: call times of one token and the densest sliding window.
async fn calls<T: SimParts>(sim: web::Data<T>, req: HttpRequest) -> HttpResponse {
    let q = Query::parse(req.query_string());
    let token = q.get("token").unwrap_or_default();
    let window = q.get("window_ms").and_then(|w| w.parse().ok()).unwrap_or(1000);
    let recorder = &sim.common().recorder;
    reply(
        200,
        &json!({"times_ms": recorder.call_times(token), "window_ms": window, "max_in_window": recorder.max_calls_in_window(token, window)}),
    )
}

async fn faults<T: SimParts>(sim: web::Data<T>, body: Option<web::Json<FaultConfig>>) -> HttpResponse {
    if let Some(config) = body {
        sim.common().faults.set(config.into_inner());
    }
    reply(200, &sim.common().faults.config())
}

async fn clear_faults<T: SimParts>(sim: web::Data<T>) -> HttpResponse {
    sim.common().faults.clear();
    reply(200, &sim.common().faults.config())
}

async fn deliveries<T: SimParts>(sim: web::Data<T>) -> HttpResponse {
    let d = sim.deliverer();
    reply(200, &json!({"switches": d.switches(), "in_flight": d.in_flight(), "attempts": d.log()}))
}

async fn set_deliveries<T: SimParts>(sim: web::Data<T>, body: web::Json<DeliverySwitches>) -> HttpResponse {
    sim.deliverer().set_switches(body.into_inner());
    reply(200, &sim.deliverer().switches())
}

/// Adds the shared routes to a `/_sim` scope.
pub(crate) fn common_routes<T: SimParts>(cfg: &mut web::ServiceConfig) {
    use actix_web::web::{delete, get, put};
    cfg.route("/requests", get().to(requests::<T>))
        .route("/requests", delete().to(clear::<T>))
        .route("/requests/counts", get().to(counts::<T>))
        .route("/calls", get().to(calls::<T>))
        .route("/faults", get().to(faults::<T>))
        .route("/faults", put().to(faults::<T>))
        .route("/faults", delete().to(clear_faults::<T>))
        .route("/deliveries", get().to(deliveries::<T>))
        .route("/deliveries", put().to(set_deliveries::<T>));
}

impl SimParts for super::easypost::EpShared {
    fn common(&self) -> &Common {
        &self.common
    }
    fn deliverer(&self) -> &Arc<Deliverer> {
        &self.deliverer
    }
}
