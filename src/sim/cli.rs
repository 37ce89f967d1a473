//! `cartgate sim tradegecko|easypost --port N [--seed FILE] [--services a,b]`: one simulator in the foreground.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use super::seed::Seed;
use super::{EasypostConfig, EasypostSim, TradegeckoConfig, TradegeckoSim};

/// Which simulator to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SimKind {
    Tradegecko,
    Easypost,
}

/// Runs the simulator until Ctrl-C / SIGTERM.
/// `services` (EasyPost only, empty = the default list) are the `service` values orders may use.
pub async fn run(
    kind: SimKind,
    bind: IpAddr,
    port: u16,
    seed: Option<&Path>,
    services: Vec<String>,
) -> anyhow::Result<()> {
    let seed = match seed {
        Some(path) => Seed::load(path)?,
        None => Seed::default(),
    };
    let bind = SocketAddr::new(bind, port);
    match kind {
        SimKind::Tradegecko => {
            let sim = TradegeckoSim::start(TradegeckoConfig { bind, seed, ..TradegeckoConfig::default() }).await?;
            println!("TradeGecko simulator on {} (token {}, control routes under /_sim)", sim.url(), sim.token());
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
