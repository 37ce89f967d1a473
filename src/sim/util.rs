//! Small helpers shared by both simulators: locking, query strings, time formats, JSON answers.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

/// Locks a mutex, ignoring poisoning: the sims' state stays usable after a panicking handler.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// TradeGecko's timestamp format: ISO-8601 UTC with milliseconds (`2013-03-28T08:02:43.377Z`).
pub(crate) fn tg_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// EasyPost's timestamp format: ISO-8601 UTC to the second (`2024-07-31T14:45:27Z`).
pub(crate) fn ep_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an ISO-8601 timestamp or a bare date (midnight UTC), as TradeGecko's filters accept.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// A JSON answer with the given status.
pub(crate) fn json(status: u16, value: &impl Serialize) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(value)
}

/// A parsed query string that keeps repeated keys (`ids[]=1&ids[]=2`), which serde_urlencoded
/// cannot express as a struct.
#[derive(Clone, Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: &str) -> Self {
        Self(url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect())
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// All values of `name[]` and `name` (comma-separated values split), in order.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        let bracketed = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == bracketed || k == name)
            .flat_map(|(_, v)| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned))
            .collect()
    }

    /// All values of `name` parsed as integer ids; `Err` names the bad value.
    pub(crate) fn ids(&self, name: &str) -> Result<Vec<u64>, String> {
        self.all(name).iter().map(|v| v.parse().map_err(|_| format!("{name}: not an id: {v}"))).collect()
    }

    /// The pairs, without any `page` parameter (for building paging links).
    pub(crate) fn without_page(&self) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| k != "page").cloned().collect()
    }
}

/// Reads a count that may arrive as a JSON number or a decimal string (`2`, `"2.0"`, `"-10"`).
/// Fractional values are refused: the sims count whole units.
pub(crate) fn whole_units(v: &serde_json::Value) -> Option<i64> {
    let f = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64)
}

/// TradeGecko's decimal-as-string rendering of a whole quantity (`"2.0"`).
pub(crate) fn decimal(n: i64) -> String {
    format!("{n}.0")
}
