//! Admin view of the queue: depths, dead letters, redrive. Times are RFC 3339 UTC strings.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, SecondsFormat};
use serde::Deserialize;
use serde_json::json;

use super::admin::Principal;
use super::{ApiError, AppState};
use crate::store::DeadLetter;

/// `GET /admin/queues`: jobs per state.
#[get("/admin/queues")]
pub async fn depths(p: Principal, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    p.operator_only()?;
    let d = state.ops.queue_depths().await?;
    Ok(HttpResponse::Ok().json(json!({"due": d.due, "inflight": d.inflight, "hold": d.hold, "dead": d.dead})))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
}

/// `GET /admin/dead-letters?limit=N`: the most recently dead jobs first.
#[get("/admin/dead-letters")]
pub async fn dead_letters(
    p: Principal,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    p.operator_only()?;
    let letters = state.ops.dead_letters(query.limit).await?;
    let jobs: Vec<_> = letters.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(json!({"jobs": jobs})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedriveRequest {
    limit: usize,
}

/// `POST /admin/dead-letters/redrive` with `{"limit": N}`: the N oldest dead jobs back to due.
#[post("/admin/dead-letters/redrive")]
pub async fn redrive(
    p: Principal,
    state: web::Data<AppState>,
    body: web::Json<RedriveRequest>,
) -> Result<HttpResponse, ApiError> {
    p.operator_only()?;
    let redriven = state.ops.redrive(body.limit).await?;
    Ok(HttpResponse::Ok().json(json!({"redriven": redriven})))
}

fn view(l: &DeadLetter) -> serde_json::Value {
    json!({
        "id": l.id,
        "kind": l.kind,
        "attempts": l.attempts,
        "last_error": l.last_error,
        "died_at": rfc3339(l.died_at),
    })
}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)).unwrap_or_default()
}
