//! Scenarios 1–3: replica crashes, a Redis restart, upstream faults.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use cartgate::sim::easypost::Mode;
use cartgate::sim::faults::FaultConfig;

use crate::cluster::{Cluster, Spec, TG_WINDOW_SECS};
use crate::lb::Seen;
use crate::report::Row;
use crate::workload::{count_in, feed, reconcile, wait_done};
use crate::{Counts, Timing};

/// Ships every pending warehouse order in one pick (when shipment pickup exists) and returns the
/// picks per cart order; the caller waits for `confirmed`.
pub fn ship_pending(cluster: &Cluster, ids: &[u64]) -> HashMap<u64, usize> {
    let mut picks = HashMap::new();
    if !cluster.shipments {
        return picks;
    }
    let numbers: HashMap<String, u64> = order_numbers(cluster, ids);
    for o in cluster.ep.orders() {
        let (Some(id), Some(d)) = (o["id"].as_str(), o["description"].as_str()) else { continue };
        if o["status"].as_str() == Some("pending")
            && cluster.ep.ship(id, &[]).is_ok()
            && let Some(cart_id) = numbers.get(d)
        {
            *picks.entry(*cart_id).or_insert(0) += 1;
        }
    }
    picks
}

/// Order number → cart order id, over both carts (TradeGecko's `order_number`, Shopify's `name`).
fn order_numbers(cluster: &Cluster, ids: &[u64]) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for &id in ids {
        let tg = cluster.tg.order(id).and_then(|o| o["order"]["order_number"].as_str().map(str::to_owned));
        let shop = || cluster.shop.order_detail(id).and_then(|o| o["order"]["name"].as_str().map(str::to_owned));
        if let Some(n) = tg.or_else(shop) {
            out.insert(n, id);
        }
    }
    out
}

/// Kills replica after replica with `kill -9` every `every` (restarting it a second later)
/// until `want` orders are in `statuses` or `max` passes. Returns the number of kills.
async fn kill_until(cluster: &mut Cluster, every: Duration, statuses: &[&str], want: u64, max: Duration) -> u32 {
    let started = Instant::now();
    let mut kills = 0;
    while started.elapsed() < max && count_in(cluster, statuses).await.unwrap_or(0) < want {
        tokio::time::sleep(every.saturating_sub(Duration::from_secs(1))).await;
        let victim = kills as usize % cluster.replicas.len();
        cluster.sample_rss();
        cluster.kill(victim);
        kills += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = cluster.spawn(victim) {
            eprintln!("  restarting replica {victim} failed: {e:#}");
        }
        cluster.replicas[victim].restarts += 1;
    }
    kills
}

/// Ships what is at the warehouse and waits for every order to be confirmed in the cart.
pub async fn shipments_phase(
    cluster: &mut Cluster,
    ids: &[u64],
    t: &Timing,
    kill: Option<Duration>,
) -> HashMap<u64, usize> {
    let n = ids.len() as u64;
    let picks = ship_pending(cluster, ids);
    if !cluster.shipments {
        return picks;
    }
    if let Some(every) = kill {
        kill_until(cluster, every, &["confirmed"], n, t.complete).await;
    }
    let started = Instant::now();
    while started.elapsed() < t.complete && count_in(cluster, &["confirmed"]).await.unwrap_or(0) < n {
        cluster.sample_rss();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    picks
}

/// The end of a flow scenario: waits for every order at the warehouse, runs the shipments phase
/// (a replica killed every `kills` meanwhile, when given), reconciles the simulators' records
/// with the ledger and checks them into `row`, every order confirmed; returns what the
/// balancer saw.
pub async fn settle(
    row: &mut Row,
    cluster: &mut Cluster,
    ids: &[u64],
    t: &Timing,
    kills: Option<Duration>,
    started: Instant,
) -> Result<Seen> {
    let took = wait_done(cluster, ids.len() as u64, t.complete).await;
    let picks = shipments_phase(cluster, ids, t, kills).await;
    let recon = reconcile(cluster, ids, &picks).await?;
    let seen = cluster.lb.take_seen();
    row.finish(cluster, &recon, &seen);
    row.check_confirmed(&recon);
    row.secs = started.elapsed().as_secs_f64();
    row.check(took.is_some(), format!("not all orders reached the warehouse within {:?}", t.complete));
    Ok(seen)
}

pub async fn crash(spec: &Spec, c: &Counts, t: &Timing) -> Result<Row> {
    let mut row = Row::new("1 replica crash");
    let mut cluster = Cluster::start(spec.clone(), "1-crash").await?;
    let started = Instant::now();
    // Half the orders come from the merchant's Shopify store.
    let feeder = feed(cluster.both_carts(), c.crash, c.rate, 1..41);
    let every = Duration::from_secs(t.kill_every_secs);
    let kills = kill_until(&mut cluster, every, &["at_wms", "shipped", "confirmed"], c.crash as u64, t.complete).await;
    let ids = feeder.await?;
    settle(&mut row, &mut cluster, &ids, t, Some(every), started).await?;
    row.notes.push(format!("{kills} kill -9 (one every {every:?}, restarted 1 s later), lease {} s", spec.lease_secs));
    cluster.stop().await;
    Ok(row)
}

fn faults(seed: u64) -> FaultConfig {
    FaultConfig {
        seed,
        error_rate: 0.3,
        spike_rate: 0.05,
        spike_ms: 2_000,
        timeout_rate: 0.02,
        timeout_ms: 8_000,
        reset_rate: 0.02,
        reset_after_handler: true,
        ..Default::default()
    }
}

pub async fn upstream_faults(spec: &Spec, c: &Counts, t: &Timing) -> Result<Row> {
    let mut row = Row::new("3 upstream faults");
    let mut cluster = Cluster::start(spec.clone(), "3-faults").await?;
    let started = Instant::now();
    cluster.tg.set_faults(faults(11));
    cluster.ep.set_faults(faults(12));
    let feeder = feed(cluster.tradegecko_only(), c.faults, c.rate, 1..41);
    let (mut storms, mut took, mut last_print) = (0, None, Instant::now());
    while started.elapsed() < t.complete {
        cluster.sample_rss();
        let done = count_in(&cluster, &["at_wms", "shipped", "confirmed"]).await.unwrap_or(0);
        if feeder.is_finished() && done >= c.faults as u64 {
            took = Some(started.elapsed());
            break;
        }
        if last_print.elapsed() > Duration::from_secs(10) {
            eprintln!("  … {done}/{} orders at the warehouse after {:.0?}", c.faults, started.elapsed());
            last_print = Instant::now();
        }
        if started.elapsed().as_secs() >= 5 + t.storm_every_secs * storms {
            cluster.tg.storm(Duration::from_secs(3));
            cluster.ep.storm(Duration::from_secs(3));
            storms += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ids = feeder.await?;
    let picks = shipments_phase(&mut cluster, &ids, t, None).await;
    cluster.tg.set_faults(FaultConfig::default());
    cluster.ep.set_faults(FaultConfig::default());
    let recon = reconcile(&cluster, &ids, &picks).await?;
    let seen = cluster.lb.take_seen();
    row.finish(&mut cluster, &recon, &seen);
    row.check_confirmed(&recon);
    row.secs = started.elapsed().as_secs_f64();
    row.check(took.is_some(), format!("not all orders reached the warehouse with faults on within {:?}", t.complete));
    rate_checks(&mut row, &cluster, spec);
    row.notes.push(format!(
        "30% 5xx, 5% 2 s spikes, 2% timeouts, 2% answer-lost resets on both; {storms} 429 storms of 3 s (one every {} s)", t.storm_every_secs
    ));
    cluster.stop().await;
    Ok(row)
}

/// No simulator refused a call for its own rate limit, and the densest window stayed in the limit.
pub fn rate_checks(row: &mut Row, cluster: &Cluster, spec: &Spec) {
    let tg_token = cluster.tg.token();
    let ep_key = cluster.ep.key(Mode::Production).unwrap_or_default();
    let tg_max = cluster.tg.record().max_calls_in_window(&tg_token, TG_WINDOW_SECS * 1000);
    let ep_max = cluster.ep.record().max_calls_in_window(&ep_key, 1000);
    let refused = |r: &cartgate::sim::record::Recorder| {
        r.entries().iter().filter(|e| e.status == 429 && e.fault.is_none()).count()
    };
    let (tg_refused, ep_refused) = (refused(cluster.tg.record()), refused(cluster.ep.record()));
    let tg_limit = (spec.tg_rate as u64 * TG_WINDOW_SECS) as usize;
    let ep_limit = spec.ep_rate as usize;
    row.check(
        tg_refused == 0 && ep_refused == 0,
        format!("simulators refused {tg_refused}+{ep_refused} calls for rate"),
    );
    // Sliding windows (the simulators count fixed ones): a sliding window may hold one call
    // more than any fixed window does.
    row.check(tg_max <= tg_limit + 1, format!("TradeGecko: {tg_max} calls in {TG_WINDOW_SECS} s (limit {tg_limit})"));
    row.check(ep_max <= ep_limit + 1, format!("EasyPost: {ep_max} calls in 1 s (limit {ep_limit})"));
    row.notes.push(format!(
        "rate limits: TradeGecko max {tg_max} calls in any {TG_WINDOW_SECS} s (limit {tg_limit}, cartgate set to {}), \
         EasyPost max {ep_max} in any 1 s (limit {ep_limit}, cartgate set to {}); refused by the simulators' own \
         limiters: {tg_refused}/{ep_refused}",
        spec.cartgate_tg_requests(),
        spec.cartgate_ep_rate()
    ));
}
