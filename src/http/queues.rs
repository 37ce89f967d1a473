//! Admin view of the queue: depths, dead letters, redrive. Times are RFC 3339 UTC strings.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, SecondsFormat};
use serde::Deserialize;
use serde_json::json;

use super::ApiError;
use super::admin::Admin;
use crate::startup::AppState;

/// Dead letters listed when no `limit` is given, and the most one request may ask for.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIST: usize = 1_000;
/// The most dead letters one redrive moves (it is a snapshot, never "until empty").
const MAX_REDRIVE: usize = 10_000;

/// `GET /admin/queues`: jobs per state.
#[get("/admin/queues")]
pub async fn depths(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let d = state.store.jobs().depths().await?;
    Ok(HttpResponse::Ok().json(json!({"due": d.due, "inflight": d.inflight, "hold": d.hold, "dead": d.dead})))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
}

/// `GET /admin/dead-letters?limit=N`: the most recently dead jobs first.
#[get("/admin/dead-letters")]
pub async fn dead_letters(
    _: Admin,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIST {
        return Err(ApiError::BadRequest(format!("limit must be at most {MAX_LIST}")));
    }
    let letters = state.store.jobs().dead_letters(limit).await?;
    let jobs: Vec<_> = letters
        .into_iter()
        .map(|l| {
            json!({
                "id": l.id,
                "kind": l.kind,
                "attempts": l.attempts,
                "last_error": l.last_error,
                "died_at": rfc3339(l.died_at),
            })
        })
        .collect();
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
    _: Admin,
    state: web::Data<AppState>,
    body: web::Json<RedriveRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.limit > MAX_REDRIVE {
        return Err(ApiError::BadRequest(format!("limit must be at most {MAX_REDRIVE}")));
    }
    let redriven = state.store.jobs().redrive(body.limit).await?;
    Ok(HttpResponse::Ok().json(json!({"redriven": redriven})))
}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)).unwrap_or_default()
}
