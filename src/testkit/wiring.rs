//! cartgate's configuration as the test kit writes it: typed, one struct per TOML table.
//!
//! A [`Wiring`] holds only the keys the test kit sets; every other key keeps its default from
//! `config/default.toml`. It becomes [`Settings`] through the very loader and validation a
//! configuration file goes through ([`Settings::from_toml`]: defaults, then these keys, then
//! the checks), and the same serialisation is what [`Wiring::write`] puts in a file for
//! cartgate processes — one spelling of the configuration, whichever way cartgate starts.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};
use url::Url;

pub use super::alert_wiring::{AlertWebhookWiring, AlertsWiring, MerchantAlertsWiring, SmtpWiring};
use crate::domain::{CartId, MerchantId};
use crate::settings::{
    CartAuth, CartInventory, CartKind, CartSchedule, ConfigError, ItemField, MerchantSchedule, OrderFilters, RateLimit,
    Settings, ShipMethods, WmsKind,
};

/// Why a wiring could not become settings or a file.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("cannot write the configuration as TOML: {0}")]
    Serialize(#[from] toml::ser::Error),
    #[error("the wired configuration is invalid: {}", join(.0))]
    Invalid(Vec<ConfigError>),
    #[error("cannot write the configuration file {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

fn join(errors: &[ConfigError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// A secret the test kit made up (simulator keys, tokens). It is written into the
/// configuration it belongs to and nowhere else: `Debug` shows `<redacted>`.
#[derive(Clone)]
pub struct WiredSecret(SecretString);

impl WiredSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The value, for the party that must present it (a test signing a webhook).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for WiredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for WiredSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

/// The whole configuration: `[server]`, `[store]`, `[workers]`, `[retry]`, `[[merchants]]`.
/// A `None` is not written (TOML has no null), so the key keeps its default.
#[derive(Clone, Debug, Serialize)]
pub struct Wiring {
    pub server: ServerWiring,
    pub store: StoreWiring,
    pub workers: WorkerWiring,
    pub retry: RetryWiring,
    pub tenants: TenantWiring,
    /// `[apps]`: the OAuth applications (`None`: the table is left out).
    pub apps: Option<AppsWiring>,
    /// `[alerts]`: the mail server (`None`: left out).
    pub alerts: Option<AlertsWiring>,
    pub merchants: Vec<MerchantWiring>,
}

/// `[apps]`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AppsWiring {
    pub tradegecko: Option<TradeGeckoAppWiring>,
    pub shopify: Option<ShopifyAppWiring>,
}

/// `[apps.shopify]` (scopes and API version left at cartgate's).
#[derive(Clone, Debug, Serialize)]
pub struct ShopifyAppWiring {
    pub client_id: String,
    pub client_secret: WiredSecret,
}

/// `[apps.tradegecko]`.
#[derive(Clone, Debug, Serialize)]
pub struct TradeGeckoAppWiring {
    pub client_id: String,
    pub client_secret: WiredSecret,
    pub authorize_url: Option<Url>,
}

/// `[tenants]`: the key ring sealing secrets written through the API (first seals).
#[derive(Clone, Debug, Default, Serialize)]
pub struct TenantWiring {
    pub keys: Vec<WiredSecret>,
}

/// `[server]` (the keys are documented on [`crate::settings::ServerSettings`]).
#[derive(Clone, Debug, Serialize)]
pub struct ServerWiring {
    /// Port 0 lets the OS pick; [`super::world::Wired::start`] picks one when it needs to know it.
    pub bind: SocketAddr,
    pub public_url: Option<Url>,
    pub admin_token: Option<WiredSecret>,
    pub max_body_bytes: Option<usize>,
}

/// `[store]`.
#[derive(Clone, Debug, Serialize)]
pub struct StoreWiring {
    /// `memory://` or a Redis URL.
    pub url: String,
    /// Unique per wiring, so worlds share a Redis without seeing each other's keys.
    pub prefix: String,
    pub partitions: Option<u16>,
    /// `url` and `cluster_seeds` are seeds of a Redis Cluster.
    pub cluster: Option<bool>,
    pub cluster_seeds: Option<Vec<String>>,
    pub min_replica_acks: Option<u32>,
    pub replica_ack_timeout_ms: Option<u64>,
}

/// `[workers]`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WorkerWiring {
    /// `false`: HTTP only (the intake bench measures the webhook path alone).
    pub enabled: Option<bool>,
    pub concurrency: Option<usize>,
    pub lease_secs: Option<u64>,
    pub drain_secs: Option<u64>,
}

/// `[retry]`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RetryWiring {
    pub schedule_secs: Option<Vec<u64>>,
}

/// One merchant with its warehouse account and carts.
#[derive(Clone, Debug, Serialize)]
pub struct MerchantWiring {
    pub id: MerchantId,
    pub wms: WmsWiring,
    pub schedule: MerchantSchedule,
    pub carts: Vec<CartWiring>,
    pub alerts: Option<MerchantAlertsWiring>,
}

/// `[merchants.wms]`: the EasyPost account (production mode).
#[derive(Clone, Debug, Serialize)]
pub struct WmsWiring {
    pub kind: WmsKind,
    pub base_url: Url,
    pub production_api_key: WiredSecret,
    pub webhook_secret: Option<WiredSecret>,
    pub rate_limit: Option<RateLimit>,
    pub timeout_secs: Option<u64>,
}

/// `[[merchants.carts]]`: a TradeGecko or Shopify cart.
#[derive(Clone, Debug, Serialize)]
pub struct CartWiring {
    pub id: CartId,
    pub kind: CartKind,
    pub base_url: Url,
    /// Shopify: the shop domain and the location (`gid://shopify/Location/<n>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// `token` or `oauth` (`None`: left out, so `token`).
    pub auth: Option<CartAuth>,
    pub access_token: Option<WiredSecret>,
    pub client_secret: Option<WiredSecret>,
    pub client_secret_previous: Option<WiredSecret>,
    pub stock_location_id: Option<i64>,
    pub item_field: ItemField,
    pub rate_limit: Option<RateLimit>,
    pub schedule: CartSchedule,
    pub timeout_secs: Option<u64>,
    pub ship_methods: ShipMethods,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<OrderFilters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<CartInventory>,
}

impl Wiring {
    /// A cartgate on loopback port 0 over `store_url`, with a key prefix of its own, no
    /// admin token and no merchants: the defaults for everything else.
    pub fn new(store_url: impl Into<String>) -> Self {
        Self {
            server: ServerWiring {
                bind: SocketAddr::from(([127, 0, 0, 1], 0)),
                public_url: None,
                admin_token: None,
                max_body_bytes: None,
            },
            store: StoreWiring {
                url: store_url.into(),
                prefix: super::unique_prefix(),
                partitions: None,
                cluster: None,
                cluster_seeds: None,
                min_replica_acks: None,
                replica_ack_timeout_ms: None,
            },
            workers: WorkerWiring::default(),
            retry: RetryWiring::default(),
            tenants: TenantWiring::default(),
            apps: None,
            alerts: None,
            merchants: Vec::new(),
        }
    }

    /// The configuration as TOML, secrets included (for [`Settings::from_toml`] and files).
    fn to_toml(&self) -> Result<String, WiringError> {
        Ok(toml::to_string(self)?)
    }

    /// The validated settings, exactly as `cartgate serve` would load them from [`Wiring::write`]'s file.
    pub fn settings(&self) -> Result<Settings, WiringError> {
        Settings::from_toml(&self.to_toml()?).map_err(WiringError::Invalid)
    }

    /// Writes the configuration for `cartgate serve --config`, readable by this user only
    /// (it holds the simulators' keys). Validates it first.
    pub fn write(&self, path: &Path) -> Result<(), WiringError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        self.settings()?;
        let text = self.to_toml()?;
        let failed = |source| WiringError::Write { path: path.display().to_string(), source };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)
    }
}

impl MerchantWiring {
    /// A merchant with an EasyPost account at `base_url` and no carts yet.
    pub fn easypost(id: MerchantId, base_url: Url, api_key: WiredSecret) -> Self {
        let wms = WmsWiring {
            kind: WmsKind::Easypost,
            base_url,
            production_api_key: api_key,
            webhook_secret: None,
            rate_limit: None,
            timeout_secs: None,
        };
        Self { id, wms, schedule: MerchantSchedule::default(), carts: Vec::new(), alerts: None }
    }
}

impl CartWiring {
    /// A TradeGecko cart at `base_url` connected by OAuth (`auth = "oauth"`, no token).
    pub fn oauth(id: CartId, base_url: Url) -> Self {
        let mut cart = Self::tradegecko(id, base_url, WiredSecret::new("-"), WiredSecret::new("-"));
        cart.auth = Some(CartAuth::Oauth);
        cart.access_token = None;
        cart.client_secret = None;
        cart
    }

    /// A TradeGecko cart at `base_url`; everything optional left at its default.
    pub fn tradegecko(id: CartId, base_url: Url, access_token: WiredSecret, client_secret: WiredSecret) -> Self {
        Self {
            id,
            kind: CartKind::Tradegecko,
            base_url,
            shop: None,
            location_id: None,
            auth: None,
            access_token: Some(access_token),
            client_secret: Some(client_secret),
            client_secret_previous: None,
            stock_location_id: None,
            item_field: ItemField::default(),
            rate_limit: None,
            schedule: CartSchedule::default(),
            timeout_secs: None,
            ship_methods: ShipMethods::default(),
            filters: None,
            inventory: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wiring() -> Wiring {
        let mut wiring = Wiring::new("memory://");
        wiring.server.admin_token = Some(WiredSecret::new("admin-s\u{e9}cret"));
        let url = Url::parse("http://127.0.0.1:9").unwrap();
        let merchant = MerchantId::parse("acme").unwrap();
        wiring.merchants.push(MerchantWiring::easypost(merchant, url, WiredSecret::new("EZAK-secret-key")));
        wiring
    }

    #[test]
    fn the_file_holds_the_secrets_and_loads_as_the_same_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cartgate.toml");
        wiring().write(&path).unwrap();
        let loaded = Settings::load(Some(&path)).unwrap();
        assert_eq!(loaded.server.admin_token.as_ref().map(|s| s.expose()), Some("admin-s\u{e9}cret"));
        assert_eq!(loaded.merchants[0].wms.production_api_key.as_ref().map(|s| s.expose()), Some("EZAK-secret-key"));
        assert_eq!(
            loaded.workers.lease_secs,
            Settings::from_toml("").unwrap().workers.lease_secs,
            "unset keys keep defaults"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o077, 0, "readable by this user only");
    }

    #[test]
    fn debug_shows_no_secret() {
        let text = format!("{:?}", wiring());
        assert!(!text.contains("secret-key") && !text.contains("admin-s"), "{text}");
    }
}
