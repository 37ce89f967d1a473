//! The workload: orders created in the cart at a steady rate (each one reaches cartgate as
//! signed `order.create`/`order.finalized` webhooks), progress read from the ledger's status
//! indexes, and the exact reconciliation of simulator records against the ledger.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cartgate::domain::OrderStatus;
use cartgate::ledger::orders::status_index;
use cartgate::sim::easypost::EasypostSim;
use cartgate::sim::seed;
use cartgate::sim::shopify::{NewShopLine, NewShopOrder, ShopifySim};
use cartgate::sim::tradegecko::{NewLine, NewOrder, TradegeckoSim};
use redis::AsyncCommands;
use serde_json::Value;

use crate::cluster::Cluster;

/// Statuses that mean "the warehouse has it" (shipments move orders further along).
const DONE: [&str; 3] = ["at_wms", "shipped", "confirmed"];

/// The carts orders are created in: TradeGecko, and every second order in the Shopify store
/// when there is one. (Their order ids never meet: Shopify's are above 2^59.)
#[derive(Clone)]
pub struct Carts {
    pub tg: Arc<TradegeckoSim>,
    pub shop: Option<Arc<ShopifySim>>,
}

/// Creates `count` one-line orders at `rate` per second over `items`, in the background.
pub fn feed(carts: Carts, count: usize, rate: f64, items: Range<usize>) -> tokio::task::JoinHandle<Vec<u64>> {
    tokio::spawn(async move {
        let mut ids = Vec::with_capacity(count);
        let started = Instant::now();
        let span = items.end.saturating_sub(items.start).max(1);
        for k in 0..count {
            let due = started + Duration::from_secs_f64(k as f64 / rate.max(0.1));
            tokio::time::sleep_until(due.into()).await;
            let sku = seed::sku(items.start + k % span);
            let created = match &carts.shop {
                Some(shop) if k % 2 == 1 => {
                    let line = NewShopLine { sku: Some(sku), quantity: 1, title: None };
                    shop.create_order(NewShopOrder { lines: vec![line], ..Default::default() })
                        .map_err(|e| format!("{e:?}"))
                }
                _ => {
                    let line = NewLine { sku: Some(sku), quantity: 1, ..Default::default() };
                    carts
                        .tg
                        .create_order(NewOrder { lines: vec![line], ..Default::default() })
                        .map_err(|e| format!("{e:?}"))
                }
            };
            match created {
                Ok(id) => ids.push(id),
                Err(e) => eprintln!("creating an order in a cart simulator failed: {e}"),
            }
        }
        ids
    })
}

/// Orders the ledger counts in `statuses` (read straight from its indexes; `None` while Redis is down).
pub async fn count_in(cluster: &Cluster, statuses: &[&str]) -> Option<u64> {
    let mut conn = cluster.redis.conn().ok()?;
    let mut total = 0u64;
    for s in statuses {
        let index = status_index(crate::cluster::MERCHANT, OrderStatus::parse(s)?);
        let zcard = conn.zcard(format!("{}:{index}", cluster.prefix));
        let n: u64 = tokio::time::timeout(Duration::from_secs(2), zcard).await.ok()?.ok()?;
        total += n;
    }
    Some(total)
}

pub async fn done_count(cluster: &Cluster) -> Option<u64> {
    count_in(cluster, &DONE).await
}

/// Waits until `want` orders are done or `within` passes; returns the time it took (or `None`).
pub async fn wait_done(cluster: &mut Cluster, want: u64, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut last_print = Instant::now();
    while started.elapsed() < within {
        cluster.sample_rss();
        let done = done_count(cluster).await.unwrap_or(0);
        if done >= want {
            return Some(started.elapsed());
        }
        if last_print.elapsed() > Duration::from_secs(10) {
            eprintln!("  … {done}/{want} orders at the warehouse after {:.0?}", started.elapsed());
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    None
}

/// One order as the admin API shows it.
#[derive(Debug)]
pub struct LedgerOrder {
    pub status: String,
    pub order_number: String,
    pub wms_order_id: Option<String>,
}

/// Every order in the ledger, paged through `GET /admin/orders` (via the balancer).
pub async fn ledger(cluster: &Cluster) -> Result<HashMap<u64, LedgerOrder>> {
    let mut out = HashMap::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/admin/orders?limit=500&cursor={cursor}");
        let page: Value = cluster.admin(reqwest::Method::GET, &path).send().await?.error_for_status()?.json().await?;
        for o in page["orders"].as_array().context("orders")? {
            let id = o["cart_order_id"].as_u64().context("cart_order_id")?;
            let entry = LedgerOrder {
                status: o["status"].as_str().unwrap_or_default().to_owned(),
                order_number: o["order_number"].as_str().unwrap_or_default().to_owned(),
                wms_order_id: o["wms_order_id"].as_str().map(str::to_owned),
            };
            out.insert(id, entry);
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return Ok(out),
        }
    }
}

/// The result of one reconciliation.
#[derive(Debug, Default)]
pub struct Recon {
    pub expected: usize,
    pub completed: usize,
    /// Created in the cart, but not at the warehouse according to both sides.
    pub lost: Vec<u64>,
    /// Extra warehouse orders for one cart order (by description).
    pub dup_wms: usize,
    /// Warehouse orders no created order accounts for.
    pub phantom: usize,
    /// Extra cart fulfillments (more than the picks shipped); `None` when shipments are off.
    pub dup_fulfillments: Option<usize>,
    /// Of those, in Shopify (its fulfillmentCreate has no idempotency key).
    pub dup_shop_fulfillments: usize,
    /// Orders created in the Shopify store.
    pub shopify: usize,
    pub statuses: BTreeMap<String, usize>,
    pub dead: u64,
}

impl Recon {
    pub fn duplicates(&self) -> usize {
        self.dup_wms + self.phantom + self.dup_fulfillments.unwrap_or(0) + self.dup_shop_fulfillments
    }
}

/// Simulator records vs the ledger, for the orders in `ids`.
pub async fn reconcile(cluster: &Cluster, ids: &[u64], picks: &HashMap<u64, usize>) -> Result<Recon> {
    let ledger = ledger(cluster).await?;
    let mut r = Recon { expected: ids.len(), ..Default::default() };
    for o in ledger.values() {
        *r.statuses.entry(o.status.clone()).or_insert(0) += 1;
    }
    let (wms, per_description) = warehouse(&cluster.ep);
    r.dup_wms = per_description.values().map(|n| n.saturating_sub(1)).sum();
    let mut ours = HashSet::new();
    for id in ids {
        let ok = ledger.get(id).is_some_and(|o| {
            ours.insert(o.order_number.clone());
            DONE.contains(&o.status.as_str())
                && o.wms_order_id.as_ref().and_then(|w| wms.get(w)).is_some_and(|d| *d == o.order_number)
        });
        if ok {
            r.completed += 1;
        } else {
            r.lost.push(*id);
        }
    }
    r.phantom = per_description.keys().filter(|d| !ours.contains(*d)).count();
    if cluster.shipments {
        let extra = |id: &u64, n: usize| n.saturating_sub(picks.get(id).copied().unwrap_or(0));
        let tg: usize = cluster.tg.fulfillment_counts().iter().map(|(id, n)| extra(id, *n)).sum();
        let shop: usize = ids.iter().map(|id| extra(id, cluster.shop.fulfillments(*id).len())).sum();
        (r.dup_fulfillments, r.dup_shop_fulfillments) = (Some(tg), shop);
    }
    r.shopify = ids.iter().filter(|id| cluster.shop.order_detail(**id).is_some()).count();
    r.dead = queues(cluster).await.map(|q| q["dead"].as_u64().unwrap_or(0)).unwrap_or(u64::MAX);
    Ok(r)
}

/// Warehouse order id → description, and orders per description.
fn warehouse(ep: &EasypostSim) -> (HashMap<String, String>, BTreeMap<String, usize>) {
    let mut by_id = HashMap::new();
    for o in ep.orders() {
        if let (Some(id), Some(d)) = (o["id"].as_str(), o["description"].as_str()) {
            by_id.insert(id.to_owned(), d.to_owned());
        }
    }
    (by_id, ep.orders_by_description())
}

/// `GET /admin/queues`.
pub async fn queues(cluster: &Cluster) -> Result<Value> {
    Ok(cluster.admin(reqwest::Method::GET, "/admin/queues").send().await?.error_for_status()?.json().await?)
}
