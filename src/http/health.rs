//! Liveness, readiness and metrics.
//!
//! Liveness (`/healthz`) does no I/O: it only says the process answers. Readiness (`/readyz`)
//! says whether this replica should receive traffic: the store answers within a short timeout,
//! the workers' claim loop is alive, and the replica is not shutting down. On a Redis Cluster
//! the store's answer is `CLUSTER INFO` saying `cluster_state:ok` and the primary of every
//! queue partition's slot answering (`RedisStore`'s ping), so a replica whose slots are not
//! served leaves the load balancer until they are.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use super::AppState;

/// How long the store may take to answer a readiness ping.
const STORE_PING_TIMEOUT: Duration = Duration::from_millis(1000);

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut failures = Vec::new();
    let store = match tokio::time::timeout(STORE_PING_TIMEOUT, state.queue().ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("unreachable: {e}"),
        Err(_) => format!("no answer within {} ms", STORE_PING_TIMEOUT.as_millis()),
    };
    if store != "ok" {
        failures.push(format!("store {store}"));
    }
    let lifecycle = state.readiness.check();
    if let Err(why) = &lifecycle {
        failures.push(why.to_string());
    }
    let workers = match state.readiness.check_workers() {
        Ok(status) => status.to_owned(),
        Err(why) => {
            failures.push(format!("workers {why}"));
            why.to_string()
        }
    };
    let checks = json!({
        "store": store,
        "lifecycle": lifecycle.err().map_or_else(|| "ok".to_owned(), |why| why.to_string()),
        "workers": workers,
    });
    if failures.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ready", "checks": checks}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({
            "error": {"code": "not_ready", "message": failures.join("; ")},
            "checks": checks,
        }))
    }
}

#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render())
}
