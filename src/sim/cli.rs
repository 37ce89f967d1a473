//! `cartgate sim tradegecko|easypost|shopify --port N [--seed FILE] [--services a,b]`: one simulator
//! in the foreground (TradeGecko and Shopify also take their OAuth application's flags, [`OAuthFlags`]).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use super::seed::Seed;
use super::shopify::ShopifyOAuthConfig;
use super::{EasypostConfig, EasypostSim, ShopifyConfig, ShopifySim, TradegeckoConfig, TradegeckoSim};

/// The cart simulators' OAuth application (ignored by EasyPost). `Debug` leaves the secret out.
#[derive(Clone, clap::Args)]
pub struct OAuthFlags {
    /// The OAuth application's client id.
    #[arg(long, default_value = "tg-client-id")]
    pub client_id: String,
    /// The OAuth application's client secret (also signs the webhook notifications).
    #[arg(long, default_value = "tg-client-secret")]
    pub oauth_client_secret: String,
    /// Lifetime of the access tokens issued by `/oauth/token`.
    #[arg(long, default_value_t = 7200)]
    pub token_lifetime_secs: u64,
    /// Shopify only: the shop's `*.myshopify.com` domain.
    #[arg(long, default_value = "acme.myshopify.com")]
    pub shop: String,
}

impl std::fmt::Debug for OAuthFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthFlags")
            .field("client_id", &self.client_id)
            .field("oauth_client_secret", &"[redacted]")
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .field("shop", &self.shop)
            .finish()
    }
}

/// Which simulator to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SimKind {
    Tradegecko,
    Easypost,
    Shopify,
}

/// Runs the simulator until Ctrl-C / SIGTERM.
/// `services` (EasyPost only, empty = the default list) are the `service` values orders may use.
pub async fn run(
    kind: SimKind,
    bind: IpAddr,
    port: u16,
    seed: Option<&Path>,
    services: Vec<String>,
    oauth: OAuthFlags,
) -> anyhow::Result<()> {
    let seed = match seed {
        Some(path) => Seed::load(path)?,
        None => Seed::default(),
    };
    let bind = SocketAddr::new(bind, port);
    match kind {
        SimKind::Tradegecko => {
            let mut config = TradegeckoConfig {
                bind,
                seed,
                client_id: oauth.client_id,
                client_secret: oauth.oauth_client_secret,
                ..TradegeckoConfig::default()
            };
            config.oauth.token_lifetime_secs = oauth.token_lifetime_secs;
            let sim = TradegeckoSim::start(config).await?;
            println!(
                "TradeGecko simulator on {} (token {}, OAuth client id {}, tokens live {} s, control routes under /_sim)",
                sim.url(),
                sim.token(),
                sim.client_id(),
                oauth.token_lifetime_secs
            );
            wait_for_signal().await;
            sim.stop().await;
        }
        SimKind::Easypost => {
            let defaults = EasypostConfig::default();
            let services = if services.is_empty() { defaults.services.clone() } else { services };
            let sim = EasypostSim::start(EasypostConfig { bind, seed, services, ..defaults }).await?;
            println!("EasyPost simulator on {} (keys {:?}, control routes under /_sim)", sim.url(), sim.keys());
            wait_for_signal().await;
            sim.stop().await;
        }
        SimKind::Shopify => {
            let config = ShopifyConfig {
                bind,
                seed,
                shop: oauth.shop,
                client_id: oauth.client_id,
                client_secret: oauth.oauth_client_secret,
                oauth: ShopifyOAuthConfig { token_lifetime_secs: oauth.token_lifetime_secs, ..Default::default() },
                ..ShopifyConfig::default()
            };
            let sim = ShopifySim::start(config).await?;
            println!(
                "Shopify simulator for {} on {} (token {}, OAuth client id {}, tokens live {} s, GraphQL at {}, control routes under /_sim)",
                sim.shop(),
                sim.url(),
                sim.token(),
                sim.client_id(),
                oauth.token_lifetime_secs,
                sim.graphql_url("2026-10")
            );
            wait_for_signal().await;
            sim.stop().await;
        }
    }
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
