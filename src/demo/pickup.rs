//! The scripted story, part two: what comes back from the warehouse (workflows 3 and 4).
//!
//! These steps use the shipment and inventory sync of issue 9: `POST /admin/merchants/{m}/
//! sync/shipments` and `…/sync/inventory` (202), shipments uploaded as TradeGecko
//! fulfillments and as one Shopify fulfillment per warehouse pick (`shipped` → `confirmed`),
//! inventory written as TradeGecko stock adjustments and as Shopify's `available` at the
//! cart's location, held orders released when an inventory sync shows their stock. On a
//! cartgate without them the sync routes answer 404 and the step fails at once, saying so.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde_json::Value;

use super::carts::{Cart, OrderKey};
use super::report::Role;
use super::scenario::Ctx;
use super::shopify;
use super::world::{ITEMS, MERCHANT, UNALIASED_BARCODE_ITEM, UNALIASED_SKU, scarce_barcode};
use crate::domain::OrderStatus;
use crate::sim::easypost::{PickLine, PickSpec};
use crate::sim::seed;

/// Units of the scarce item the warehouse receives.
const RECEIVED: i64 = 10;

/// Posts a sync route, explaining a 404 (the route arrives with issue 9).
async fn sync(cx: &Ctx<'_>, what: &str) -> anyhow::Result<()> {
    let path = format!("/admin/merchants/{MERCHANT}/sync/{what}");
    cx.progress.action(&format!("POST {path}"));
    let answer = cx.admin.post(&path).await?;
    if answer.status.as_u16() == 404 {
        bail!("POST {path} answered {}: this cartgate has no {what} sync (issue 9)", answer.describe());
    }
    ensure!(answer.status.as_u16() == 202, "POST {path} answered {}", answer.describe());
    Ok(())
}

pub async fn stock_arrives(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let on_hand = cx.world.ep.receive(&scarce_barcode(), None, RECEIVED)?;
    cx.progress.action(&format!("EasyPost: {RECEIVED} × {} received (on hand now {on_hand})", seed::sku(ITEMS)));
    sync(cx, "inventory").await?;
    let held = cx.ids(Role::BeyondStock);
    cx.wait(&held, OrderStatus::AtWms).await.context("held orders were not released by the inventory sync")?;
    cx.progress.ok(&format!("released and delivered: {}", cx.watch.describe(&held)));
    Ok(())
}

pub async fn ship(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    cx.watch.refresh().await?;
    let wanted: Vec<OrderKey> =
        cx.roles.iter().filter(|(_, r)| r.expected() == OrderStatus::Confirmed).map(|(key, _)| *key).collect();
    let (mut shipped, mut parcels) = (Vec::new(), 0);
    // Every third order of each cart goes in two parcels where it can.
    let mut nth_in_cart: BTreeMap<Cart, usize> = BTreeMap::new();
    for id in &wanted {
        let n = {
            let count = nth_in_cart.entry(id.0).or_default();
            *count += 1;
            *count - 1
        };
        let Some(wms_id) =
            cx.watch.get(*id).filter(|o| o.status == OrderStatus::AtWms).and_then(|o| o.wms_order_id.clone())
        else {
            continue;
        };
        let picks = cx.world.ep.order(&wms_id).map(|o| picks_for(&o, n % 3 == 0)).unwrap_or_default();
        cx.world.ep.ship(&wms_id, &picks)?;
        parcels += picks.len().max(1);
        shipped.push(*id);
    }
    cx.progress.action(&format!(
        "EasyPost: {} orders shipped in {parcels} parcels with tracking (tracker.created + fulfillment.order.updated webhooks)",
        shipped.len()
    ));
    sync(cx, "shipments").await?;
    cx.wait(&shipped, OrderStatus::Confirmed).await.context("tracking did not reach the carts")?;
    let fulfillments: usize = cx.world.tg.fulfillment_counts().values().sum();
    let in_shop: usize = shipped.iter().map(|key| shopify::fulfillments_of(cx, *key)).sum();
    cx.progress.ok(&format!(
        "{} orders confirmed; TradeGecko has {fulfillments} fulfillments, Shopify {in_shop}",
        shipped.len()
    ));
    let off = shopify::fulfillments_off(cx, &shipped)?;
    ensure!(off.is_empty(), "Shopify fulfillments are not one per pick: {}", off.join(", "));
    ensure!(shipped.len() == wanted.len(), "not at the warehouse, so not shipped: {}", missing(cx, &wanted, &shipped));
    Ok(())
}

/// Parcels the warehouse shipped for the order `number` (its description there).
pub fn picks_of(cx: &Ctx<'_>, number: &str) -> usize {
    cx.world.ep.order_by_description(number).and_then(|o| o["picks"].as_array().map(Vec::len)).unwrap_or(0)
}

fn missing(cx: &Ctx<'_>, wanted: &[OrderKey], shipped: &[OrderKey]) -> String {
    let rest: Vec<OrderKey> = wanted.iter().copied().filter(|id| !shipped.contains(id)).collect();
    cx.watch.describe(&rest)
}

/// Two parcels when asked and the order has two lines or two units; otherwise one (`[]`).
fn picks_for(order: &Value, split: bool) -> Vec<PickSpec> {
    let lines: Vec<(String, i64)> = order["line_items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| Some((l["product"]["barcode"].as_str()?.to_owned(), l["units"].as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    let pick = |items: Vec<(String, i64)>| PickSpec {
        line_items: items.into_iter().map(|(barcode, units)| PickLine { barcode, units }).collect(),
        carrier: None,
    };
    match lines.as_slice() {
        _ if !split => Vec::new(),
        [first, rest @ ..] if !rest.is_empty() => vec![pick(vec![first.clone()]), pick(rest.to_vec())],
        [(barcode, units)] if *units >= 2 => {
            vec![pick(vec![(barcode.clone(), 1)]), pick(vec![(barcode.clone(), units - 1)])]
        }
        _ => Vec::new(),
    }
}

pub async fn inventory_back(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    sync(cx, "inventory").await?;
    let deadline = tokio::time::Instant::now() + cx.timeout;
    loop {
        let mut differences = stock_differences(cx);
        differences.extend(shopify::stock_differences(cx));
        let adjustments = cx.world.tg.stock_adjustments().len();
        let writes = shopify::inventory_writes(cx);
        if adjustments > 0 && writes > 0 && differences.is_empty() {
            cx.progress.ok(&format!(
                "{adjustments} stock adjustment(s) in TradeGecko, {writes} inventory write(s) in Shopify; \
                 both carts' stock equals the warehouse's"
            ));
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            ensure!(adjustments > 0, "no stock adjustment reached TradeGecko within {} s", cx.timeout.as_secs());
            ensure!(writes > 0, "no inventory write reached Shopify within {} s", cx.timeout.as_secs());
            cx.progress.warn(&format!("cart stock differs from the warehouse's: {}", differences.join(", ")));
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// "SKU-0003 cart 97 / warehouse 95" for every catalogue item whose levels differ.
pub fn stock_differences(cx: &Ctx<'_>) -> Vec<String> {
    let warehouse = cx.world.ep.stock();
    let on_hand = |barcode: &str| {
        warehouse.iter().find(|s| s["barcode"] == barcode).and_then(|s| s["on_hand"].as_i64()).unwrap_or(0)
    };
    let mut items: Vec<(String, String)> = (1..=ITEMS).map(|n| (seed::sku(n), seed::barcode(n))).collect();
    items.push((UNALIASED_SKU.to_owned(), seed::barcode(UNALIASED_BARCODE_ITEM)));
    let (tg, location) = (&cx.world.tg, cx.world.tg.location_id());
    items
        .iter()
        .filter_map(|(sku, barcode)| {
            let cart = tg.variant_id(sku).map_or(0, |v| tg.stock_on_hand(v, location));
            let wms = on_hand(barcode);
            (cart != wms).then(|| format!("{sku} cart {cart} / warehouse {wms}"))
        })
        .collect()
}
