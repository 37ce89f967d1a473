//! The configuration structs, one per TOML table. Field docs are the reference;
//! `config/example.toml` shows every key with a comment.

use std::net::SocketAddr;

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use super::{Interval, Secret};
use crate::domain::{AdjustmentReason, CartId, MerchantId, SkuPatterns, StockView};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub workers: WorkerSettings,
    pub retry: RetrySettings,
    pub hold: HoldSettings,
    #[serde(default)]
    pub tenants: TenantSettings,
    /// The OAuth applications cartgate runs as (one per cart kind and deployment).
    #[serde(default)]
    pub apps: AppsSettings,
    #[serde(default)]
    pub merchants: Vec<MerchantSettings>,
}

/// `[apps]`: the OAuth applications cartgate runs as.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppsSettings {
    pub tradegecko: Option<TradeGeckoApp>,
}

/// `[apps.tradegecko]`: the TradeGecko OAuth application every `auth = "oauth"` cart connects
/// through. Its client secret also signs those carts' webhooks.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TradeGeckoApp {
    pub client_id: Secret,
    pub client_secret: Secret,
    /// The previous client secret, accepted too on webhooks while a rotation is under way.
    pub client_secret_previous: Option<Secret>,
    /// Where the merchant's browser is sent to grant access.
    #[serde(default = "default_authorize_url")]
    pub authorize_url: Url,
}

/// TradeGecko's documented authorize endpoint (UPSTREAMS.md, "Authentication").
pub const TRADEGECKO_AUTHORIZE_URL: &str = "https://api.tradegecko.com/oauth/authorize";

#[allow(clippy::expect_used)] // a constant that parses (tested); read once at start-up
fn default_authorize_url() -> Url {
    Url::parse(TRADEGECKO_AUTHORIZE_URL).expect("the default authorize URL parses")
}

/// How a cart authenticates to TradeGecko.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CartAuth {
    /// A fixed (privileged) `access_token` in the settings, and the cart's own `client_secret`.
    #[default]
    Token,
    /// Connected through `[apps.tradegecko]` (`POST /admin/carts/{c}/connect`); tokens are kept
    /// sealed in the store and refreshed.
    Oauth,
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
pub struct StoreSettings {
    /// `memory://` (embedded, one instance only) or `redis://host:port/db`, `rediss://…`.
    pub url: String,
    /// Prefix of every key, so several deployments can share one Redis.
    pub prefix: String,
    /// Number of queue partitions (each a Redis Cluster hash tag).
    pub partitions: u16,
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

fn default_timeout_secs() -> u64 {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CartKind {
    Tradegecko,
}

/// Which variant field is sent to the warehouse when no alias exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemField {
    #[default]
    Sku,
    Upc,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CartSettings {
    pub id: CartId,
    pub kind: CartKind,
    /// The TradeGecko API host; webhook `resource_url`s must point here.
    pub base_url: Url,
    /// `token` (the default: `access_token` + `client_secret`) or `oauth` (`[apps.tradegecko]`).
    #[serde(default)]
    pub auth: CartAuth,
    /// The privileged access token (`auth = "token"` only).
    pub access_token: Option<Secret>,
    /// The OAuth application's client secret, which signs webhooks (`auth = "token"`; an
    /// `oauth` cart's webhooks are signed with `[apps.tradegecko].client_secret`).
    pub client_secret: Option<Secret>,
    /// The previous client secret, accepted too while a rotation is under way.
    pub client_secret_previous: Option<Secret>,
    /// The stock location orders ship from and inventory is written to.
    pub stock_location_id: Option<i64>,
    #[serde(default)]
    pub item_field: ItemField,
    #[serde(default = "RateLimit::tradegecko")]
    pub rate_limit: RateLimit,
    #[serde(default)]
    pub filters: OrderFilters,
    #[serde(default)]
    pub schedule: CartSchedule,
    /// How the warehouse's stock is written to the cart.
    #[serde(default)]
    pub inventory: CartInventory,
    /// Which warehouse service each of the cart's shipping methods goes out with.
    #[serde(default)]
    pub ship_methods: super::ShipMethods,
    /// Per-request timeout in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

/// How the warehouse's stock is written to the cart.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CartInventory {
    /// The `reason` of every stock adjustment: one of TradeGecko's documented reasons
    /// (`supplier`, `customer`, `damaged`, `shrinkage`, `promotion`, `production`).
    #[serde(default)]
    pub adjustment_reason: AdjustmentReason,
    /// Units kept back from each product's warehouse quantity before it is uploaded (never
    /// below 0), so the cart does not sell the last units the warehouse is still counting.
    /// Held orders are released early only against the stock left after it.
    #[serde(default)]
    pub reserve: u32,
    /// EasyPost warehouse ids (`wh_…`) whose quantities are summed; empty: every warehouse.
    #[serde(default)]
    pub locations: Vec<String>,
}

impl CartInventory {
    /// What of the warehouse's stock this cart sees.
    pub fn view(&self) -> StockView<'_> {
        StockView { locations: &self.locations, reserve: self.reserve }
    }
}

/// Which cart orders go to the warehouse (CartRover's defaults).
///
/// `status`, `payment_status` and `fulfillment_status` say when an order is ready: one that
/// does not match is not imported (yet). The others leave an order out for good — it is
/// recorded as `skipped` with the reason, and looked at again when it changes in the cart.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderFilters {
    pub status: Vec<String>,
    pub payment_status: Vec<String>,
    pub fulfillment_status: Vec<String>,
    /// Only orders from these TradeGecko stock locations; empty: every location.
    pub stock_location_ids: Vec<i64>,
    /// Only orders carrying at least one of these tags (case-insensitive); empty: any.
    pub tags_any: Vec<String>,
    /// No order carrying any of these tags (case-insensitive).
    pub tags_none: Vec<String>,
    /// Only orders created on or after this day (UTC); also where the first download starts.
    /// Unset: the first download reads one day back, and that day is the filter.
    pub created_after: Option<CalendarDate>,
    /// Lines whose SKU matches one of these globs (`*`, `?`) are never sent; an order left
    /// with no line to ship is skipped.
    pub skip_skus: SkuPatterns,
}

impl Default for OrderFilters {
    fn default() -> Self {
        Self {
            status: vec!["finalized".into()],
            payment_status: vec!["paid".into()],
            fulfillment_status: vec!["unshipped".into()],
            stock_location_ids: Vec::new(),
            tags_any: Vec::new(),
            tags_none: Vec::new(),
            created_after: None,
            skip_skus: SkuPatterns::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CartSchedule {
    pub order_download: Interval,
    pub shipment_upload: Interval,
    pub inventory_upload: Interval,
}

impl Default for CartSchedule {
    fn default() -> Self {
        Self {
            order_download: Interval::Every(std::time::Duration::from_secs(300)),
            shipment_upload: Interval::Auto,
            inventory_upload: Interval::Auto,
        }
    }
}
