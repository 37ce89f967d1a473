//! The configuration structs, one per TOML table. Field docs are the reference;
//! `config/example.toml` shows every key with a comment.

use std::net::SocketAddr;

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use super::{AlertsSettings, AppsSettings, CartSettings, Interval, MerchantAlerts, Secret, StoreSettings};
use crate::domain::{CartId, MerchantId};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub workers: WorkerSettings,
    pub retry: RetrySettings,
    pub hold: HoldSettings,
    /// How long finished orders stay in the ledger.
    #[serde(default)]
    pub ledger: LedgerSettings,
    #[serde(default)]
    pub tenants: TenantSettings,
    /// The OAuth applications cartgate runs as (one per cart kind and deployment).
    #[serde(default)]
    pub apps: AppsSettings,
    /// The deployment's mail server for alerts.
    #[serde(default)]
    pub alerts: AlertsSettings,
    #[serde(default)]
    pub merchants: Vec<MerchantSettings>,
}

/// Merchants and carts managed at runtime through the admin API.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Keys that seal the secrets written through the API (each the base64 of 32 random bytes,
    /// `cartgate tenants keygen`). The first seals new secrets; every key opens (rotation).
    #[serde(default)]
    pub keys: Vec<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address the HTTP server listens on; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Where carts and EasyPost reach us, used when registering webhooks.
    pub public_url: Option<Url>,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Bearer token for `/admin/*`; without it the admin routes answer 404.
    pub admin_token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Run the workers in this replica (off: HTTP only, e.g. a dedicated intake tier).
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Jobs run at once in this replica.
    pub concurrency: usize,
    /// How long a claim is held before another replica may take the job again.
    pub lease_secs: u64,
    /// Seconds a stopping replica waits for running jobs before handing them back.
    pub drain_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    /// Delay before each retry; after the last, every last value.
    pub schedule_secs: Vec<u64>,
    /// A job failing for longer than this goes to the dead letters.
    pub give_up_after_hours: u64,
    /// Random spread applied to each delay, as a fraction (0.2 = ±20%).
    pub jitter: f64,
}

/// `[ledger]`: the order ledger's retention.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    /// Orders confirmed, canceled or skipped longer ago than this many days are removed (with
    /// their index and map entries) by the recurring `prune_ledger` job of each merchant.
    pub keep_finished_days: u32,
}

impl Default for LedgerSettings {
    fn default() -> Self {
        Self { keep_finished_days: 90 }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HoldSettings {
    /// Local time at which held orders are resent every day (`HH:MM`).
    pub release_at: ClockTime,
    /// IANA time zone of `release_at`.
    #[serde(deserialize_with = "de_tz", serialize_with = "ser_tz")]
    pub timezone: Tz,
}

/// A wall-clock time of day written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTime(pub NaiveTime);

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map(ClockTime)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a time of day like \"01:00\"")))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%H:%M"))
    }
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalendarDate(pub NaiveDate);

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(CalendarDate)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a date like \"2026-01-01\"")))
    }
}

impl Serialize for CalendarDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

impl std::fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

fn de_tz<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Tz>()
        .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a time zone known to the IANA database")))
}

fn ser_tz<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantSettings {
    pub id: MerchantId,
    pub wms: WmsSettings,
    #[serde(default)]
    pub schedule: MerchantSchedule,
    #[serde(default)]
    pub carts: Vec<CartSettings>,
    /// Who hears about this merchant's alerts.
    #[serde(default)]
    pub alerts: MerchantAlerts,
}

impl MerchantSettings {
    /// Whether `cart` is one of this merchant's carts.
    pub fn has_cart(&self, cart: &CartId) -> bool {
        self.carts.iter().any(|c| c.id == *cart)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WmsKind {
    Easypost,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WmsSettings {
    pub kind: WmsKind,
    /// The EasyPost API host; cartgate appends `/v2/…` and `/fulfillment/vendor/v2/…`.
    pub base_url: Url,
    pub production_api_key: Option<Secret>,
    pub test_api_key: Option<Secret>,
    /// Use the test key (and expect `mode: "test"` webhooks).
    #[serde(default)]
    pub test_mode: bool,
    /// Secret EasyPost signs webhooks with.
    pub webhook_secret: Option<Secret>,
    /// The previous webhook secret, accepted too while a rotation is under way.
    pub webhook_secret_previous: Option<Secret>,
    #[serde(default = "RateLimit::easypost")]
    pub rate_limit: RateLimit,
    /// Per-request timeout in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl WmsSettings {
    /// The key of the active mode.
    pub fn active_key(&self) -> Option<&Secret> {
        if self.test_mode { self.test_api_key.as_ref() } else { self.production_api_key.as_ref() }
    }

    pub fn mode(&self) -> Mode {
        if self.test_mode { Mode::Test } else { Mode::Production }
    }
}

/// EasyPost's two key modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Test,
    Production,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// At most `requests` calls in any sliding window of `per_secs` seconds, across all replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    pub per_secs: u64,
}

impl RateLimit {
    pub fn easypost() -> Self {
        Self { requests: 5, per_secs: 1 }
    }
    pub fn tradegecko() -> Self {
        Self { requests: 300, per_secs: 300 }
    }
}

fn enabled() -> bool {
    true
}

pub(super) fn default_timeout_secs() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MerchantSchedule {
    pub order_delivery: Interval,
    pub shipping_confirmations: Interval,
    pub inventory: Interval,
}

impl Default for MerchantSchedule {
    fn default() -> Self {
        Self {
            order_delivery: Interval::Auto,
            shipping_confirmations: Interval::Every(std::time::Duration::from_secs(15 * 60)),
            inventory: Interval::Every(std::time::Duration::from_secs(3600)),
        }
    }
}
