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
use crate::scenarios::{rate_checks, shipments_phase};
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

pub async fn hold_storm(spec: &Spec, c: &Counts, t: &Timing) -> Result<Row> {
    let mut row = Row::new("5 hold storm");
    let mut cluster = Cluster::start(spec.clone(), "5-holds").await?;
    let started = Instant::now();
    let zero: Vec<InventoryItem> =
        STARVED.map(|n| InventoryItem { barcode: barcode(n), quantity: 0, warehouse_id: None }).collect();
    cluster.ep.set_inventory(&zero).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut probe_ids = Vec::new();
    let (lat_before, claim_before) = measured(&cluster, t.probes, &mut probe_ids).await?;
    let feeder = feed(cluster.tg.clone(), c.holds, c.hold_rate, STARVED);
    let held_ids = feeder.await?;
    let deadline = Instant::now() + t.complete;
    while Instant::now() < deadline && count_in(&cluster, &["on_hold"]).await.unwrap_or(0) < held_ids.len() as u64 {
        cluster.sample_rss();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let filled = started.elapsed();
    let hold_set = queues(&cluster).await?["hold"].as_u64().unwrap_or(0);
    let (lat_during, claim_during) = measured(&cluster, t.probes, &mut probe_ids).await?;
    for n in STARVED {
        cluster.ep.receive(&barcode(n), None, c.holds as i64).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let release_started = Instant::now();
    let path = format!("/admin/merchants/{MERCHANT}/holds/release");
    let released: serde_json::Value =
        cluster.admin(reqwest::Method::POST, &path).send().await?.error_for_status()?.json().await?;
    let released = released["released"].as_u64().context("released")?;
    let total = held_ids.len() + 2 * t.probes;
    let took = wait_done(&mut cluster, total as u64, t.complete).await;
    let release_secs = release_started.elapsed().as_secs_f64();
    let ids: Vec<u64> = held_ids.iter().chain(&probe_ids).copied().collect();
    let picks = shipments_phase(&mut cluster, &ids, t, None).await;
    let recon = reconcile(&cluster, &ids, &picks).await?;
    let seen = cluster.lb.take_seen();
    row.finish(&mut cluster, &recon, &seen);
    row.secs = started.elapsed().as_secs_f64();
    let floor = c.holds as f64 / f64::from(spec.ep_rate);
    row.check(took.is_some(), format!("not all released orders reached the warehouse within {:?}", t.complete));
    row.check(hold_set >= c.holds as u64, format!("hold set held {hold_set} of {} orders", c.holds));
    row.check(release_secs >= floor * 0.8, format!("release took {release_secs:.1} s, faster than the limit allows"));
    let flat = claim_during <= (claim_before * 3.0).max(claim_before + 2.0);
    row.check(flat, format!("claim time grew from {claim_before:.2} ms to {claim_during:.2} ms"));
    rate_checks(&mut row, &cluster, spec);
    row.notes.push(format!(
        "{} orders on hold after {:.0} s (hold set {hold_set}); probe order to warehouse median {lat_before:.0} ms \
         before vs {lat_during:.0} ms with the hold set full; mean claim {claim_before:.2} ms vs {claim_during:.2} ms; \
         released {released} in {release_secs:.0} s (EasyPost limit {} /s → at least {floor:.0} s)",
        c.holds,
        filled.as_secs_f64(),
        spec.ep_rate
    ));
    cluster.stop().await;
    Ok(row)
}
