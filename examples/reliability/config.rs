//! The replicas' configuration file, and reading a process's memory.

use anyhow::{Context, Result};
use cartgate::sim::easypost::{EasypostSim, Mode};
use cartgate::sim::tradegecko::TradegeckoSim;

use crate::cluster::{ADMIN, CART, EP_SECRET, MERCHANT, Spec, TG_WINDOW_SECS};

/// VmRSS of a process in kB.
pub fn vm_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn config_toml(
    spec: &Spec,
    tg: &TradegeckoSim,
    ep: &EasypostSim,
    redis: &str,
    prefix: &str,
    lb: &str,
) -> Result<String> {
    let ep_key = ep.key(Mode::Production).context("no production key")?;
    let tg_requests = spec.cartgate_tg_requests();
    Ok(format!(
        r#"
[server]
bind = "127.0.0.1:0"
public_url = "{lb}"
admin_token = "{ADMIN}"
[store]
url = "{redis}"
prefix = "{prefix}"
[workers]
concurrency = {concurrency}
lease_secs = {lease}
drain_secs = 2
[retry]
schedule_secs = [1, 2, 4, 8]
[[merchants]]
id = "{MERCHANT}"
[merchants.wms]
kind = "easypost"
base_url = "{ep_url}"
production_api_key = "{ep_key}"
webhook_secret = "{EP_SECRET}"
rate_limit = {{ requests = {ep_rate}, per_secs = 1 }}
timeout_secs = 5
[merchants.schedule]
order_delivery = "auto"
shipping_confirmations = "1m"
inventory = "1h"
[[merchants.carts]]
id = "{CART}"
kind = "tradegecko"
base_url = "{tg_url}"
access_token = "{tg_token}"
client_secret = "{tg_secret}"
stock_location_id = {location}
item_field = "upc"
rate_limit = {{ requests = {tg_requests}, per_secs = {TG_WINDOW_SECS} }}
timeout_secs = 5
[merchants.carts.schedule]
order_download = "1m"
"#,
        concurrency = spec.concurrency,
        lease = spec.lease_secs,
        ep_url = ep.url(),
        ep_rate = spec.cartgate_ep_rate(),
        tg_url = tg.url(),
        tg_token = tg.token(),
        tg_secret = tg.client_secret(),
        location = tg.location_id(),
    ))
}
