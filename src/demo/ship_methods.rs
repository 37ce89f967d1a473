//! The scripted story: ship methods. The cart maps Express and rejects unmapped methods; an
//! order by another method waits in `error` until the merchant maps it through the admin API.

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use super::carts::OrderKey;
use super::report::Role;
use super::scenario::{Ctx, line};
use super::world::{CART, EXPRESS, UNMAPPED_METHOD};
use crate::domain::OrderStatus;
use crate::sim::seed;
use crate::sim::tradegecko::NewOrder;

/// The service of the warehouse order of cart order `id`.
fn service_at_wms(cx: &Ctx<'_>, id: OrderKey) -> anyhow::Result<String> {
    let wms_id = cx.watch.get(id).and_then(|o| o.wms_order_id.clone()).context("no warehouse order id")?;
    let order = cx.world.ep.order(&wms_id).with_context(|| format!("warehouse order {wms_id} not found"))?;
    Ok(order["service"].as_str().unwrap_or_default().to_owned())
}

fn shipped_by(method: &str) -> NewOrder {
    NewOrder { lines: vec![line(&seed::sku(2), 1)], ship_method: Some(method.to_owned()), ..NewOrder::default() }
}

pub async fn ship_methods(cx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let (method, service) = UNMAPPED_METHOD;
    let express = cx.create_order(shipped_by(EXPRESS), Role::ShipMethod)?;
    let unmapped = cx.create_order(shipped_by(method), Role::UnmappedMethod)?;
    cx.progress.action(&format!("TradeGecko: an order shipped by \"{EXPRESS}\", one by \"{method}\""));
    cx.wait(&[express], OrderStatus::AtWms).await?;
    let got = service_at_wms(cx, express)?;
    ensure!(got == "express", "the Express order went out with service {got:?}");
    cx.progress.ok(&format!("{} at the warehouse with service \"express\"", cx.watch.describe(&[express])));
    cx.wait(&[unmapped], OrderStatus::Error).await?;
    let reason = cx.watch.get(unmapped).and_then(|o| o.status_reason.clone()).unwrap_or_default();
    ensure!(reason == format!("unmapped ship method \"{method}\""), "unexpected reason {reason:?}");
    cx.progress.ok(&format!("stopped in error: {reason}"));

    let path = format!("/admin/carts/{CART}/ship-methods");
    let shown = cx.admin.call(Method::GET, &path, None).await?;
    ensure!(shown.status.is_success(), "GET {path} answered {}", shown.describe());
    cx.progress.ok(&format!("GET {path}: seen {}", seen(&shown.body)));
    let mut table = shown.body.clone();
    table["map"][method] = json!({"service": service});
    cx.progress.action(&format!("PUT {path}  map \"{method}\" → {{\"service\":\"{service}\"}}"));
    let answer = cx.admin.call(Method::PUT, &path, Some(&table)).await?;
    ensure!(answer.status.is_success(), "PUT {path} answered {}", answer.describe());
    cx.wait(&[unmapped], OrderStatus::AtWms).await?;
    let got = service_at_wms(cx, unmapped)?;
    ensure!(got == service, "the mapped order went out with service {got:?}");
    let requeued = &answer.body["requeued_orders"];
    cx.progress.ok(&format!("mapping saved ({requeued} order(s) sent again); delivered with service \"{service}\""));
    Ok(())
}

/// `Express ×1 (express), Pigeon Post ×1 (unmapped)`.
fn seen(view: &Value) -> String {
    let rows = view["seen"].as_array().cloned().unwrap_or_default();
    let row = |r: &Value| {
        let to = r["service"].as_str().map_or_else(|| "unmapped".to_owned(), str::to_owned);
        format!("{} ×{} ({to})", r["label"].as_str().unwrap_or(""), r["orders"])
    };
    rows.iter().map(row).collect::<Vec<_>>().join(", ")
}
