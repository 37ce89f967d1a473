//! Scenario 5: a hold storm. Orders for starved items go on hold by the thousand; while the hold
//! set is full, other orders must flow as fast as before (claim cost does not grow with held
//! jobs); then stock arrives, holds are released, and the release is paced by the rate limit.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cartgate::sim::easypost::InventoryItem;
use cartgate::sim::seed::barcode;
use cartgate::sim::tradegecko::{NewLine, NewOrder};

use crate::cluster::{CART, Cluster, ITEMS, MERCHANT, Spec};
use crate::report::Row;
use crate::scenarios::rate_checks;
use crate::workload::{count_in, feed, queues, reconcile, wait_done};
use crate::{Counts, Timing};

/// Items 41..=60 have no stock at the warehouse until the storm is over.
const STARVED: std::ops::Range<usize> = 41..ITEMS + 1;

/// (sum of seconds, number of claims) of `cartgate_claim_duration_seconds` over all replicas.
async fn claim_totals(cluster: &Cluster) -> (f64, f64) {
    let mut total = (0.0, 0.0);
    for i in 0..cluster.replicas.len() {
        let url = format!("{}/metrics", cluster.replica_url(i));
        let Ok(resp) = cluster.http.get(url).send().await else { continue };
        let text = resp.text().await.unwrap_or_default();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(name), Some(v)) = (parts.next(), parts.next().and_then(|v| v.parse::<f64>().ok())) else {
                continue;
            };
            match name {
                "cartgate_claim_duration_seconds_sum" => total.0 += v,
                "cartgate_claim_duration_seconds_count" => total.1 += v,
                _ => {}
            }
        }
    }
    total
}

/// Creates `n` in-stock orders one after another and returns the time each took to reach the warehouse.
async fn probe(cluster: &Cluster, n: usize, ids: &mut Vec<u64>) -> Result<Vec<Duration>> {
    let mut out = Vec::new();
    for k in 0..n {
        let line = NewLine { sku: Some(cartgate::sim::seed::sku(1 + k % 20)), quantity: 1, ..Default::default() };
        let started = Instant::now();
        let id = cluster
            .tg
            .create_order(NewOrder { lines: vec![line], ..Default::default() })
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        ids.push(id);
        let path = format!("/admin/carts/{CART}/orders/{id}");
        loop {
            let resp = cluster.admin(reqwest::Method::GET, &path).send().await?;
            if resp.status().is_success() {
                let o: serde_json::Value = resp.json().await?;
                if o["status"] != "new" {
                    break;
                }
            }
            if started.elapsed() > Duration::from_secs(60) {
                anyhow::bail!("probe order {id} did not reach the warehouse within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        out.push(started.elapsed());
    }
    Ok(out)
}

fn median_ms(d: &mut [Duration]) -> f64 {
    d.sort_unstable();
    d.get(d.len() / 2).map_or(0.0, |m| m.as_secs_f64() * 1000.0)
}

async fn measured(cluster: &Cluster, probes: usize, ids: &mut Vec<u64>) -> Result<(f64, f64)> {
    let a = claim_totals(cluster).await;
    let mut lat = probe(cluster, probes, ids).await?;
    let b = claim_totals(cluster).await;
    let claim_ms = if b.1 > a.1 { (b.0 - a.0) / (b.1 - a.1) * 1000.0 } else { 0.0 };
    Ok((median_ms(&mut lat), claim_ms))
}

/// What the storm measured.
struct Storm {
    /// (median probe latency ms, mean claim ms) before the storm and with the hold set full.
    before: (f64, f64),
    during: (f64, f64),
    hold_set: u64,
    filled_secs: f64,
    released: u64,
    release_secs: f64,
    done: bool,
}

/// Starves the items, measures, fills the hold set, measures again, then receives stock and
/// releases the holds. Returns every order created (held ones and probes).
async fn storm(cluster: &mut Cluster, c: &Counts, t: &Timing) -> Result<(Storm, Vec<u64>)> {
    let started = Instant::now();
    let zero: Vec<InventoryItem> =
        STARVED.map(|n| InventoryItem { barcode: barcode(n), quantity: 0, warehouse_id: None }).collect();
    cluster.ep.set_inventory(&zero).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut ids = Vec::new();
    let before = measured(cluster, t.probes, &mut ids).await?;
    let held = feed(cluster.tradegecko_only(), c.holds, c.hold_rate, STARVED).await?;
    let deadline = Instant::now() + t.complete;
    while Instant::now() < deadline && count_in(cluster, &["on_hold"]).await.unwrap_or(0) < held.len() as u64 {
        cluster.sample_rss();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let filled_secs = started.elapsed().as_secs_f64();
    let hold_set = queues(cluster).await?["hold"].as_u64().unwrap_or(0);
    let during = measured(cluster, t.probes, &mut ids).await?;
    for n in STARVED {
        cluster.ep.receive(&barcode(n), None, c.holds as i64).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let release_started = Instant::now();
    let path = format!("/admin/merchants/{MERCHANT}/holds/release");
    let answer: serde_json::Value =
        cluster.admin(reqwest::Method::POST, &path).send().await?.error_for_status()?.json().await?;
    let released = answer["released"].as_u64().context("released")?;
    ids.extend(held);
    let done = wait_done(cluster, ids.len() as u64, t.complete).await.is_some();
    let release_secs = release_started.elapsed().as_secs_f64();
    Ok((Storm { before, during, hold_set, filled_secs, released, release_secs, done }, ids))
}

pub async fn hold_storm(spec: &Spec, c: &Counts, t: &Timing) -> Result<Row> {
    let mut row = Row::new("5 hold storm");
    let mut cluster = Cluster::start(spec.clone(), "5-holds").await?;
    let started = Instant::now();
    let (s, ids) = storm(&mut cluster, c, t).await?;
    // Nothing is shipped here: scenarios 1–4 prove shipments reach the cart exactly once; this
    // one is about the hold set (so any cart fulfillment would count as a duplicate).
    let recon = reconcile(&cluster, &ids, &std::collections::HashMap::new()).await?;
    let seen = cluster.lb.take_seen();
    row.finish(&mut cluster, &recon, &seen);
    row.secs = started.elapsed().as_secs_f64();
    let floor = c.holds as f64 / f64::from(spec.cartgate_ep_rate());
    let ((lat0, claim0), (lat1, claim1)) = (s.before, s.during);
    row.check(s.done, format!("not all released orders reached the warehouse within {:?}", t.complete));
    row.check(s.hold_set >= c.holds as u64, format!("hold set held {} of {} orders", s.hold_set, c.holds));
    let paced = s.release_secs >= floor * 0.8;
    row.check(paced, format!("release took {:.1} s, faster than the limit allows", s.release_secs));
    let flat = claim1 <= (claim0 * 3.0).max(claim0 + 2.0);
    row.check(flat, format!("claim time grew from {claim0:.2} ms to {claim1:.2} ms"));
    rate_checks(&mut row, &cluster, spec);
    row.notes.push(format!(
        "{} orders on hold after {:.0} s (hold set {}); probe order to warehouse median {lat0:.0} ms before vs \
         {lat1:.0} ms with the hold set full; mean claim {claim0:.2} ms vs {claim1:.2} ms; released {} in {:.0} s \
         (cartgate's EasyPost rate {}/s → at least {floor:.0} s)",
        c.holds,
        s.filled_secs,
        s.hold_set,
        s.released,
        s.release_secs,
        spec.cartgate_ep_rate()
    ));
    cluster.stop().await;
    Ok(row)
}
