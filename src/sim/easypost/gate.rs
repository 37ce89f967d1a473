//! In front of every EasyPost API route: the API key (Basic username with an empty password,
//! or `Bearer`), its mode, inactive keys, and the optional requests-per-second limit per key.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use serde::{Deserialize, Serialize};

use super::EpShared;
use super::model::Mode;
use crate::sim::server::{credential, set_headers};
use crate::sim::util::lock;

/// The per-key request limit; off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpRateLimit {
    /// Requests per second per key (sliding one-second window); `None` = unlimited.
    pub rps_limit: Option<u32>,
    /// Send `Retry-After` with this many seconds on 429 (EasyPost documents none).
    pub retry_after_secs: Option<u64>,
}

/// Request times per key over the last second.
#[derive(Default)]
pub(crate) struct RpsLimiter {
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RpsLimiter {
    fn allow(&self, key: &str, limit: u32) -> bool {
        let mut recent = lock(&self.recent);
        let times = recent.entry(key.to_owned()).or_default();
        let now = Instant::now();
        while times.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            times.pop_front();
        }
        if times.len() >= limit as usize {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// The mode of the key that made the request (set by the gate).
pub(crate) fn mode_of(req: &HttpRequest) -> Mode {
    req.extensions().get::<Mode>().copied().unwrap_or(Mode::Test)
}

pub(crate) async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(shared) = req.app_data::<web::Data<EpShared>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let error = |status, code, message| shared.common.flavour.error(status, code, message);
    let Some(key) = credential(req.headers()).filter(|k| !k.is_empty()) else {
        return Ok(req.into_response(error(
            401,
            "APIKEY.REQUIRED",
            "No API key provided. Use HTTP Basic auth with the key as username.",
        )));
    };
    let found = lock(&shared.keys).iter().find(|k| k.key == key).map(|k| (k.mode, k.active));
    let Some((mode, active)) = found else {
        return Ok(req.into_response(error(401, "APIKEY.INVALID", "The API key provided is invalid.")));
    };
    if !active {
        return Ok(req.into_response(error(
            403,
            "APIKEY.INACTIVE",
            "This API key is no longer active. Please use a different API key or reactivate this key.",
        )));
    }
    let limits = *lock(&shared.rate_limit);
    if let Some(limit) = limits.rps_limit
        && !shared.limiter.allow(&key, limit)
    {
        let mut resp = error(429, "RATE_LIMITED", "Too many requests; please slow down.");
        if let Some(secs) = limits.retry_after_secs {
            set_headers(resp.headers_mut(), &[("retry-after", &secs.to_string())]);
        }
        return Ok(req.into_response(resp));
    }
    req.extensions_mut().insert(mode);
    Ok(next.call(req).await?.map_into_boxed_body())
}
